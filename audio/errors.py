"""Why an audio file was refused, in words the person who sent it understands.

Every refusal is an :class:`AudioError` (a ``ValueError``) carrying the HTTP status the API
answers with and a Vietnamese sentence for a commune broadcaster, not an ffmpeg log line.
The technical reason goes in ``detail`` for the server log only.

Status codes: 415 when the file is not audio at all (a PDF, a silent video, random bytes);
413 when it is too big or too long to accept; 422 when it is audio but cannot be used
(empty, damaged or cut off, too short, nothing but silence).
"""

from __future__ import annotations


class AudioError(ValueError):
    """Base of every refusal; ``str(error)`` is the user-facing Vietnamese message."""

    status: int = 422
    default_message: str = "Không xử lý được tệp âm thanh này."

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message)


class UnsupportedFormat(AudioError):
    """The file is not audio we can read: not a sound format, or no sound track in it."""

    status = 415
    default_message = (
        "Tệp không phải âm thanh hoặc định dạng không được hỗ trợ. "
        "Hãy gửi tệp MP3, WAV, M4A, OGG, FLAC hoặc AMR."
    )


class Unplayable(AudioError):
    """The file is audio but damaged, cut off or empty."""

    status = 422
    default_message = "Tệp không phải âm thanh hoặc đã hỏng, không đọc được."


class TooLarge(AudioError):
    """The upload is bigger than ``max_upload_mb``."""

    status = 413
    default_message = "Tệp quá lớn, không nhận được."


class TooLong(AudioError):
    """The recording lasts longer than ``max_duration_s``."""

    status = 413
    default_message = "Bản ghi quá dài, không nhận được."


class TooShort(AudioError):
    """Less sound than ``min_duration_s`` (after the silent edges are cut)."""

    status = 422
    default_message = "Bản ghi quá ngắn, gần như không có nội dung."


class Silent(AudioError):
    """Nothing but silence (or hiss below the silence threshold)."""

    status = 422
    default_message = "Bản ghi chỉ có im lặng, không nghe thấy tiếng."

"""Turn a whole bulletin into one WAV: normalise, split, synthesise (with cache), join.

The fallback rule is per bulletin, not per sentence: if an engine fails on any sentence,
the whole text is spoken again by the next engine, because listeners hearing a bulletin
switch between Google's voice and espeak-ng mid-way would think the radio is broken.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from audio.tts.base import TtsEngine, TtsError, check_speed, find_ffmpeg
from audio.tts.cache import TtsCache
from audio.tts.registry import get_engine
from config import Settings

log = logging.getLogger(__name__)

PAUSE_S = 0.25  # between sentences: long enough to breathe, short enough not to sound stuck
MAX_CHUNK = 200  # characters per synthesised piece: small cache entries, short requests
NORMALIZER_MODULE = "audio.tts.normalize_vi"

_SENTENCE_BREAK = re.compile(r"(?<=[.!?;…])\s+|\s*\n\s*")


@dataclass(frozen=True)
class Spoken:
    """What :func:`speak` produced: one mono WAV at ``settings.sample_rate``, and how.

    ``warnings`` holds the editor-readable reasons earlier engines were passed over (e.g.
    Google unreachable), so the UI can say why the robot voice was used.
    """

    path: Path
    engine: str
    voice: str
    normalized_text: str
    sentences: int
    cached: int
    warnings: tuple[str, ...] = ()


def speak(
    text: str,
    settings: Settings,
    out_dir: Path,
    engine: str | None = None,
    voice: str | None = None,
    speed: float = 1.0,
    normalize: Callable[[str], str] | None = None,
) -> Spoken:
    """Speak ``text`` into ``out_dir`` and describe the result.

    1. Reject text over ``settings.tts_max_chars`` and speeds outside 0.5–2.0.
    2. Normalise (``normalize``, default :mod:`audio.tts.normalize_vi` when present).
    3. Split into sentences of at most ``MAX_CHUNK`` characters; none left → "empty".
    4. Engines: ``engine`` alone if given, else ``settings.tts_order``. Engines without the
       requested voice, or not available here, are passed over.
    5. Per engine, every sentence from the cache or freshly synthesised (then cached); any
       engine failure moves the *whole* text on to the next engine.
    6. Join the sentence files with short pauses into one WAV with ffmpeg.
    If every engine fails, the last :class:`TtsError` is raised.
    """
    if len(text) > settings.tts_max_chars:
        raise TtsError(
            f"Văn bản dài {len(text)} ký tự, vượt giới hạn {settings.tts_max_chars} ký tự; "
            "hãy chia thành nhiều bản tin."
        )
    check_speed(speed)
    normalized = (normalize or _default_normalizer())(text)
    sentences = split_sentences(normalized)
    if not sentences:
        raise TtsError("Văn bản trống hoặc chỉ có dấu câu, không có gì để đọc.")

    cache = TtsCache.from_settings(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    last_error: TtsError | None = None
    for name in [engine] if engine else settings.tts_order:
        tts = get_engine(name, settings)
        chosen = voice or tts.default_voice
        try:
            _usable(tts, chosen)
            files, cached = _synthesize_all(tts, chosen, speed, sentences, cache, out_dir)
        except TtsError as error:
            if engine:  # the editor asked for this engine only
                raise
            log.warning("TTS engine %s passed over: %s", name, error)
            warnings.append(f"{name}: {error}")
            last_error = error
            continue
        path = out_dir / f"tts-{_digest(name, chosen, speed, normalized)[:16]}.wav"
        _join(files, path, settings)
        return Spoken(
            path=path,
            engine=name,
            voice=chosen,
            normalized_text=normalized,
            sentences=len(sentences),
            cached=cached,
            warnings=tuple(warnings),
        )
    assert last_error is not None  # tts_order is never empty (validated in settings)
    raise last_error


def split_sentences(text: str, limit: int = MAX_CHUNK) -> list[str]:
    """Sentences (split after . ! ? ; … and at line breaks), long ones cut to ``limit``.

    A long sentence is cut at its last comma before the limit, else at a space, so each
    piece still ends at a natural breath. Pieces with nothing to pronounce are dropped.
    """
    chunks: list[str] = []
    for piece in _SENTENCE_BREAK.split(text):
        sentence = " ".join(piece.split())
        while len(sentence) > limit:
            cut = sentence.rfind(",", 0, limit) + 1
            if cut < limit // 3:
                cut = sentence.rfind(" ", 0, limit)
            if cut <= 0:
                cut = limit
            head, sentence = sentence[:cut].strip(), sentence[cut:].strip()
            if _speakable(head):
                chunks.append(head)
        if _speakable(sentence):
            chunks.append(sentence)
    return chunks


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _default_normalizer() -> Callable[[str], str]:
    """The Vietnamese normaliser if installed; text as-is otherwise (logged)."""
    try:
        module = importlib.import_module(NORMALIZER_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != NORMALIZER_MODULE:
            raise
        log.warning("%s not found; text is spoken without normalisation", NORMALIZER_MODULE)
        return lambda text: text
    normalize: Callable[[str], str] = module.normalize
    return normalize


def _usable(tts: TtsEngine, voice: str) -> None:
    tts.check_voice(voice)
    if not tts.available():
        raise TtsError(f"Bộ đọc {tts.name} không dùng được trên máy này.", engine=tts.name)


def _synthesize_all(
    tts: TtsEngine,
    voice: str,
    speed: float,
    sentences: Sequence[str],
    cache: TtsCache,
    out_dir: Path,
) -> tuple[list[Path], int]:
    """Every sentence as a cached audio file, in order; also how many were already cached."""
    files: list[Path] = []
    hits = 0
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tts-") as work:
        for index, sentence in enumerate(sentences):
            key = TtsCache.key(tts.name, voice, speed, sentence)
            found = cache.get(key)
            if found is not None:
                hits += 1
                files.append(found)
                continue
            produced = tts.synthesize(sentence, voice, speed, Path(work) / f"s{index:04d}")
            files.append(cache.put(key, produced))
    return files, hits


def _join(files: Sequence[Path], out: Path, settings: Settings) -> None:
    """Concatenate with ``PAUSE_S`` of silence between files into mono s16 WAV, atomically."""
    rate = settings.sample_rate
    steps = []
    for i in range(len(files)):
        pad = f",apad=pad_dur={PAUSE_S}" if i < len(files) - 1 else ""
        fmt = f"aformat=sample_fmts=s16:sample_rates={rate}:channel_layouts=mono"
        steps.append(f"[{i}:a]aresample={rate},{fmt}{pad}[a{i}]")
    labels = "".join(f"[a{i}]" for i in range(len(files)))
    steps.append(f"{labels}concat=n={len(files)}:v=0:a=1[out]")

    fd, temp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".wav")
    os.close(fd)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=out.parent) as script:
        script.write(";\n".join(steps))
        script.flush()
        command = [find_ffmpeg(settings), "-nostdin", "-hide_banner", "-loglevel", "error"]
        for path in files:
            command += ["-i", str(path)]
        command += ["-filter_complex_script", script.name, "-map", "[out]"]
        command += ["-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", "-y", temp_name]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=60 + 2 * len(files))
            os.replace(temp_name, out)
        except (subprocess.SubprocessError, OSError) as exc:
            Path(temp_name).unlink(missing_ok=True)
            detail = getattr(exc, "stderr", b"") or b""
            log.error("ffmpeg join failed: %s", detail.decode("utf-8", "replace")[-500:])
            raise TtsError("Không ghép được các câu thành một tệp âm thanh (lỗi ffmpeg).") from exc


def _digest(engine: str, voice: str, speed: float, text: str) -> str:
    material = f"{engine}\n{voice}\n{round(speed, 2)}\n{text}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()

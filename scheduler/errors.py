"""Domain errors. Each carries the HTTP status the API answers with and, where one input field
is to blame, its name, so every interface (API, CLI, panel) reports the same sentence."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """``code`` names the refusal (``program_archived``…) where one field can be refused for
    several reasons, so an interface picks its own sentence by the code, never by searching
    the English message."""

    status = 400

    def __init__(
        self, message: str, field: str | None = None, *, code: str | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.details = details


class Invalid(DomainError):
    """Bad input: a value that can never be right."""

    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    """Not allowed for this role or outside the caller's subtree."""

    status = 403


class NotFound(DomainError):
    status = 404


class Clash(DomainError):
    """Saving would collide with something of equal standing; ``details['clashes']`` lists it."""

    status = 409


class TooLarge(DomainError):
    status = 413


class UnsupportedMedia(DomainError):
    status = 415


class Unprocessable(DomainError):
    """Well-formed but cannot be used (an unrendered programme, an unplayable file)."""

    status = 422

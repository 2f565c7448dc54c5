"""The agent's side of the HTTP protocol (docs/api.md "Agent protocol"), over ``requests``.

Every call has a timeout: a commune's line can hang rather than fail, and a hung call must
never hold up playback. Failures become two exceptions the runner can act on — the server is
unreachable (keep going from the cache, retry later) or refuses the token (say so loudly).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

VERSION = "loaxa-agent/0.1"


class ServerUnreachable(Exception):
    """No answer, a timeout or a 5xx: work from the cache and try again later."""


class TokenRefused(Exception):
    """401/403: the station token is wrong or was rotated; retrying will not help."""


@dataclass(frozen=True)
class ManifestReply:
    etag: str | None
    body: dict[str, Any] | None  # None for 304 Not Modified


class ServerClient:
    def __init__(self, server: str, token: str, *, timeout: float = 10.0) -> None:
        self.base = server.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {token}", "User-Agent": VERSION})

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith(("http://", "https://")) else self.base + path
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self.http.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise ServerUnreachable(f"{method} {url}: {exc}") from exc
        if response.status_code in (401, 403):
            raise TokenRefused(f"{method} {url}: {response.status_code} {_error_of(response)}")
        if response.status_code >= 500:
            raise ServerUnreachable(f"{method} {url}: {response.status_code}")
        return response

    def manifest(self, etag: str | None, wait: float | None = None) -> ManifestReply:
        """The manifest, or 304 when ``etag`` is still current. With ``wait``, the server
        holds the request up to that many seconds for a change (no broker needed)."""
        headers = {"If-None-Match": f'"{etag}"'} if etag else {}
        params = {"wait": f"{wait:g}"} if wait and etag else None
        timeout = self.timeout + (wait or 0)
        response = self._call(
            "GET", "/api/v1/agent/manifest", headers=headers, params=params, timeout=timeout
        )
        if response.status_code == 304:
            return ManifestReply(etag, None)
        if response.status_code != 200:
            raise ServerUnreachable(f"manifest: {response.status_code} {_error_of(response)}")
        tag = response.headers.get("ETag", "").removeprefix("W/").strip('"') or None
        return ManifestReply(tag, response.json())

    def download(self, url: str) -> Iterator[bytes]:
        """The file's bytes in chunks (the connection streams; nothing held in memory)."""
        response = self._call("GET", url, stream=True)
        if response.status_code != 200:
            response.close()
            raise ServerUnreachable(f"media {url}: {response.status_code}")
        try:
            yield from response.iter_content(chunk_size=1 << 16)
        except requests.RequestException as exc:
            raise ServerUnreachable(f"media {url}: {exc}") from exc
        finally:
            response.close()

    def send_plays(self, records: list[dict[str, Any]]) -> tuple[int, int]:
        response = self._call("POST", "/api/v1/agent/plays", json=records)
        if response.status_code != 200:
            # A 400 means a record the server will never take: report, do not loop on it.
            raise ValueError(f"play logs refused: {response.status_code} {_error_of(response)}")
        body = response.json()
        return int(body["accepted"]), int(body["duplicates"])

    def heartbeat(self, beat: dict[str, Any]) -> dict[str, Any]:
        response = self._call("POST", "/api/v1/agent/heartbeat", json=beat)
        if response.status_code != 200:
            raise ValueError(f"heartbeat refused: {response.status_code} {_error_of(response)}")
        return dict(response.json())


def _error_of(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return response.text[:200]

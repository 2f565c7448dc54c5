"""A CAP ``resource``'s audio brought onto this machine, so the sender's own voice airs.

:func:`fetch_resource` writes the file to ``dest`` — decoded from the embedded ``derefUri``
(a ``data:`` URI once recorded), or downloaded from its ``uri`` — and raises
:class:`ResourceError` saying why it could not, so the alert falls back to the spoken text
with that reason as its note. A download is bounded: only ``http(s)`` hosts listed in
``cap_resource_hosts`` (and their subdomains), ``cap_resource_timeout_s`` for the whole
download, ``cap_resource_max_bytes`` streamed, redirects not followed. When the
sender gives a ``digest`` (SHA-1, CAP 1.2 §3.2.3) the bytes must match it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from config import Settings

CHUNK = 64 * 1024


class ResourceError(Exception):
    """The resource cannot be used; the message says why (English, for the alert's note)."""


def data_uri(mime: str, payload: str) -> str:
    """The embedded ``derefUri`` kept as a ``data:`` URI until it is decoded."""
    return f"data:{mime or 'application/octet-stream'};base64,{''.join(payload.split())}"


def allowed_host(uri: str, hosts: list[str]) -> bool:
    host = (urlsplit(uri).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


def fetch_resource(settings: Settings, uri: str, digest: str | None, dest: Path) -> Path:
    """The resource's bytes at ``dest`` (see the module docstring)."""
    if uri.startswith("data:"):
        data = _decoded(uri, settings.cap_resource_max_bytes)
    else:
        data = _downloaded(settings, uri)
    if digest and hashlib.sha1(data, usedforsecurity=False).hexdigest() != digest.lower():
        raise ResourceError("resource: the audio does not match the message's SHA-1 digest")
    dest.write_bytes(data)
    return dest


def _decoded(uri: str, most: int) -> bytes:
    payload = uri.split(",", 1)[1] if "," in uri else ""
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ResourceError("resource: derefUri is not valid base64") from None
    if len(data) > most:
        raise ResourceError(f"resource: the embedded audio is over {most} bytes")
    if not data:
        raise ResourceError("resource: derefUri is empty")
    return data


def _downloaded(settings: Settings, uri: str) -> bytes:
    scheme = urlsplit(uri).scheme.lower()
    if scheme not in {"http", "https"}:
        raise ResourceError(f"resource: {scheme or 'no'} scheme; only http(s) is fetched")
    hosts = settings.resource_hosts
    if not allowed_host(uri, hosts):
        host = urlsplit(uri).hostname
        raise ResourceError(
            f"resource: host {host} is not in cap_resource_hosts "
            f"({', '.join(hosts) or 'none are allowed'})"
        )
    most, limit = settings.cap_resource_max_bytes, settings.cap_resource_timeout_s
    deadline = time.monotonic() + limit
    try:
        with requests.get(uri, stream=True, timeout=limit, allow_redirects=False) as response:
            if response.status_code != 200:
                raise ResourceError(f"resource: {uri} answered HTTP {response.status_code}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > most:
                raise ResourceError(f"resource: {uri} is {length} bytes, over {most}")
            data = bytearray()
            for chunk in response.iter_content(CHUNK):
                data += chunk
                if len(data) > most:
                    raise ResourceError(f"resource: {uri} is over {most} bytes")
                if time.monotonic() > deadline:
                    raise ResourceError(f"resource: {uri} took over {limit:g} s to fetch")
    except requests.RequestException as exc:
        raise ResourceError(
            f"resource: {uri} could not be fetched ({type(exc).__name__})"
        ) from None
    if not data:
        raise ResourceError(f"resource: {uri} is empty")
    return bytes(data)

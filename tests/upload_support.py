"""Uploading a recording in a test, through the API (``upload``) or the panel's form
(``panel_upload``), and the files that then sit in the media store (``stored_files``)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Flask

from tests.panel_support import PanelClient, csrf_token


def upload(caller: Any, path: Path, **form: str) -> Any:
    """``POST /api/v1/segments`` of the file at ``path`` as ``caller``."""
    data = {"title": "Bản tin học tập suốt đời", **form}
    with path.open("rb") as fh:
        data["file"] = (io.BytesIO(fh.read()), path.name)
    return caller.post("/api/v1/segments", data=data, content_type="multipart/form-data")


def panel_upload(client: PanelClient, path: Path | None, xhr: bool = False, **form: str) -> Any:
    """The panel's ``/segments/new`` form posted with the file at ``path`` (none: no file),
    as the page's script sends it when ``xhr``."""
    token = csrf_token(client.get("/segments/new").get_data(as_text=True))
    data: dict[str, Any] = {"csrf_token": token, "title": "Bản tin học tập suốt đời",
                            "owner": "347", **form}  # fmt: skip
    if path is not None:
        data["file"] = (io.BytesIO(path.read_bytes()), path.name)
    headers = {"X-Requested-With": "XMLHttpRequest"} if xhr else {}
    return client.post("/segments/new", data=data, content_type="multipart/form-data",
                       headers=headers)  # fmt: skip


def stored_files(app: Flask) -> list[Path]:
    root = app.extensions["loaxa"]["settings"].resolved_media_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []

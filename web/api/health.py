"""``GET /api/v1/health`` — for load balancers and monitoring; no authentication."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from flask import Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.api import bp
from web.db import session


def app_version() -> str:
    try:
        return version("loaxa")
    except PackageNotFoundError:
        return "0+unknown"


@bp.get("/health")
def health() -> Response:
    try:
        session().execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError:
        database = "unavailable"
    response = jsonify(
        {
            "status": "ok" if database == "ok" else "degraded",
            "version": app_version(),
            "database": database,
        }
    )
    response.status_code = 200 if database == "ok" else 503
    return response

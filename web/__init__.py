"""The Flask application: control panel, JSON API and feeds.

``create_app`` wires everything and starts nothing: no threads, no schedulers, no network.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_settings
from scheduler.db import make_engine, make_sessionmaker
from scheduler.jobs import Jobs
from scheduler.manifest_store import open_store
from scheduler.push import Publisher
from web import auth, db, i18n, panel
from web.account import bp as account_bp
from web.admin import bp as admin_bp
from web.alerts import bp as alerts_bp
from web.api import bp as api_bp
from web.audit import bp as audit_bp
from web.bulletins import bp as bulletins_bp
from web.feeds import bp as feeds_bp
from web.home import bp as home_bp
from web.programs import bp as programs_bp
from web.readings import bp as readings_bp
from web.relay import bp as relay_bp
from web.reports import bp as reports_bp
from web.schedule import bp as schedule_bp
from web.segments import bp as segments_bp
from web.stations import bp as stations_bp


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    overrides = dict(test_config or {})
    instance_path = overrides.pop("instance_path", None)
    settings = load_settings(instance_path=instance_path, **overrides)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.config.update(SECRET_KEY=settings.secret_key, JSON_SORT_KEYS=False)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    engine = make_engine(settings.database_url)
    app.extensions["loaxa"] = {
        "settings": settings,
        "engine": engine,
        "sessions": make_sessionmaker(engine),
        # Connects on the first publish, not here; None when no broker is configured.
        "push": Publisher(settings.mqtt_url, "loaxa-server") if settings.mqtt_url else None,
    }
    loaxa = app.extensions["loaxa"]
    loaxa["manifest_store"] = open_store(engine, settings.redis_url)
    # Threads start on the first job queued here (or ``Jobs.start``), not now.
    loaxa["jobs"] = Jobs(
        loaxa["sessions"],
        settings,
        db.make_announcer(loaxa["push"], loaxa["sessions"]),
        manifests=loaxa["manifest_store"],
        lease_s=settings.job_lease_s,
    )
    # Uploads over the limit are refused while the body is read, not after.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_mb * 1024 * 1024 + 64 * 1024
    db.init_app(app)
    i18n.init_app(app)
    panel.init_app(app)
    auth.init_app(app)

    app.register_blueprint(api_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(bulletins_bp)
    # The API and the feeds authenticate with bearer tokens, never the session cookie, so a
    # forged cross-site request carries no credentials there: no CSRF token needed.
    auth.csrf.exempt(api_bp)
    auth.csrf.exempt(feeds_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(stations_bp)
    app.register_blueprint(relay_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(schedule_bp)
    app.register_blueprint(segments_bp)
    app.register_blueprint(programs_bp)
    app.register_blueprint(readings_bp)
    return app

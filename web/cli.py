"""The ``loaxa`` command line (API.md "Command line").

Each command is a thin shell around a service function: it opens one transaction, calls the
service, commits, and prints. Domain errors become a one-line message and exit status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from config import ConfigError, Settings, load_settings
from config.directory import DirectoryError
from scheduler import accounts
from scheduler.db import make_engine, make_sessionmaker, now_utc, transaction, upgrade
from scheduler.errors import DomainError
from scheduler.schedule import station_timeline
from scheduler.seed import load_demo, seed_campaigns
from scheduler.stations import get_station, import_directory

F = TypeVar("F", bound=Callable[..., Any])
OUTCOME_MARK = {"scheduled": " ", "shifted": "→", "truncated": "✂", "preempted": "✗"}


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _friendly(command: F) -> F:
    """Turn domain and data errors into one readable line instead of a traceback."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (DomainError, DirectoryError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapped  # type: ignore[return-value]


@click.group(help="Loa Xã — scheduling and automatic playback for grassroots radio.")
def main() -> None:
    pass


@main.command(help="Create or upgrade the database; --demo loads the Hà Nam 2024 network.")
@click.option("--demo", is_flag=True, help="Also load stations, demo users and a schedule.")
@_friendly
def init(demo: bool) -> None:
    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    click.echo(f"Database ready: {shown}")
    with _session(settings) as session:
        added = seed_campaigns(session)
        if added:
            click.echo(f"Campaigns added: {added}")
        if demo:
            report = load_demo(session, settings, now_utc())
            click.echo(
                f"Stations: {report.stations} (Hà Nam 2024); demo broadcasts: {report.broadcasts}"
            )
            click.echo(f"Demo accounts (password: {report.password}):")
            for username, role, station in report.users:
                click.echo(f"  {username:<22} {role:<9} station {station}")


@main.command(help="Serve the control panel and API (default http://127.0.0.1:8080).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, threads: int) -> None:
    from waitress import serve as waitress_serve

    from web import create_app

    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    click.echo(f"Loa Xã on http://{host}:{port}/ (Ctrl+C to stop)")
    waitress_serve(app, host=host, port=port, threads=threads, ident="loaxa")


@main.group(help="The station tree.")
def stations() -> None:
    pass


@stations.command("import", help="Import a tree: 'ha-nam-2024' or a JSON/YAML file.")
@click.argument("source")
@_friendly
def stations_import(source: str) -> None:
    settings = _settings()
    with _session(settings) as session:
        report = import_directory(session, source, now_utc(), timezone=settings.timezone)
    click.echo(f"{report.total} stations: {report.created} new, {report.updated} updated")


@main.group(help="People who use the panel and the API.")
def user() -> None:
    pass


@user.command("add", help="Create a user with a role, scoped to a station's subtree.")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "editor", "approver", "operator"])
)
@click.option("--station", "station_code", required=True, help="Station code (the user's scope).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--full-name", default="")
@_friendly
def user_add(username: str, role: str, station_code: str, password: str, full_name: str) -> None:
    with _session(_settings()) as session:
        created = accounts.add_user(
            session, now_utc(), username, password, role, station_code, full_name
        )
        click.echo(f"User {created.username} ({role}) for station {station_code} created")


@main.group(help="Station agent tokens.")
def token() -> None:
    pass


@token.command("new", help="Issue (rotate) a station's agent token; it is printed once.")
@click.argument("station_code")
@_friendly
def token_new(station_code: str) -> None:
    with _session(_settings()) as session:
        secret = accounts.new_station_token(session, now_utc(), station_code)
    click.echo(secret)


@main.group("api-token", help="Personal API tokens for scripts.")
def api_token() -> None:
    pass


@api_token.command("new", help="Issue a personal API token; it is printed once.")
@click.argument("username")
@_friendly
def api_token_new(username: str) -> None:
    with _session(_settings()) as session:
        secret = accounts.new_api_token(session, now_utc(), username)
    click.echo(secret)


@main.command(help="Print a station's resolved timeline.")
@click.argument("station_code")
@click.option(
    "--date", "first", type=click.DateTime(["%Y-%m-%d"]), help="First day (default today)."
)
@click.option("--days", default=1, show_default=True, type=click.IntRange(1, 62))
@_friendly
def timeline(station_code: str, first: Any, days: int) -> None:
    settings = _settings()
    with _session(settings) as session:
        station = get_station(session, station_code)
        zone = ZoneInfo(station.timezone)
        day: date = first.date() if first else now_utc().astimezone(zone).date()
        entries = station_timeline(
            session,
            station,
            day,
            day + timedelta(days=days - 1),
            timedelta(seconds=settings.min_fragment_s),
        )
        click.echo(f"{station.code} {station.station_name} — {station.timezone}")
        current = None
        for entry in entries:
            start, end = entry.start.astimezone(zone), entry.end.astimezone(zone)
            if start.date() != current:
                current = start.date()
                click.echo(f"\n{current.day}/{current.month}/{current.year}")
            airing = entry.occurrence.payload
            why = f"  ({entry.outcome} by #{entry.by})" if entry.outcome != "scheduled" else ""
            click.echo(
                f" {OUTCOME_MARK[entry.outcome]} {start:%H:%M}–{end:%H:%M}  {airing.priority:<9} "
                f"{airing.kind:<7} {airing.origin:<6} #{airing.broadcast} {airing.title}{why}"
            )
        if not entries:
            click.echo("(nothing scheduled)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

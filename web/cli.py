"""The ``loaxa`` command line (docs/api.md "Command line").

Each command is a thin shell around a service function: it opens one transaction, calls the
service, commits, and prints. Domain errors become a one-line message and exit status 1.
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from audio.errors import AudioError
from audio.tts.base import TtsError
from config import ConfigError, Settings, load_settings
from config.directory import DirectoryError
from scheduler import accounts, segments
from scheduler.agent.main import agent
from scheduler.db import make_engine, make_sessionmaker, now_utc, transaction, upgrade
from scheduler.errors import DomainError
from scheduler.models import Role, Station, User
from scheduler.resume import resume_interrupted
from scheduler.seed import load_demo, seed_campaigns
from scheduler.station_timelines import station_timeline
from scheduler.stations import get_station, import_directory, retire
from web.schedule.recurrence import vn_date

F = TypeVar("F", bound=Callable[..., Any])
OUTCOME_MARK = {"scheduled": " ", "shifted": "→", "truncated": "✂", "preempted": "✗"}


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    with _engine(settings) as engine, transaction(make_sessionmaker(engine)) as session:
        yield session


def _friendly(command: F) -> F:
    """Turn domain and data errors into one readable line instead of a traceback."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (DomainError, DirectoryError, AudioError, TtsError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapped  # type: ignore[return-value]


@click.group(help="Loa Xã — scheduling and automatic playback for grassroots radio.")
def main() -> None:
    pass


main.add_command(agent)


@main.command(help="Create or upgrade the database; --demo loads the Hà Nam 2024 network.")
@click.option("--demo", is_flag=True, help="Also load stations, demo users and a schedule.")
@click.option(
    "--map",
    "admin_map",
    type=click.Choice(["2024", "2025"]),
    default="2024",
    show_default=True,
    help="The demo: Hà Nam (2024 map) or the new Ninh Bình (2025 map).",
)
@_friendly
def init(demo: bool, admin_map: str) -> None:
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
            report = load_demo(session, settings, now_utc(), admin_map)
            network = "Hà Nam 2024" if admin_map == "2024" else "Ninh Bình 2025"
            click.echo(
                f"Stations: {report.stations} ({network}); demo broadcasts: {report.broadcasts}"
            )
            if report.bulletins:
                click.echo(f"Sample bulletins spoken by the offline voice: {report.bulletins}")
            elif report.skipped:
                click.echo(f"Sample bulletins skipped: {report.skipped}")
            click.echo(f"Demo accounts (password: {report.password}):")
            for username, role, station in report.users:
                click.echo(f"  {username:<22} {role:<9} station {station}")


@main.command(help="Serve the control panel and API (default http://127.0.0.1:8080).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--threads",
    default=16,
    show_default=True,
    type=click.IntRange(1, 512),
    help="Request threads; agents without a broker hold one each (demo agents are added).",
)
@click.option(
    "--demo-agents",
    default=0,
    show_default=True,
    type=click.IntRange(0, 50),
    help="Also run this many station agents in-process (no sound), for demos.",
)
@click.option(
    "--server-jobs/--no-server-jobs",
    default=True,
    show_default=True,
    help="Also run the server's periodic jobs (relay source sampling, report days).",
)
def serve(host: str, port: int, threads: int, demo_agents: int, server_jobs: bool) -> None:
    from waitress import serve as waitress_serve

    from scheduler.server_jobs import ServerJobs
    from web import create_app

    try:
        app = create_app()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    sessions = app.extensions["loaxa"]["sessions"]
    jobs = app.extensions["loaxa"]["jobs"]
    resumed = resume_interrupted(sessions, app.extensions["loaxa"]["settings"], jobs)
    jobs.start()  # this process runs the queue (and takes up what another left behind)
    if resumed.total:
        click.echo(
            f"Picked up again from the last run: {resumed.renders} render(s), "
            f"{resumed.speeches} bulletin(s) to speak, {resumed.ingests} upload(s)"
        )
    if resumed.failed:
        click.echo(f"{resumed.failed} upload(s) whose file was gone marked failed")
    if server_jobs:
        ServerJobs(sessions, app.extensions["loaxa"]["settings"]).start()
    agents = []
    if demo_agents:
        from web.demo_agents import schedule_warm_up, start_demo_agents

        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        agents = start_demo_agents(
            sessions, app.extensions["loaxa"]["settings"], f"http://{local}:{port}", demo_agents
        )
        click.echo(f"Demo agents (no sound) for stations: {', '.join(a.name for a in agents)}")
        codes = [a.name for a in agents]
        settings = app.extensions["loaxa"]["settings"]
        if at := schedule_warm_up(sessions, settings, codes, now_utc()):
            click.echo(f"A test broadcast of the demo bulletins airs there at {at}.")
    click.echo(f"Loa Xã on http://{host}:{port}/ (Ctrl+C to stop)")
    # SIGTERM (systemd, docker stop) unwinds like Ctrl+C: demo agents log what was on air.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        # Each demo agent holds a manifest request open (no broker): a thread of its own.
        waitress_serve(app, host=host, port=port, threads=threads + len(agents), ident="loaxa")
    finally:
        for agent in agents:
            agent.stop()


@main.command(
    "server-jobs",
    help="Run the server's periodic jobs: relay sources sampled during their windows, "
    "finished days written down for reports. One per deployment ('serve' runs one itself). "
    "Runs until stopped.",
)
@_friendly
def server_jobs_command() -> None:
    from scheduler.server_jobs import ServerJobs

    settings = _settings()
    jobs = ServerJobs(make_sessionmaker(make_engine(settings.database_url)), settings).start()
    for _ in range(20):  # a moment to learn whether another process already leads
        if jobs.leading:
            break
        time.sleep(0.1)
    if jobs.leading and not jobs.sampler.running:
        click.echo("fpcalc is not installed: relays will not be checked against their sources")
    standby = "Another process leads the server jobs: standing by to take over"
    click.echo(f"{'Server jobs running' if jobs.leading else standby} (Ctrl+C to stop)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        jobs.stop()


@main.group(help="The station tree.")
def stations() -> None:
    pass


@stations.command(
    "import", help="Import a tree: 'ha-nam-2024', 'vn-2025' (the 2025 map) or a JSON/YAML file."
)
@click.argument("source")
@click.option("--province", default=None, help="Only this province (e.g. 37) and what it holds.")
@_friendly
def stations_import(source: str, province: str | None) -> None:
    settings = _settings()
    with _session(settings) as session:
        report = import_directory(
            session, source, now_utc(), timezone=settings.timezone, province=province
        )
    click.echo(f"{report.total} stations: {report.created} new, {report.updated} updated")


@stations.command("retire", help="From a date, no new broadcast may target the station.")
@click.argument("code")
@click.option(
    "--on",
    "on",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="The first day it no longer broadcasts (YYYY-MM-DD).",
)
@_friendly
def stations_retire(code: str, on: datetime) -> None:
    settings = _settings()
    with _session(settings) as session:
        station = get_station(session, code)
        changed = retire(session, station, on.date(), now_utc(), "cli")
    day = vn_date(on.date())
    said = "retired from" if changed else "was already retired from; nothing to do:"
    click.echo(f"{station.name} ({code}) {said} {day}")


@stations.command("migrate", help="Move the 2024 network onto the 2025 two-level map.")
@click.option("--to", "to", required=True, type=click.Choice(["2025"]))
@click.option("--dry-run", is_flag=True, help="Print what would happen; change nothing.")
@click.option(
    "--on",
    "on",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The first day on the new map (default: today).",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(path_type=Path),
    default=None,
    help="A CSV/JSON decision (old,new,default), not the official one.",
)
@_friendly
def stations_migrate(
    to: str, dry_run: bool, on: datetime | None, mapping_file: Path | None
) -> None:
    from config.map2025 import official, read_mapping
    from scheduler import remap
    from web.migrate_text import render

    settings = _settings()
    mapping = read_mapping(mapping_file) if mapping_file else official()
    day = on.date() if on else now_utc().astimezone(ZoneInfo(settings.timezone)).date()
    with _session(settings) as session:
        plan = remap.plan(session, mapping, day)
        if plan.empty:
            click.echo(
                "Không còn đài nào trên bản đồ 2024 cần chuyển: mạng đã ở bản đồ 2025. "
                "Không thay đổi gì."
            )
            return
        if not dry_run:
            remap.apply(session, plan, mapping, now_utc(), "cli")
        click.echo(render(plan, mapping, dry_run))
        if dry_run:
            session.rollback()


@main.command(help="Back up the database and the media into one .tar.gz archive.")
@click.argument("archive", required=False, type=click.Path(path_type=Path))
@_friendly
def backup(archive: Path | None) -> None:
    from scheduler import backup as backups

    settings = _settings()
    if archive is None:
        stamp = now_utc().astimezone(ZoneInfo(settings.timezone)).strftime("%Y%m%d-%H%M%S")
        archive = settings.instance_path / "backups" / f"loaxa-{stamp}.tar.gz"
    with _engine(settings) as engine:
        done = backups.dump(engine, settings.resolved_media_dir, archive)
    rows = sum(done.tables.values())
    click.echo(
        f"{archive}: {rows} rows in {len(done.tables)} tables, {done.media} media files "
        f"(schema {done.revision}, {done.seconds:.1f} s)"
    )


@main.command(help="Restore a backup into an empty database (and its media folder).")
@click.argument("archive", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_friendly
def restore(archive: Path) -> None:
    from scheduler import backup as backups
    from scheduler.manifest_store import open_store

    settings = _settings()
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    with _engine(settings) as engine:
        done = backups.restore(engine, settings.resolved_media_dir, archive)
        # Manifests kept in Redis by the server this replaces name revisions the restored
        # stations will count again: forget them, so no agent is served a stranger's plan.
        open_store(engine, settings.redis_url).clear()
    rows = sum(done.tables.values())
    click.echo(
        f"restored {rows} rows and {done.media} media files from {archive} ({done.seconds:.1f} s)"
    )


@main.command(
    "mqtt-acl",
    help="Print (or write) the Mosquitto ACL: each station reads only "
    "its own and its ancestors' topics; the server writes.",
)
@click.option("--out", "out", type=click.Path(path_type=Path), default=None)
@click.option("--server-user", default="loaxa-server", show_default=True)
@_friendly
def mqtt_acl(out: Path | None, server_user: str) -> None:
    from scheduler.push import acl

    settings = _settings()
    with _session(settings) as session:
        stations = session.scalars(select(Station).order_by(Station.depth, Station.code)).all()
        text = acl(stations, server_user)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, "utf-8")
        click.echo(f"{out}: {len(stations)} stations")


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


@main.group(help="Audio segments (uploads and bulletins).")
def segment() -> None:
    pass


@segment.command("add", help="Add an audio file as a segment: checked, trimmed, normalised.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", required=True)
@click.option("--owner", help="Station code (default: the user's station).")
@click.option("--campaign", help="Campaign code, e.g. xhht-2023-2030.")
@click.option("--topic", help="Topic code within the campaign.")
@click.option("--user", "username", help="Act as this user (default: the first admin).")
@_friendly
def segment_add(
    file: Path,
    title: str,
    owner: str | None,
    campaign: str | None,
    topic: str | None,
    username: str | None,
) -> None:
    settings = _settings()
    with _session(settings) as session:
        actor = _actor(session, username)
        meta = segments.prepare(session, actor, title, owner, campaign, topic)
        # No job runner here, and the lines below report the result: ingested now.
        stored = segments.store_upload(
            session, settings, actor, meta, file, file.name, now_utc(), jobs=None
        )
    created, done = stored.segment, stored.ingested
    assert done is not None  # without jobs nothing is left for later
    analysis = done.analysis
    click.echo(
        f"Segment {created.id}: {done.duration_ms / 1000:.1f} s, "
        f"{analysis.get('loudness_before_lufs', float('nan')):.1f} → "
        f"{analysis.get('loudness_after_lufs', float('nan')):.1f} LUFS, sha256 {done.sha256[:12]}…"
    )


@main.command(help="Speak Vietnamese text into a broadcast-ready MP3.")
@click.argument("text")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--engine", type=click.Choice(["gtts", "espeak"]), help="Default: the fallback list.")
@click.option("--voice", type=click.Choice(["north", "central", "south"]))
@click.option("--speed", default=1.0, show_default=True, type=click.FloatRange(0.5, 2.0))
@_friendly
def tts(text: str, output: Path, engine: str | None, voice: str | None, speed: float) -> None:
    settings = _settings()
    done, used, used_voice, spoken = segments.spoken_segment(settings, text, engine, voice, speed)
    shutil.copyfile(done.path, output)
    click.echo(f"{output}: {done.duration_ms / 1000:.1f} s, engine {used} ({used_voice})")
    click.echo(f"Đọc: {spoken}")


def _actor(session: Session, username: str | None) -> User:
    query = select(User).where(User.active.is_(True))
    if username:
        query = query.where(User.username == username)
    else:
        query = query.where(User.role == Role.admin).order_by(User.id)
    actor = session.scalars(query).first()
    if actor is None:
        raise click.ClickException(
            f"no user {username!r}"
            if username
            else "no admin yet: run `loaxa init --demo` "
            "or `loaxa user add NAME --role admin --station CODE`"
        )
    return actor


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
            until = f"{end:%H:%M:%S}" if end.second else f"{end:%H:%M}"  # short programmes
            click.echo(
                f" {OUTCOME_MARK[entry.outcome]} {start:%H:%M}–{until}  {airing.priority:<9} "
                f"{airing.kind:<7} {airing.origin:<6} #{airing.broadcast} {airing.title}{why}"
            )
        if not entries:
            click.echo("(nothing scheduled)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

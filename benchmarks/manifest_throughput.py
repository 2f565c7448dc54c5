"""Benchmark: the agent manifest endpoint under gunicorn — cheap 304s and full 200s.

docs/architecture.md "Pull first, push to hurry": agents poll ``GET /api/v1/agent/manifest`` with
``If-None-Match`` every 15 s, so the ``304`` answer is what a national server mostly serves
(10,000 stations / 15 s ≈ 670 req/s). Target: ≥ 2,000 req/s for 304 on 2 workers.

For each database (SQLite file, then PostgreSQL database ``loaxa_bench``):

1. Build the Hà Nam 2024 network the way ``loaxa init --demo`` does (stations, demo users,
   the demo schedule with its spoken bulletins), then a realistic week on top: per district a
   daily programme and a Monday–Saturday relay, per commune a daily bulletin; a station token
   for every station (105).
2. Serve ``web.wsgi:app`` with gunicorn, 2 sync workers; fetch each station's manifest once
   to learn its ETag.
3. Load it with wrk (one thread, so the load generator takes as little CPU as it can from the
   two cores), rotating over every station's token: (a) ``If-None-Match`` with the current
   ETag → 304; (b) no ETag → a full manifest (200) each time; (c) no token at all → 401, the
   floor of gunicorn + Flask + HTTP with no database work. Best of 3 runs per figure.
4. The same 304 request in-process (Flask test client, one thread, no HTTP): what the
   application itself costs per request, against what gunicorn and HTTP add.

Run from the project root (needs ``wrk``: ``apt-get install wrk``)::

    .venv/bin/python benchmarks/manifest_throughput.py [--quick] [--seconds 8] [--repeat 3]

The PostgreSQL run creates and finally drops the database ``loaxa_bench`` (``--pg-admin-url``
says where; ``--no-postgres`` skips it). Nothing else is touched; gunicorn is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import shlex
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from config import load_settings
from scheduler.accounts import new_station_token
from scheduler.db import make_engine, make_sessionmaker, now_utc, upgrade
from scheduler.models import (
    Broadcast,
    BroadcastStatus,
    BroadcastTarget,
    ConflictPolicy,
    Kind,
    MediaFile,
    Priority,
    Program,
    Station,
)
from scheduler.seed import load_demo, seed_campaigns

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin: gunicorn lives beside this python
LUA = ROOT / "benchmarks" / "manifest.lua"
MANIFEST = "/api/v1/agent/manifest"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "loaxa_bench"  # the only database this script creates or drops
TARGET_304 = 2000.0
MON_SAT = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA"
STREAMS = "https://stream.loaxa.example"
LABELS = {
    "304": "304 Not Modified (If-None-Match with the station's current ETag)",
    "200": "200 full manifest (no ETag sent)",
    "401": "401 floor (no token: gunicorn + Flask + HTTP only, no database work)",
}


# --- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def tool_version(*command: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "?"


def machine_lines(extra_versions: Sequence[tuple[str, str]] = ()) -> list[str]:
    """What the figures were measured on: CPU, cores, memory, OS and every version involved."""
    uname = platform.uname()
    load = os.getloadavg()
    packages = ["gunicorn", "Flask", "Werkzeug", "SQLAlchemy", "psycopg", "paho-mqtt"]
    versions = [f"{name} {metadata.version(name)}" for name in packages]
    lines = [
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {memory_gib():.0f} GiB RAM; "
        f"{uname.system} {uname.release} {uname.machine}",
        f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other work on this machine shares the cores)",
        f"python: {platform.python_implementation()} {platform.python_version()}; "
        + ", ".join(versions)
        + f"; SQLite {sqlite3.sqlite_version}",
    ]
    lines += [f"{name}: {version}" for name, version in extra_versions]
    return lines


# --- databases -----------------------------------------------------------------------------


def psql_command(admin_url: str, sql: str) -> list[str]:
    parts = urlparse(admin_url)
    return [
        "psql", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", parts.username or "postgres", "-d", parts.path.lstrip("/") or "postgres",
        "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql,
    ]  # fmt: skip


def psql(admin_url: str, sql: str) -> str:
    done = subprocess.run(
        psql_command(admin_url, sql), capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def bench_url(admin_url: str) -> str:
    parts = urlparse(admin_url)
    return parts._replace(path=f"/{BENCH_DB}").geturl()


@contextmanager
def database(kind: str, tmp: Path, admin_url: str, commands: list[str]) -> Iterator[str]:
    """A fresh, empty database: a SQLite file in ``tmp``, or PostgreSQL ``loaxa_bench``
    (created here, dropped on the way out)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'{kind}.db'}"
        return
    drop = f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'
    create = f'CREATE DATABASE "{BENCH_DB}"'
    psql(admin_url, drop)
    psql(admin_url, create)
    commands.append(shlex.join(psql_command(admin_url, create)))
    try:
        yield bench_url(admin_url)
    finally:
        psql(admin_url, drop)
        commands.append(shlex.join(psql_command(admin_url, drop)))


def analyze(url: str) -> None:
    """PostgreSQL: refresh the planner's statistics after the bulk set-up, as autovacuum would
    have done on a server that has been running for a while."""
    if not url.startswith("postgresql"):
        return
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def server_version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                return f"SQLite {sqlite3.sqlite_version}"
            return str(connection.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()


# --- the network and its week --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    timezone: str


def load_nodes(session: Session) -> list[Node]:
    rows = session.execute(
        select(
            Station.id, Station.code, Station.name, Station.level, Station.parent_id,
            Station.timezone,
        ).order_by(Station.path)
    )  # fmt: skip
    return [Node(*row) for row in rows]


def add_week(
    session: Session,
    now: datetime,
    media: MediaFile | None = None,
    province_relays: bool = True,
    has_relay: Sequence[str] = (),
) -> Counter[str]:
    """A realistic approved schedule on top of whatever is there (bulk inserts, like
    benchmarks/timeline_national.py): per province the news relay 05:30, VOV1 06:00 and 18:00
    (``province_relays``); per district a daily programme 11:30 (its own programme, audio
    ``media`` — a placeholder file row when None) and a relay 17:00 Monday–Saturday (unless
    listed in ``has_relay``); per commune a daily local bulletin 06:45 (its district's
    programme). Rules were set up four weeks ago, as real ones are."""
    nodes = load_nodes(session)
    if media is None:
        media = MediaFile(
            sha256="0" * 63 + "1", bytes=19_200_000, duration_ms=20 * 60 * 1000,
            created_at=now, analysis={"benchmark": "placeholder, no file"},
        )  # fmt: skip
        session.add(media)
        session.flush()
    by_district: dict[int, int] = {}
    for node in nodes:
        if node.level != "district":
            continue
        program = Program(
            title=f"Chương trình phát thanh {node.name}", owner_id=node.id, status="ready",
            media_file_id=media.id, duration_ms=media.duration_ms, created_at=now,
        )  # fmt: skip
        session.add(program)
        session.flush()
        by_district[node.id] = program.id
    rows: list[dict[str, Any]] = []
    targets: list[int] = []
    counts: Counter[str] = Counter()

    def add(node: Node, title: str, at: str, kind: Kind, rrule: str, **what: Any) -> None:
        zone = ZoneInfo(node.timezone)
        first = (now.astimezone(zone) - timedelta(days=28)).date()
        hours, minutes = (int(x) for x in at.split(":"))
        rows.append({
            "title": title, "owner_id": node.id, "kind": kind, "program_id": None,
            "source_id": None, "stream_url": None,
            "start_local": datetime(first.year, first.month, first.day, hours, minutes),  # noqa: DTZ001 (wall time)
            "timezone": node.timezone, "duration_s": None, "rrule": rrule, "until": None,
            "priority": Priority.normal,
            "conflict": ConflictPolicy.truncate if kind == Kind.relay else ConflictPolicy.shift,
            "max_delay_s": 1800, "status": BroadcastStatus.approved, "forced": False,
            "approved_at": now, "created_at": now, "updated_at": now, **what,
        })  # fmt: skip
        targets.append(node.id)
        counts[f"{node.level} {kind.value}"] += 1

    for node in nodes:
        if node.level == "province" and province_relays:
            news = f"{STREAMS}/{node.code}/live"
            vov = f"{STREAMS}/vov1/live"
            add(node, f"Thời sự {node.name}", "05:30", Kind.relay, "FREQ=DAILY",
                stream_url=news, duration_s=1800)  # fmt: skip
            add(node, "Tiếp âm Thời sự VOV1", "06:00", Kind.relay, "FREQ=DAILY",
                stream_url=vov, duration_s=1800)  # fmt: skip
            add(node, "Tiếp âm Thời sự VOV1 (chiều)", "18:00", Kind.relay, "FREQ=DAILY",
                stream_url=vov, duration_s=1800)  # fmt: skip
        elif node.level == "district":
            add(node, f"Chương trình phát thanh {node.name}", "11:30", Kind.program,
                "FREQ=DAILY", program_id=by_district[node.id])  # fmt: skip
            if node.code not in has_relay:
                add(node, f"Tiếp sóng {node.name} (chiều)", "17:00", Kind.relay, MON_SAT,
                    stream_url=f"{STREAMS}/{node.code}/live", duration_s=1800)  # fmt: skip
        elif node.level == "commune" and node.parent_id in by_district:
            add(node, f"Bản tin {node.name}", "06:45", Kind.program, "FREQ=DAILY",
                program_id=by_district[node.parent_id])  # fmt: skip
    ids = list(
        session.scalars(
            insert(Broadcast).returning(Broadcast.id, sort_by_parameter_order=True), rows
        )
    )
    session.execute(
        insert(BroadcastTarget),
        [{"broadcast_id": b, "station_id": s} for b, s in zip(ids, targets, strict=True)],
    )
    return counts


def issue_tokens(session: Session, now: datetime, codes: Sequence[str]) -> dict[str, str]:
    """A station token for each code (``loaxa token new CODE``)."""
    return {code: new_station_token(session, now, code, actor="benchmark") for code in codes}


@dataclass
class Network:
    stations: int
    broadcasts: int
    tokens: dict[str, str]
    described: list[str]
    setup_s: float


def build_hanam(url: str, instance: Path) -> Network:
    """``loaxa init --demo`` (Hà Nam 2024), then the week of :func:`add_week`, then tokens."""
    began = time.perf_counter()
    settings = load_settings(
        instance_path=instance,
        environ={"LOAXA_DATABASE_URL": url, "LOAXA_TTS_ENGINE": "espeak"},
    )
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    now = now_utc()
    with factory() as session:
        seed_campaigns(session)
        demo = load_demo(session, settings, now)
        session.commit()
    with factory() as session:
        program = session.scalar(
            select(Program).where(Program.status == "ready").order_by(Program.id)
        )
        media = program.media_file if program is not None else None
        has_relay = [
            code
            for code in session.scalars(
                select(Station.code)
                .join(Broadcast, Broadcast.owner_id == Station.id)
                .where(Station.level == "district", Broadcast.kind == Kind.relay)
            )
        ]
        week = add_week(session, now, media, province_relays=False, has_relay=has_relay)
        nodes = load_nodes(session)
        tokens = issue_tokens(session, now, [n.code for n in nodes])
        session.commit()
        total = session.scalar(select(func.count(Broadcast.id))) or 0
    engine.dispose()
    analyze(url)
    levels = Counter(n.level for n in nodes)
    described = [
        f"network: Hà Nam 2024 (loaxa init --demo): {len(nodes)} stations "
        f"({levels['province']} province, {levels['district']} districts, "
        f"{levels['commune']} communes); demo broadcasts {demo.broadcasts} "
        f"(spoken bulletins {demo.bulletins}{'; ' + demo.skipped if demo.skipped else ''})",
        "  + a week: "
        + ", ".join(f"{n} {what}" for what, n in sorted(week.items()))
        + "; rules started 4 weeks ago",
        f"  + {len(tokens)} station tokens (every station's agent polls)",
    ]
    return Network(len(nodes), total, tokens, described, time.perf_counter() - began)


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    command: str
    log: Path

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def cpu(self) -> Cpu:
        return cpu_now(self.process.pid)


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far (user + system): our gunicorn's workers, every postgres
    process, the whole machine (all cores, from /proc/stat)."""

    workers: float
    postgres: float
    machine: float
    at: float  # time.monotonic()

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.workers - other.workers, self.postgres - other.postgres,
                   self.machine - other.machine, self.at - other.at)  # fmt: skip

    def shares(self, **others: float) -> str:
        """Cores used over the interval: "gunicorn workers 1.41, postgres 0.40, …"."""
        span = max(self.at, 1e-9)
        parts = [f"gunicorn workers {self.workers / span:.2f}"]
        if self.postgres > 0.01:
            parts.append(f"postgres (all databases) {self.postgres / span:.2f}")
        parts += [f"{name} {value / span:.2f}" for name, value in others.items()]
        return (", ".join(parts) + f"; whole machine {self.machine / span:.2f} of "
                f"{os.cpu_count()} busy")  # fmt: skip


def cpu_now(master: int) -> Cpu:
    tick = os.sysconf("SC_CLK_TCK")
    workers = postgres = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[1]) == master:  # ppid: a worker of our gunicorn master
            workers += used
        elif name == "postgres":
            postgres += used
    machine = 0.0
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    machine = (sum(values[:8]) - values[3] - values[4]) / tick
    return Cpu(workers, postgres, machine, time.monotonic())


def server_env(values: dict[str, str]) -> dict[str, str]:
    """This process's environment without any LOAXA_* setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOAXA_")}
    env.update(values)
    return env


@contextmanager
def gunicorn(
    env: dict[str, str],
    tmp: Path,
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    app: str = "web.wsgi:app",
    pythonpath: str | None = None,
) -> Iterator[Server]:
    """``gunicorn web.wsgi:app`` on a free loopback port; stopped (by its own pid) on exit."""
    port = free_port()
    log = tmp / f"gunicorn-{port}.log"
    command = [
        str(BIN / "gunicorn"), "-w", str(workers), "-k", worker_class,
        "-b", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    if pythonpath:
        command += ["--pythonpath", pythonpath]
    command.append(app)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=server_env(env), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    shown = " ".join(f"{k}={v}" for k, v in env.items()) + " " + shlex.join(command)
    shown = shown.replace(str(BIN) + "/", ".venv/bin/" if BIN.parent.name == ".venv" else "")
    shown = shown.replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")
    server = Server("127.0.0.1", port, process, shown, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
            try:
                status, _, _ = get(server, "/api/v1/health")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # the master we started, and its workers
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def get(
    server: Server, path: str, token: str | None = None, etag: str | None = None
) -> tuple[int, str | None, bytes]:
    """One GET on a fresh connection: (status, ETag without quotes, body)."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if etag:
            headers["If-None-Match"] = f'"{etag}"'
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        tag = response.getheader("ETag")
        return response.status, tag.removeprefix("W/").strip('"') if tag else None, body
    finally:
        connection.close()


def current_etags(server: Server, tokens: dict[str, str]) -> dict[str, str]:
    """Each station's manifest once (a 200 each): its ETag."""
    etags = {}
    for code, token in tokens.items():
        status, etag, body = get(server, MANIFEST, token)
        if status != 200 or etag is None:
            raise RuntimeError(f"manifest of {code}: HTTP {status} {body[:200]!r}")
        etags[code] = etag
    return etags


# --- wrk --------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    mode: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    statuses: Counter[str]
    cpu: Cpu
    wrk_cpu_s: float
    command: str
    manifest_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def clear_of_the_hour(seconds: float, out: Callable[[str], None] = print) -> bool:
    """Manifest ETags (and windows) change at the top of the hour: if the next ``seconds``
    would cross it, wait until just after it; True when it waited."""
    now = datetime.now(UTC)
    left = 3600 - (now.minute * 60 + now.second + now.microsecond / 1e6)
    if left >= seconds + 5:
        return False
    out(f"  (waiting {left + 2:.0f} s for the top of the hour, when every ETag changes)")
    time.sleep(left + 2)
    return True


def write_stations(path: Path, tokens: dict[str, str], etags: dict[str, str]) -> None:
    path.write_text("".join(f"{tokens[c]} {etags[c]}\n" for c in sorted(tokens)))


def run_wrk(
    server: Server, stations: Path, mode: str, seconds: float, connections: int, threads: int
) -> LoadResult:
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "10s", "-s", str(LUA), server.base, "--", str(stations), mode,
    ]  # fmt: skip
    before = server.cpu()
    before_children = os.times()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=seconds + 60,
        env={**os.environ, "WRK_THREADS": str(threads)},
    )  # fmt: skip
    after_children = os.times()
    used = server.cpu() - before
    wrk_cpu = (after_children.children_user - before_children.children_user) + (
        after_children.children_system - before_children.children_system
    )
    match = re.search(r"^RESULT (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    values = dict(part.split("=", 1) for part in match.group(1).split())
    statuses: Counter[str] = Counter()
    for part in filter(None, values.pop("statuses").split(",")):
        status, count = part.split(":")
        statuses[status] += int(count)
    numbers = {k: int(v) for k, v in values.items()}
    shown = shlex.join(command).replace(str(LUA), "benchmarks/manifest.lua")
    shown = shown.replace(str(stations), "STATIONS").replace(server.base, "http://127.0.0.1:PORT")
    return LoadResult(
        mode=mode,
        requests=numbers["requests"],
        seconds=numbers["duration_us"] / 1e6,
        p50_ms=numbers["p50_us"] / 1000,
        p90_ms=numbers["p90_us"] / 1000,
        p99_ms=numbers["p99_us"] / 1000,
        max_ms=numbers["max_us"] / 1000,
        errors={
            k.removesuffix("_errors"): v
            for k, v in numbers.items()
            if k.endswith("errors") or k == "timeouts"
        },
        statuses=statuses,
        cpu=used,
        wrk_cpu_s=wrk_cpu,
        command=f"WRK_THREADS={threads} {shown}",
    )


# --- in-process ---------------------------------------------------------------------------------


def in_process(
    url: str, instance: Path, tokens: dict[str, str], etags: dict[str, str], seconds: float
) -> dict[str, float]:
    """The 304 and the 200 through the Flask test client: the application's own cost."""
    from web import create_app

    app = create_app({"instance_path": str(instance), "database_url": url})
    client = app.test_client()
    codes = sorted(tokens)
    out: dict[str, float] = {}
    try:
        for mode in ("304", "200"):
            times: list[float] = []
            deadline = time.perf_counter() + seconds
            i = 0
            while time.perf_counter() < deadline or i < len(codes):
                code = codes[i % len(codes)]
                i += 1
                headers = {"Authorization": f"Bearer {tokens[code]}"}
                if mode == "304":
                    headers["If-None-Match"] = f'"{etags[code]}"'
                began = time.perf_counter()
                response = client.get(MANIFEST, headers=headers)
                times.append(time.perf_counter() - began)
                if response.status_code != int(mode):
                    raise RuntimeError(f"in-process {mode}: got {response.status_code}")
            out[f"{mode} mean_us"] = statistics.fmean(times) * 1e6
            out[f"{mode} median_us"] = statistics.median(times) * 1e6
            out[f"{mode} count"] = len(times)
    finally:
        app.extensions["loaxa"]["engine"].dispose()
    return out


# --- report ---------------------------------------------------------------------------------------


def best_of(rates: Sequence[float]) -> str:
    if len(rates) < 2:
        return ""
    return f" best of {len(rates)} ({', '.join(f'{r:,.0f}' for r in rates)})"


def describe(result: LoadResult, connections: int, rates: Sequence[float]) -> list[str]:
    statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(result.statuses.items()))
    errors = {k: v for k, v in result.errors.items() if v}
    cpu_per_req = result.cpu.workers / max(result.requests, 1) * 1e6
    lines = [
        f"  {LABELS[result.mode]}",
        f"       {result.rate:,.0f} req/s"
        + best_of(rates)
        + f"; in that run latency p50 {result.p50_ms:.1f} ms  p90 {result.p90_ms:.1f} ms  "
        f"p99 {result.p99_ms:.1f} ms  max {result.max_ms:.1f} ms",
        f"       ({result.requests:,} requests in {result.seconds:.1f} s, {connections} "
        "connections)",
        f"       answers {statuses}" + (f"; socket errors {errors}" if errors else ""),
        f"       gunicorn workers' CPU {cpu_per_req:,.0f} µs per request; cores used: "
        + result.cpu.shares(wrk=result.wrk_cpu_s),
    ]
    if result.manifest_bytes:
        lines.append(f"       manifest size {result.manifest_bytes:,} bytes (mean over stations)")
    return lines


def add_app_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app",
        default="web.wsgi:app",
        help="the WSGI app gunicorn serves (to measure a candidate change)",
    )
    parser.add_argument("--pythonpath", help="gunicorn --pythonpath for --app")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 3 s run per figure")
    parser.add_argument("--seconds", type=float, help="load per run (default 8, quick 3)")
    parser.add_argument("--repeat", type=int, help="runs per figure, best kept (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL,
                        help=f"where to CREATE/DROP DATABASE {BENCH_DB}")  # fmt: skip
    parser.add_argument("--no-postgres", action="store_true")
    add_app_options(parser)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    seconds = args.seconds or (3.0 if args.quick else 8.0)
    repeat = args.repeat or (1 if args.quick else 3)
    warmup = 1.0 if args.quick else 3.0
    out = print
    kinds = [k for k, skip in (("sqlite", args.no_sqlite), ("postgresql", args.no_postgres))
             if not skip]  # fmt: skip
    commands: list[str] = []
    verdicts: list[str] = []

    out("Loa Xã benchmark: GET /api/v1/agent/manifest under gunicorn (issue #4)")
    for line in machine_lines([("wrk", tool_version("wrk", "--version")),
                               ("psql", tool_version("psql", "--version"))]):  # fmt: skip
        out(line)
    out(f"server: gunicorn {args.workers} {args.worker_class} workers, {args.app}; load: wrk "
        f"{args.wrk_threads} thread, {args.connections} connections, "
        + (f"best of {repeat} runs" if repeat > 1 else "one run")
        + f" of {seconds:.0f} s per figure after {warmup:.0f} s warm-up; the load generator "
        "runs on the same 2 cores")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="loaxa-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for kind in kinds:
            instance = tmp / f"instance-{kind}"
            with database(kind, tmp, args.pg_admin_url, commands) as url:
                network = build_hanam(url, instance)
                out("")
                shown_url = url.replace(str(tmp), "$TMP")
                out(f"== {kind}: {server_version(url)} — {shown_url}")
                for line in network.described:
                    out(line)
                out(f"  set up in {network.setup_s:.1f} s")
                env = {"LOAXA_INSTANCE": str(instance), "LOAXA_DATABASE_URL": url}
                with gunicorn(env, tmp, args.workers, args.worker_class, threads=4, app=args.app,
                              pythonpath=args.pythonpath) as server:  # fmt: skip
                    commands.append(server.command.replace(str(tmp), "$TMP"))
                    stations = tmp / f"stations-{kind}.txt"
                    sizes = [len(get(server, MANIFEST, t)[2]) for t in network.tokens.values()]
                    results = []
                    modes = ["304", "200"] + (["401"] if kind == kinds[0] else [])
                    threads = args.wrk_threads
                    for mode in modes:
                        if mode == "304":
                            clear_of_the_hour(warmup + repeat * seconds + 10, out)
                            etags = current_etags(server, network.tokens)
                            write_stations(stations, network.tokens, etags)
                        run_wrk(server, stations, mode, warmup, args.connections,
                                args.wrk_threads)  # fmt: skip
                        runs = [
                            run_wrk(server, stations, mode, seconds, args.connections, threads)
                            for _ in range(repeat)
                        ]
                        result = max(runs, key=lambda r: r.rate)
                        if mode == "200":
                            result.manifest_bytes = round(statistics.fmean(sizes))
                        results.append(result)
                        if result.command not in commands:
                            commands.append(result.command)
                        for line in describe(result, args.connections, [r.rate for r in runs]):
                            out(line)
                    clear_of_the_hour(2 * min(seconds, 5.0) + 10, out)
                    etags = current_etags(server, network.tokens)
                    local = in_process(url, instance, network.tokens, etags, min(seconds, 5.0))
                    stock = "" if args.app == "web.wsgi:app" else " — the stock app, not --app"
                    out(
                        f"  in-process (Flask test client, one thread, no HTTP{stock}): 304 "
                        f"{local['304 mean_us']:,.0f} µs mean ({local['304 median_us']:,.0f} "
                        f"median), 200 {local['200 mean_us']:,.0f} µs mean "
                        f"({local['200 median_us']:,.0f} median)"
                    )
                    rate_304 = results[0].rate
                    verdicts.append(
                        f"target: 304 >= {TARGET_304:,.0f} req/s on {kind}: "
                        f"{'met' if rate_304 >= TARGET_304 else 'MISSED'} ({rate_304:,.0f})"
                    )
        out("")
        for verdict in verdicts:
            out(verdict)
        out("commands:")
        out("  (setup: Hà Nam demo network + week + tokens, built in-process by this script)")
        for command in commands:
            out(f"  {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

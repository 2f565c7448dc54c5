"""Benchmark: a country's agents against one server — 10,000 agents polling every 15 s against
4 gunicorn workers on PostgreSQL, then the same agents on MQTT push (issue #13, item 11).

1. Import the whole 2024 register (``--tree``: 63 provinces, 10,810 stations) into PostgreSQL
   ``loaxa_bench`` with a realistic week on top (``manifest_throughput.add_week``); a station
   token for each of the first ``--agents`` stations (every level: provinces and districts
   air too) and an admin per province.
2. For each manifest store (``--stores``: the database, Redis): ``gunicorn -w 4`` (sync
   workers) with ``LOAXA_MQTT_URL`` set, and ``LOAXA_REDIS_URL`` for the Redis run.
3. Simulate the agents in this process (``emergency_fanout.Fleet``): each fetches its manifest
   once (cold start), then polls with ``If-None-Match`` every 15 s at a random phase. After
   one warm-up round, ``--window`` seconds are measured: latency per poll (from the moment it
   was due, so a client-side queue would show), answers, CPU of the workers, PostgreSQL and
   Redis, resident memory of each worker.
4. Push: every agent opens its own MQTT connection (one thread drives them all) subscribed to
   its own and its ancestors' topics, polling on. Every province's admin saves a broadcast at
   the same moment (63 POSTs: a national campaign day) — the server publishes on each
   province's topic and 10,000 agents ask at once. Measured until each agent holds a manifest
   listing its province's new item.

Run from the project root (needs PostgreSQL and Mosquitto; Redis for ``--stores redis``)::

    .venv/bin/python benchmarks/national_load.py [--quick]

Cleans up after itself: gunicorn stopped, ``loaxa_bench`` dropped, the Redis database used
(``--redis-url``, db 14 by default) flushed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from emergency_fanout import (
    DEFAULT_TREE,
    MQTT_URL,
    Agent,
    Fleet,
    MqttMux,
    build_network,
    percentile,
    post_json,
    write_directory,
)
from manifest_throughput import (
    PG_ADMIN_URL,
    Server,
    add_app_options,
    clear_of_the_hour,
    database,
    gunicorn,
    machine_lines,
    server_version,
    tool_version,
)

REDIS_URL = "redis://127.0.0.1:6379/14"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class TimedFleet(Fleet):
    """The fan-out benchmark's agents, timing each poll from when it was due."""

    def __init__(self, server: Server, tokens: dict[str, str], fetchers: int) -> None:
        super().__init__(server, tokens, fetchers)
        self.timing = False
        self.due: dict[str, float] = {}
        self.waits: list[float] = []  # due → answered (what the agent sees)
        self.serving: list[float] = []  # request sent → answered (what the server costs)
        self.skipped = 0  # polls due while the agent's last one was still unanswered

    def trigger(self, agent: Agent, reason: str) -> None:
        with self.lock:
            if agent.state == "idle":
                self.due[agent.code] = time.perf_counter()
            elif self.timing and reason == "poll":
                self.skipped += 1
        super().trigger(agent, reason)

    def _sync(self, agent: Agent) -> None:
        began = time.perf_counter()
        try:
            super()._sync(agent)
        finally:
            ended = time.perf_counter()
            if self.timing:
                with self.lock:
                    self.serving.append(ended - began)
                    self.waits.append(ended - self.due.get(agent.code, began))

    def start_timing(self) -> None:
        with self.lock:
            self.timing, self.skipped = True, 0
            self.waits, self.serving = [], []
            self.answers.clear()

    def stop_timing(self) -> None:
        with self.lock:
            self.timing = False


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers_of(master: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.append(int(stat.parent.name))
    return sorted(found)


def process_cpu_s(name: str) -> float:
    """CPU seconds (user + system) used so far by every process called ``name``."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text[text.find("(") + 1 : text.rfind(")")] == name:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def memory_line(server: Server) -> str:
    sizes = [rss_mib(pid) for pid in workers_of(server.process.pid)]
    shown = ", ".join(f"{s:.0f}" for s in sizes)
    return f"worker memory (RSS): {shown} MiB (mean {statistics.fmean(sizes):.0f} MiB)"


@dataclass
class Steady:
    rate: float
    waits: list[float]
    serving: list[float]
    answers: Counter[str]
    skipped: int
    cores: dict[str, float]


def measure_polling(fleet: TimedFleet, server: Server, window: float) -> Steady:
    before, redis_before, client_before = (
        server.cpu(),
        process_cpu_s("redis-server"),
        (time.process_time()),
    )
    fleet.start_timing()
    time.sleep(window)
    fleet.stop_timing()
    used = server.cpu() - before
    span = used.at
    with fleet.lock:
        waits, serving = list(fleet.waits), list(fleet.serving)
        answers, skipped = Counter(fleet.answers), fleet.skipped
    cores = {
        "gunicorn workers": used.workers / span,
        "postgres": used.postgres / span,
        "redis": (process_cpu_s("redis-server") - redis_before) / span,
        "simulated agents": (time.process_time() - client_before) / span,
        "whole machine": used.machine / span,
    }
    return Steady(len(serving) / span, waits, serving, answers, skipped, cores)


def describe_polling(steady: Steady, agents: int) -> list[str]:
    w, s = steady.waits, steady.serving
    server_cores = steady.cores["gunicorn workers"] + steady.cores["postgres"] + steady.cores[
        "redis"]  # fmt: skip
    return [
        f"  {steady.rate:,.0f} polls/s; answers: "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(steady.answers.items()))
        + f"; polls due while the last was unanswered: {steady.skipped:,}",
        f"  latency from due: p50 {percentile(w, 50) * 1000:.1f} ms  p99 "
        f"{percentile(w, 99) * 1000:.1f} ms  max {max(w) * 1000:.0f} ms; request alone: "
        f"p50 {percentile(s, 50) * 1000:.1f} ms  p99 {percentile(s, 99) * 1000:.1f} ms",
        "  cores used: "
        + ", ".join(f"{k} {v:.2f}" for k, v in steady.cores.items())
        + f" of {os.cpu_count()}",
        f"  server CPU per 1,000 stations (workers + postgres + redis): "
        f"{server_cores / (agents / 1000):.3f} cores",
    ]


def national_change(
    server: Server, admins: dict[str, str], run: str, slot: int
) -> dict[str, float]:
    """Every province's admin saves a broadcast at once (each run in its own ``slot``, so no
    run's item clashes with another's); returns when each POST was sent."""
    # Tomorrow night, when the week of ``add_week`` airs nothing that could outrank it.
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).replace(hour=21, minute=0, second=0,
                                                                microsecond=0)  # fmt: skip
    start = tomorrow + timedelta(minutes=20 * slot)
    sent: dict[str, float] = {}
    refused: list[str] = []
    gate = threading.Barrier(len(admins))

    def save(province: str, token: str) -> None:
        body = {"title": title_for(province, run), "owner": province, "kind": "relay",
                "stream_url": "http://127.0.0.1:9/vov1.mp3",
                "start": start.replace(tzinfo=None).isoformat(), "duration_s": 900,
                "force": True}  # fmt: skip
        gate.wait()
        sent[province] = time.monotonic()
        status, text = post_json(server, "/api/v1/broadcasts", token, body)
        if status != 201:
            refused.append(f"{province}: {status} {text[:200]}")

    threads = [threading.Thread(target=save, args=item) for item in admins.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if refused:
        raise RuntimeError("broadcasts refused: " + "; ".join(refused[:5]))
    return sent


def title_for(province: str, run: str) -> str:
    return f"Ngày hội học tập — tỉnh {province} — {run}"


def measure_push(
    fleet: TimedFleet,
    server: Server,
    admins: dict[str, str],
    run: str,
    slot: int,
    timeout: float,
) -> list[str]:
    provinces = sorted({a.province for a in fleet.agents})
    fleet.expect({p: title_for(p, run) for p in provinces})
    before, client_before = server.cpu(), time.process_time()
    sent = national_change(server, admins, run, slot)
    fleet.wait(fleet.everyone_has_it, timeout)
    used = server.cpu() - before
    if not any(a.got_at is not None for a in fleet.agents):
        return [f"  NO agent got its province's new item within {timeout:g} s"]
    with fleet.lock:
        got = [a for a in fleet.agents if a.got_at is not None]
        late = [a.got_at - sent[a.province] for a in got if a.got_at is not None]
        via = Counter(a.got_via for a in got)
        answers = Counter(fleet.answers)
    lines = [
        f"a broadcast saved in every province at once ({len(admins)} POSTs):",
        f"  {len(got):,}/{len(fleet.agents):,} agents hold their province's new item; from "
        f"the POSTs: p50 {percentile(late, 50):.2f} s  p99 {percentile(late, 99):.2f} s  "
        f"max {max(late):.2f} s (mean {statistics.fmean(late):.2f} s)",
        "  found by: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(via.items()))
        + "; manifest answers meanwhile: "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(answers.items())),
        f"  cores used over the {used.at:.1f} s: "
        + used.shares(**{"simulated agents": time.process_time() - client_before}),
    ]
    return lines


def measure_province(
    fleet: TimedFleet, server: Server, province: str, token: str, slot: int, timeout: float
) -> list[str]:
    """One province's admin saves a broadcast (an emergency's path): how soon its agents
    have it while the other provinces' thousands of subscribers stay connected."""
    fleet.expect({province: title_for(province, f"{province} alone")})
    mine = [a for a in fleet.agents if a.province == province]
    before = server.cpu()
    sent = national_change(server, {province: token}, f"{province} alone", slot)[province]
    fleet.wait(lambda: all(a.got_at is not None for a in mine), timeout)
    used = server.cpu() - before
    with fleet.lock:
        late = [a.got_at - sent for a in mine if a.got_at is not None]
        answers = Counter(fleet.answers)
    if not late:
        return [f"  NO agent of province {province} got the item within {timeout:g} s"]
    return [
        f"  {len(late):,}/{len(mine):,} agents of province {province} hold it; from the POST: "
        f"p50 {percentile(late, 50):.2f} s  p99 {percentile(late, 99):.2f} s  "
        f"max {max(late):.2f} s; manifest answers meanwhile (every province): "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(answers.items())),
        f"  cores used over the {used.at:.1f} s: " + used.shares(),
    ]


def flush_redis(url: str) -> None:
    from redis import Redis

    client = Redis.from_url(url)
    client.flushdb()
    client.close()


def run_store(
    store: str,
    slot: int,
    args: argparse.Namespace,
    env: dict[str, str],
    tmp: Path,
    network: Any,
    commands: list[str],
    rng: random.Random,
) -> None:
    out = print
    env = dict(env)
    if store == "redis":
        env["LOAXA_REDIS_URL"] = args.redis_url
        flush_redis(args.redis_url)
    with gunicorn(env, tmp, args.workers, app=args.app, pythonpath=args.pythonpath) as server:
        commands.append(server.command.replace(str(tmp), "$TMP"))
        out(
            f"\n== manifests stored in {store}: gunicorn {args.workers} sync workers, "
            f"{len(network.agents):,} agents, {args.fetchers} HTTP requests at a time =="
        )
        out("  " + memory_line(server) + " (idle, before any request)")
        fleet = TimedFleet(server, network.agents, args.fetchers)
        try:
            clear_of_the_hour(args.window + args.poll * 2 + 240)
            cold = fleet.sync_all()
            rate = len(fleet.agents) / cold
            out(
                f"  cold start: every agent fetched its full manifest once in {cold:.1f} s "
                f"({rate:,.0f} manifests/s; every province built once)"
            )
            out("  " + memory_line(server) + " (after every manifest was built and served)")
            fleet.start_polling(args.poll, rng)
            time.sleep(args.poll)  # one round to settle the phases
            out(f"polling every {args.poll:g} s, measured over {args.window:g} s:")
            for line in describe_polling(measure_polling(fleet, server, args.window),
                                         len(fleet.agents)):  # fmt: skip
                out(line)
            out("  " + memory_line(server))
            if args.no_push:
                return
            fleet.mux = MqttMux(fleet, args.mqtt_url)
            subscribed = fleet.mux.start()
            out(f"push: {fleet.mux.connected:,} MQTT connections (one per agent), "
                f"{fleet.mux.subscriptions:,} subscriptions, subscribed in {subscribed:.1f} s; "
                "polling on")  # fmt: skip
            biggest = Counter(a.province for a in fleet.agents).most_common(1)[0][0]
            out(f"one province saves a broadcast ({biggest}, the most agents), the rest "
                "connected:")  # fmt: skip
            for line in measure_province(fleet, server, biggest, network.admins[biggest],
                                         2 * slot, 60):  # fmt: skip
                out(line)
            for line in measure_push(fleet, server, network.admins, store, 2 * slot + 1, 120):
                out(line)
            out("  " + memory_line(server))
            out(f"  MQTT messages received by agents: {fleet.mux.messages:,}")
        finally:
            fleet.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 agents in 2 provinces")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--tree", type=Path, default=DEFAULT_TREE, help="2024 directory JSON")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--fetchers", type=int, default=200, help="concurrent HTTP requests")
    parser.add_argument("--poll", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=60.0, help="measured polling, s")
    parser.add_argument("--stores", default="database,redis")
    parser.add_argument("--no-push", action="store_true")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--mqtt-url", default=MQTT_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--seed", type=int, default=2024)
    add_app_options(parser)
    args = parser.parse_args(argv)
    out, commands, rng = print, [], random.Random(args.seed)
    tree = json.loads(args.tree.read_text("utf-8"))
    provinces = ["38", "40"] if args.quick else [str(p["code"]).zfill(2) for p in tree]
    agents = 1000 if args.quick else args.agents
    out("Loa Xã benchmark: a country's agents against one server (issue #13)")
    for line in machine_lines([("mosquitto", tool_version("mosquitto", "-h")),
                               ("redis", tool_version("redis-server", "--version"))]):  # fmt: skip
        out(line)
    with tempfile.TemporaryDirectory(prefix="loaxa-national-") as tmp_name:
        tmp = Path(tmp_name)
        directory = write_directory(args.tree, provinces, tmp)
        with database("postgresql", tmp, args.pg_admin_url, commands) as url:
            network = build_network(url, directory, agents)
            out(f"database: {server_version(url)}")
            out(f"network: {len(provinces)} provinces of {args.tree.name}: "
                f"{network.stations:,} stations ({network.levels['district']} districts, "
                f"{network.levels['commune']:,} communes); {network.broadcasts:,} approved "
                f"broadcasts; {len(network.agents):,} agent tokens; set up in "
                f"{network.setup_s:.0f} s")  # fmt: skip
            env = {"LOAXA_INSTANCE": str(tmp / "instance"), "LOAXA_DATABASE_URL": url,
                   "LOAXA_MQTT_URL": args.mqtt_url, "LOAXA_TTS_ENGINE": "espeak"}  # fmt: skip
            stores = [s.strip() for s in args.stores.split(",") if s.strip()]
            for slot, store in enumerate(stores):
                run_store(store, slot, args, env, tmp, network, commands, rng)
        if "redis" in args.stores:
            flush_redis(args.redis_url)
    out("\ncommands:")
    out(f"  .venv/bin/python benchmarks/national_load.py {shlex.join(argv or sys.argv[1:])}")
    for command in commands:
        out(f"  {command}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

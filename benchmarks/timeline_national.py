"""Benchmark: a week of timelines for the whole 2024 national tree (10,810 stations).

docs/architecture.md rule 8: the resolver must do the whole 2024 national tree for a week
in seconds, not minutes. The target from the issue: a nation-week in ≤ 5 s on one core, and
≥ 10× faster than resolving each station on its own.

1. Import the national directory (63 provinces, 696 districts, 10,051 communes) into a fresh
   SQLite database (or ``--database-url``).
2. Give it a realistic approved schedule of relays (no audio needed): province news and the
   VOV relay every day, district programmes twice a day Monday–Saturday, two local bulletins a
   day in every commune, some priority items and a few emergencies (district and commune).
3. Resolve every station for 7 days with :func:`scheduler.station_timelines.tree_timelines`, timing
   the whole call and, separately, load / expand / resolve.
4. Resolve a random sample of stations the naive way (one :func:`station_timeline` each, in a
   fresh session with cold recurrence caches), extrapolate to the whole tree, and check that
   both ways give the same timelines.

Run from the project root::

    .venv/bin/python benchmarks/timeline_national.py [--sample 300] [--seed 2024]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler import recurrence
from scheduler.db import make_engine, make_sessionmaker, upgrade
from scheduler.models import (
    Broadcast,
    BroadcastException,
    BroadcastStatus,
    BroadcastTarget,
    ConflictPolicy,
    Kind,
    Priority,
    Station,
)
from scheduler.recurrence import local_day_window
from scheduler.station_timelines import MARGIN, expand, load_rules, station_timeline, tree_timelines
from scheduler.stations import import_directory
from scheduler.timeline import Entry, Occurrence, TreeNode, resolve_tree

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TREE = (ROOT / ".." / "shared" / "data" / "vn-divisions-2024.json").resolve()
ZONE = "Asia/Ho_Chi_Minh"
FIRST_DAY = date(2026, 11, 30)  # a Monday
DAYS = 7
MIN_FRAGMENT = timedelta(seconds=30)
MAX_DELAY_S = 1800
TARGET_SECONDS = 5.0
TARGET_SPEEDUP = 10.0
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

MON_SAT = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA"
PRIORITY_DAYS = ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=WEEKLY;BYDAY=TU,TH", "FREQ=WEEKLY;BYDAY=MO")
MORNING_BULLETINS = ("06:15", "06:30", "06:45", "07:00")  # 06:15 collides with the VOV relay
EVENING_BULLETINS = ("17:15", "17:30", "17:45", "18:00")  # 17:15 collides with the district
DISTRICT_EMERGENCIES = 20
COMMUNE_EMERGENCIES = 12
PROVINCE_EXCEPTIONS = 10  # provinces whose own news is skipped one day (a holiday special)


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    code: str
    level: str
    parent_id: int | None


# --- small helpers -----------------------------------------------------------------------


@contextmanager
def timed(into: dict[str, float], name: str) -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        into[name] = time.perf_counter() - began


def clear_recurrence_caches() -> None:
    recurrence._occurrences.cache_clear()
    recurrence.parse_rule.cache_clear()


def max_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB else


def hhmm(text: str) -> tuple[int, int]:
    hours, minutes = text.split(":")
    return int(hours), int(minutes)


def local(day: date, at: str) -> datetime:
    hours, minutes = hhmm(at)
    return datetime(day.year, day.month, day.day, hours, minutes)  # noqa: DTZ001 (wall time)


def key_of(entries: Sequence[Entry]) -> list[tuple[int, datetime, datetime, str]]:
    return [(e.occurrence.broadcast, e.start, e.end, e.outcome) for e in entries]


def strict_key_of(entries: Sequence[Entry]) -> list[tuple[Any, ...]]:
    return [(e.occurrence.broadcast, e.start, e.end, e.outcome, e.by, e.offset) for e in entries]


# --- 1. the tree -------------------------------------------------------------------------


def import_tree(factory: sessionmaker[Session], tree: Path) -> tuple[int, float]:
    began = time.perf_counter()
    with factory() as session:
        report = import_directory(session, tree, NOW, timezone=ZONE, actor="benchmark")
        session.commit()
    return report.total, time.perf_counter() - began


def load_nodes(session: Session) -> list[Node]:
    rows = session.execute(
        select(Station.id, Station.code, Station.level, Station.parent_id).order_by(
            Station.depth, Station.code
        )
    )
    return [Node(*row) for row in rows]


# --- 2. the schedule ---------------------------------------------------------------------


@dataclass
class Plan:
    broadcasts: list[dict[str, Any]]
    targets: list[int]  # one target station per broadcast, same order
    exceptions: list[tuple[int, date]]  # (index into broadcasts, skipped local date)
    emergency_districts: list[Node]
    emergency_communes: list[Node]


def plan_schedule(nodes: Sequence[Node], rng: random.Random, spread_days: int) -> Plan:
    """A realistic week of approved relays for the whole tree (see the module docstring)."""
    created = NOW - timedelta(days=400)
    plan = Plan([], [], [], [], [])

    def anchor() -> date:
        # Rules were set up on different days over the past months; the anchor is the first
        # airing, so expanding the rule has to walk from there (as it would in production).
        back = rng.randrange(spread_days) if spread_days > 0 else 0
        return FIRST_DAY - timedelta(days=7 + back)

    def add(
        node: Node,
        title: str,
        start_local: datetime,
        duration_s: int,
        rrule: str | None,
        priority: Priority = Priority.normal,
        conflict: ConflictPolicy = ConflictPolicy.truncate,
        stream_url: str | None = None,
        source: Node | None = None,
    ) -> int:
        nonlocal created
        created += timedelta(seconds=17)
        plan.broadcasts.append(
            {
                "title": title,
                "owner_id": node.id,
                "kind": Kind.relay,
                "program_id": None,
                "source_id": source.id if source else None,
                "stream_url": stream_url or f"https://stream.loaxa.example/{node.code}/live",
                "start_local": start_local,
                "timezone": ZONE,
                "duration_s": duration_s,
                "rrule": rrule,
                "until": None,
                "priority": priority,
                "conflict": conflict,
                "max_delay_s": MAX_DELAY_S,
                "status": BroadcastStatus.approved,
                "forced": False,
                "approved_at": created,
                "created_at": created,
                "updated_at": created,
            }
        )
        plan.targets.append(node.id)
        return len(plan.broadcasts) - 1

    provinces = [n for n in nodes if n.level == "province"]
    districts = [n for n in nodes if n.level == "district"]
    communes = [n for n in nodes if n.level == "commune"]

    for i, p in enumerate(provinces):
        news = add(
            p, f"Thời sự tỉnh {p.code}", local(anchor(), "05:30"), 1800, "FREQ=DAILY", source=p
        )
        add(
            p,
            "Tiếp âm VOV1",
            local(anchor(), "06:00"),
            1800,
            "FREQ=DAILY",
            stream_url="https://stream.loaxa.example/vov1/live",
        )
        add(
            p,
            f"Tin ưu tiên tỉnh {p.code}",
            local(anchor(), "05:40"),
            600,
            PRIORITY_DAYS[i % len(PRIORITY_DAYS)],
            priority=Priority.priority,
        )
        if i < PROVINCE_EXCEPTIONS:
            plan.exceptions.append((news, FIRST_DAY + timedelta(days=5)))
    for d in districts:
        add(
            d,
            f"Chương trình huyện {d.code} sáng",
            local(anchor(), "05:00"),
            1800,
            MON_SAT,
            source=d,
        )
        add(
            d,
            f"Chương trình huyện {d.code} chiều",
            local(anchor(), "17:00"),
            1800,
            MON_SAT,
            source=d,
        )
    for j, c in enumerate(communes):
        policy = ConflictPolicy.skip if j % 2 else ConflictPolicy.truncate
        morning = MORNING_BULLETINS[rng.randrange(len(MORNING_BULLETINS))]
        evening = EVENING_BULLETINS[rng.randrange(len(EVENING_BULLETINS))]
        add(
            c,
            f"Bản tin xã {c.code} sáng",
            local(anchor(), morning),
            900,
            "FREQ=DAILY",
            conflict=policy,
        )
        add(
            c,
            f"Bản tin xã {c.code} chiều",
            local(anchor(), evening),
            900,
            "FREQ=DAILY",
            conflict=policy,
        )
    # Emergencies last (created most recently): a storm warning in 20 districts on Wednesday
    # 05:10–05:20, and a few communes with their own alert on Thursday 06:00–06:10 (which
    # outranks everything they inherit, so the resolver has to place everything again).
    # (On the 2025 two-level map there are no districts: the storm warnings go to provinces.)
    areas = districts or [n for n in nodes if n.level == "province"]
    plan.emergency_districts = sorted(
        rng.sample(areas, min(DISTRICT_EMERGENCIES, len(areas))), key=lambda n: n.code
    )
    for d in plan.emergency_districts:
        add(
            d,
            f"Cảnh báo bão huyện {d.code}",
            local(FIRST_DAY + timedelta(days=2), "05:10"),
            600,
            None,
            priority=Priority.emergency,
        )
    plan.emergency_communes = sorted(
        rng.sample(communes, COMMUNE_EMERGENCIES), key=lambda n: n.code
    )
    for c in plan.emergency_communes:
        add(
            c,
            f"Khẩn cấp xã {c.code}",
            local(FIRST_DAY + timedelta(days=3), "06:00"),
            600,
            None,
            priority=Priority.emergency,
            conflict=ConflictPolicy.skip,
        )
    return plan


def insert_schedule(factory: sessionmaker[Session], plan: Plan) -> int:
    """Bulk inserts (one executemany per table); returns the number of broadcasts."""
    with factory() as session:
        ids = list(
            session.scalars(
                insert(Broadcast).returning(Broadcast.id, sort_by_parameter_order=True),
                plan.broadcasts,
            )
        )
        session.execute(
            insert(BroadcastTarget),
            [{"broadcast_id": b, "station_id": s} for b, s in zip(ids, plan.targets, strict=True)],
        )
        session.execute(
            insert(BroadcastException),
            [{"broadcast_id": ids[i], "on_date": d, "at_local": None} for i, d in plan.exceptions],
        )
        session.commit()
    return len(ids)


# --- 3. the whole tree at once -------------------------------------------------------------


def load_stations(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.depth, Station.code)))


def run_tree(
    factory: sessionmaker[Session], window: tuple[datetime, datetime]
) -> tuple[dict[str, list[Entry]], dict[str, float]]:
    """One cold run of ``tree_timelines`` in a fresh session."""
    clear_recurrence_caches()
    gc.collect()
    times: dict[str, float] = {}
    with factory() as session:
        with timed(times, "stations"):
            stations = load_stations(session)
        cpu = time.process_time()
        with timed(times, "tree_timelines"):
            timelines = tree_timelines(session, stations, window, MIN_FRAGMENT)
        times["cpu"] = time.process_time() - cpu
    return timelines, times


def run_pieces(
    factory: sessionmaker[Session], window: tuple[datetime, datetime]
) -> tuple[dict[str, list[Entry]], dict[str, float], dict[str, int]]:
    """The same work as ``tree_timelines``, step by step, to see where the time goes."""
    clear_recurrence_caches()
    gc.collect()
    times: dict[str, float] = {}
    counts: dict[str, int] = {}
    wide = (window[0] - MARGIN, window[1] + MARGIN)
    with factory() as session:
        with timed(times, "stations"):
            stations = load_stations(session)
        with timed(times, "load broadcasts"):
            broadcasts = load_rules(session, wide, None)
        with timed(times, "expand"):
            by_target: dict[str, list[Occurrence]] = defaultdict(list)
            expanded = 0
            for rule in broadcasts:
                found = expand(rule, wide)
                expanded += len(found)
                for code in rule.targets:
                    by_target[code].extend(found)
        with timed(times, "resolve_tree"):
            id_to_code = {s.id: s.code for s in stations}
            nodes = [
                TreeNode(s.code, id_to_code.get(s.parent_id) if s.parent_id else None)
                for s in stations
            ]
            resolved = resolve_tree(nodes, by_target, MIN_FRAGMENT)
        with timed(times, "clip to window"):
            timelines = {
                code: [e for e in entries if e.end > window[0] and e.start < window[1]]
                for code, entries in resolved.items()
            }
    counts["broadcasts"] = len(broadcasts)
    counts["occurrences"] = expanded
    counts["resolved entries"] = sum(len(v) for v in resolved.values())
    return timelines, times, counts


def run_traced(
    factory: sessionmaker[Session], window: tuple[datetime, datetime]
) -> tuple[int, float]:
    """Peak Python memory (tracemalloc) of the ``tree_timelines`` call alone."""
    clear_recurrence_caches()
    gc.collect()
    with factory() as session:
        stations = load_stations(session)
        tracemalloc.start()
        began = time.perf_counter()
        timelines = tree_timelines(session, stations, window, MIN_FRAGMENT)
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del timelines
    return peak, elapsed


# --- 4. the naive way ----------------------------------------------------------------------


def run_naive(
    factory: sessionmaker[Session], sample: Sequence[Node], last_day: date
) -> tuple[dict[str, list[Entry]], list[float]]:
    """Each station from scratch: a fresh session (a request) and cold recurrence caches."""
    timelines: dict[str, list[Entry]] = {}
    each: list[float] = []
    for node in sample:
        clear_recurrence_caches()
        began = time.perf_counter()
        with factory() as session:
            station = session.get(Station, node.id)
            assert station is not None
            timelines[node.code] = station_timeline(
                session, station, FIRST_DAY, last_day, MIN_FRAGMENT
            )
        each.append(time.perf_counter() - began)
    return timelines, each


# --- report --------------------------------------------------------------------------------


def machine() -> list[str]:
    uname = platform.uname()
    return [
        f"machine: {uname.system} {uname.release} {uname.machine}"
        f" processor={platform.processor() or uname.processor or '?'}",
        f"cpus: {os.cpu_count()}  python: {platform.python_implementation()}"
        f" {platform.python_version()}",
    ]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=DEFAULT_TREE, help="directory JSON/YAML")
    parser.add_argument("--database-url", help="use this (empty) database instead of a temp one")
    parser.add_argument("--sample", type=int, default=300, help="stations resolved naively")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3, help="cold tree runs (best is kept)")
    parser.add_argument(
        "--spread-days",
        type=int,
        default=330,
        help="rules start on random days up to this many days before the week (0: all a week "
        "before)",
    )
    parser.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="skip the (slow, ~5x) extra run that measures peak memory with tracemalloc",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    out = print

    with tempfile.TemporaryDirectory(prefix="loaxa-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'national.db'}"
        engine = make_engine(url)
        upgrade(engine)
        factory = make_sessionmaker(engine)
        shown_url = engine.url.render_as_string(hide_password=True)
        out(f"Loa Xã benchmark: national tree, one week from {FIRST_DAY} ({DAYS} days)")
        out(f"database: {shown_url}")
        out(f"tree: {args.tree}")

        total, import_s = import_tree(factory, args.tree)
        with factory() as session:
            nodes = load_nodes(session)
        levels = Counter(n.level for n in nodes)
        out(
            f"import: {total:,} stations ({levels['province']} provinces, "
            f"{levels['district']} districts, {levels['commune']:,} communes) in {import_s:.2f} s"
        )

        began = time.perf_counter()
        plan = plan_schedule(nodes, rng, args.spread_days)
        count = insert_schedule(factory, plan)
        setup_s = time.perf_counter() - began
        kinds = Counter(b["priority"].value for b in plan.broadcasts)
        out(
            f"schedule: {count:,} approved broadcasts ({kinds['normal']:,} normal, "
            f"{kinds['priority']} priority, {kinds['emergency']} emergency), "
            f"{len(plan.exceptions)} exceptions, set up in {setup_s:.2f} s"
        )

        last_day = FIRST_DAY + timedelta(days=DAYS - 1)
        window = local_day_window(FIRST_DAY, last_day, ZONE)

        # 3. The whole tree: best of a few cold runs, then the same work step by step.
        runs = [run_tree(factory, window) for _ in range(max(1, args.repeat))]
        walls = [t["tree_timelines"] for _, t in runs]
        timelines, best = min(runs, key=lambda r: r[1]["tree_timelines"])
        entries = sum(len(v) for v in timelines.values())
        outcomes = Counter(e.outcome for v in timelines.values() for e in v)
        pieces_timelines, pieces, counts = run_pieces(factory, window)
        traced = None if args.no_tracemalloc else run_traced(factory, window)
        same_as_pieces = all(
            key_of(pieces_timelines[c]) == key_of(v) for c, v in timelines.items()
        ) and len(pieces_timelines) == len(timelines)

        # 4. The naive way on a sample (plus the stations with their own emergency).
        sample = rng.sample(nodes, min(args.sample, len(nodes)))
        in_sample = {n.id for n in sample}
        sample += [n for n in plan.emergency_communes if n.id not in in_sample]
        naive, each = run_naive(factory, sample, last_day)
        mismatched = [n.code for n in sample if key_of(naive[n.code]) != key_of(timelines[n.code])]
        strict_ok = all(
            strict_key_of(naive[n.code]) == strict_key_of(timelines[n.code]) for n in sample
        )
        per_station = statistics.fmean(each)
        naive_total = per_station * len(nodes)
        ours = best["stations"] + best["tree_timelines"]

        out("")
        out("whole tree (tree_timelines, cold recurrence caches, fresh session)")
        out(f"  stations resolved      {len(timelines):,}")
        out(f"  broadcasts loaded      {counts['broadcasts']:,}")
        out(f"  occurrences expanded   {counts['occurrences']:,} (window ± 1 day margin)")
        out(
            f"  entries in the week    {entries:,} "
            f"({counts['resolved entries']:,} resolved incl. the margin days)"
        )
        out(
            "  outcomes               "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))
        )
        out(
            f"  wall                   {best['tree_timelines']:.2f} s best of {len(walls)} "
            f"({', '.join(f'{w:.2f}' for w in walls)}); + {best['stations']:.2f} s loading "
            f"the stations"
        )
        shared = best["tree_timelines"] > 1.1 * best["cpu"]
        out(
            f"  cpu time (same run)    {best['cpu']:.2f} s"
            + (" (wall > cpu: the core was shared)" if shared else "")
        )
        out(f"  entries per second     {entries / best['tree_timelines']:,.0f}")
        if traced is not None:
            peak, traced_s = traced
            out(
                f"  peak traced memory     {peak / 2**20:.1f} MiB (tree_timelines only; "
                f"{traced_s:.2f} s under tracemalloc)"
            )
        out("  step by step (one more cold run):")
        for name, seconds in pieces.items():
            out(f"    {name:<20} {seconds:6.2f} s")
        out(f"    {'total':<20} {sum(pieces.values()):6.2f} s")
        out(f"  step-by-step timelines equal tree_timelines: {yes(same_as_pieces)}")

        out("")
        out("naive (station_timeline per station: own session, own query, cold caches)")
        out(
            f"  sample                 {len(sample)} stations (seed {args.seed}; "
            f"{len(sample) - len(in_sample)} emergency communes added)"
        )
        out(
            f"  per station            mean {per_station * 1000:.1f} ms, median "
            f"{statistics.median(each) * 1000:.1f} ms, max {max(each) * 1000:.1f} ms"
        )
        out(f"  extrapolated to {len(nodes):,}  {naive_total:.1f} s")
        out(
            f"  naive / ours           {naive_total / ours:.1f}x (ours incl. station load "
            f"{ours:.2f} s)"
        )
        out(
            f"  agree: {yes(not mismatched)}"
            + (f" ({len(mismatched)} differ: {', '.join(mismatched[:10])})" if mismatched else "")
        )
        out(f"  agree incl. by/offset: {yes(strict_ok)}")

        out("")
        out(
            f"target: nation-week <= {TARGET_SECONDS:.0f} s on one core: "
            f"{'met' if best['tree_timelines'] <= TARGET_SECONDS else 'MISSED'} "
            f"({best['tree_timelines']:.2f} s)"
        )
        out(
            f"target: >= {TARGET_SPEEDUP:.0f}x faster than naive: "
            f"{'met' if naive_total / ours >= TARGET_SPEEDUP else 'MISSED'} "
            f"({naive_total / ours:.1f}x)"
        )
        out(f"process max RSS: {max_rss_mib():.0f} MiB")
        for line in machine():
            out(line)
        out(f"cpu model: {cpu_model()}")
        engine.dispose()
    return 0 if not mismatched and same_as_pieces else 1


if __name__ == "__main__":
    sys.exit(main())

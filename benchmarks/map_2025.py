"""Benchmark: the 2025 two-level map (issue #12).

1. The whole 2025 nation (34 provinces + 3,321 communes from ``vietnam-provinces``) with a
   realistic two-level schedule (the same generator as ``timeline_national.py``: province
   news and VOV relays every day, two local bulletins a day in every commune, priority items
   and commune emergencies; no district level), resolved for a week with ``tree_timelines``.
2. Moving the whole 2024 nation (10,810 stations and its schedule) onto the 2025 map with
   ``loaxa stations migrate``'s plan and apply, timed separately, in one transaction.

Run from the project root::

    .venv/bin/python benchmarks/map_2025.py [--tree ../shared/data/vn-divisions-2024.json]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))
import timeline_national as tn

from config.map2025 import official
from scheduler import remap
from scheduler.db import make_engine, make_sessionmaker, upgrade
from scheduler.models import Station
from scheduler.recurrence import local_day_window
from scheduler.stations import import_directory

MOVE_ON = date(2025, 7, 1)


def fresh(tmp: Path, name: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp / name}")
    upgrade(engine)
    return engine, make_sessionmaker(engine)


def nation_2025(tmp: Path, rng: random.Random) -> list[str]:
    engine, factory = fresh(tmp, "vn-2025.db")
    began = time.perf_counter()
    with factory() as session:
        total = import_directory(session, "vn-2025", tn.NOW, timezone=tn.ZONE).total
        session.commit()
    imported = time.perf_counter() - began
    with factory() as session:
        nodes = tn.load_nodes(session)
    levels = Counter(n.level for n in nodes)
    broadcasts = tn.insert_schedule(factory, tn.plan_schedule(nodes, rng, 330))
    window = local_day_window(tn.FIRST_DAY, tn.FIRST_DAY + timedelta(days=tn.DAYS - 1), tn.ZONE)
    runs = []
    entries = 0
    for _ in range(3):
        timelines, times = tn.run_tree(factory, window)
        runs.append(times["tree_timelines"])
        entries = sum(len(v) for v in timelines.values())
    engine.dispose()
    return [
        "## 2025 nation, one week",
        f"stations: {total} ({levels['province']} provinces, {levels['commune']} communes, "
        f"{levels.get('district', 0)} districts); import {imported:.2f} s",
        f"approved broadcasts: {broadcasts}; entries inside the week: {entries:,}",
        f"tree_timelines, cold: best {min(runs):.2f} s of 3 ("
        + ", ".join(f"{r:.2f}" for r in runs)
        + ")",
    ]


def migrate_2024(tmp: Path, tree: Path, rng: random.Random) -> list[str]:
    engine, factory = fresh(tmp, "vn-2024.db")
    with factory() as session:
        import_directory(session, tree, tn.NOW, timezone=tn.ZONE)
        for station in session.scalars(select(Station)):
            station.admin_map = "2024"
        session.commit()
        nodes = tn.load_nodes(session)
    broadcasts = tn.insert_schedule(factory, tn.plan_schedule(nodes, rng, 330))
    began = time.perf_counter()
    mapping = official()
    loaded = time.perf_counter() - began
    with factory() as session:
        began = time.perf_counter()
        plan = remap.plan(session, mapping, MOVE_ON)
        planned = time.perf_counter() - began
        began = time.perf_counter()
        remap.apply(session, plan, mapping, tn.NOW, "benchmark")
        session.commit()
        applied = time.perf_counter() - began
        live = {
            level: count
            for level, count in session.execute(
                select(Station.level, func.count())
                .where(Station.retired_on.is_(None))
                .group_by(Station.level)
            )
        }
    engine.dispose()
    kinds = Counter(step.kind for step in plan.steps)
    return [
        "## 2024 nation moved onto the 2025 map",
        f"stations before: {len(nodes):,}; broadcasts: {broadcasts:,}",
        "steps: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())),
        f"created: {len(plan.creates):,}; broadcasts moved: {len(plan.broadcasts):,}; "
        f"live after: {live}",
        f"official tables loaded in {loaded:.2f} s; plan {planned:.2f} s; "
        f"apply + commit {applied:.2f} s; total {loaded + planned + applied:.2f} s",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=tn.DEFAULT_TREE)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print("\n".join(tn.machine()), f"cpu: {tn.cpu_model()}", sep="\n")
    with tempfile.TemporaryDirectory(prefix="loaxa-map2025-") as tmp:
        print("\n".join(nation_2025(Path(tmp), rng)))
        if args.tree.is_file():
            print("\n".join(migrate_2024(Path(tmp), args.tree, rng)))
        else:
            print(f"(no 2024 tree at {args.tree}: migration skipped; give --tree)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

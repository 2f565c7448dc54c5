"""The resolver: occurrences → a station's timeline (docs/architecture.md, rules 1–4).

Pure and deterministic: plain values in, plain values out; no database, clock, Flask or VLC.

1. Inheritance. A station hears every occurrence whose broadcast targets it or an ancestor.
2. Precedence. Class first (emergency > priority > normal), then the owner's level (province >
   district > commune, i.e. a smaller depth), then earlier creation, then earlier start.
   Occurrences are placed one by one in that order, so a placed one is never moved again and
   a lower occurrence can never displace a higher one.
3. Conflicts. An occurrence that collides with what is already placed follows its policy:
   ``shift`` to the earliest free gap no later than its maximum delay; ``truncate`` to the free
   parts of its slot (each part at least ``min_fragment`` long, with the offset into the
   media so a programme resumes where it should); ``skip``. An occurrence that cannot be
   placed is ``preempted``. Every outcome other than ``scheduled`` names the broadcast that
   beat it, and every input occurrence appears in the output — nothing is silently dropped.

:func:`resolve` does one station. :func:`resolve_tree` does a whole tree at once and shares
work down it: a commune's inherited occurrences are exactly its parent's, so when the
commune's own occurrences all rank below them (the usual case) it starts from the parent's
placement instead of placing everything again.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

Policy = Literal["shift", "truncate", "skip"]
Outcome = Literal["scheduled", "shifted", "truncated", "preempted"]
PRIORITY_RANK = {"normal": 0, "priority": 1, "emergency": 2}
ZERO = timedelta(0)


# Occurrence and Entry are value objects: never change one after it is made. They are not
# declared frozen only because a frozen dataclass is five times slower to construct, and a
# country-week makes hundreds of thousands of them.


@dataclass(slots=True, unsafe_hash=True)
class Occurrence:
    """One airing of a broadcast, as the resolver needs it.

    ``rank`` is the priority class (0 normal, 1 priority, 2 emergency), ``owner_depth`` the
    owner's depth in the tree (0 for the province) and ``created`` the broadcast's creation
    order. ``targets`` are the station codes the broadcast targets (subtree roots).
    ``payload`` is carried through untouched for the caller (title, kind, media…).
    """

    broadcast: int
    start: datetime
    end: datetime
    rank: int = 0
    owner_depth: int = 0
    created: int = 0
    policy: Policy = "shift"
    max_delay: timedelta = timedelta(minutes=30)
    targets: frozenset[str] = frozenset()
    payload: Any = field(default=None, compare=False, hash=False)
    # Precedence: a smaller key is placed first. Computed once; sorting reads it a lot.
    key: tuple[int, int, int, datetime, int] = field(init=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.key = (-self.rank, self.owner_depth, self.created, self.start, self.broadcast)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(slots=True)
class Entry:
    """What the station does with one occurrence (or one part of a truncated one)."""

    occurrence: Occurrence
    start: datetime
    end: datetime
    outcome: Outcome
    by: int | None = None  # the broadcast that beat this occurrence
    offset: timedelta = ZERO  # where in the media this part starts (truncated programmes)

    @property
    def airs(self) -> bool:
        return self.outcome != "preempted"


class Placement:
    """The station's airtime so far: disjoint intervals sorted by start (so also by end)."""

    __slots__ = ("ends", "owners", "starts")

    def __init__(self) -> None:
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []
        self.owners: list[int] = []

    def copy(self) -> Placement:
        other = Placement()
        other.starts = self.starts.copy()
        other.ends = self.ends.copy()
        other.owners = self.owners.copy()
        return other

    def first_clash(self, start: datetime, end: datetime) -> int | None:
        """Index of the earliest placed interval overlapping ``[start, end)``, if any."""
        i = bisect_right(self.ends, start)  # first interval ending after ``start``
        if i < len(self.starts) and self.starts[i] < end:
            return i
        return None

    def add(self, start: datetime, end: datetime, owner: int) -> None:
        i = bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)
        self.owners.insert(i, owner)

    def earliest_gap(self, start: datetime, length: timedelta, latest: datetime) -> datetime | None:
        """The earliest ``t`` in ``[start, latest]`` with ``[t, t + length)`` free."""
        t = start
        i = bisect_right(self.ends, t)
        while t <= latest:
            if i >= len(self.starts) or self.starts[i] >= t + length:
                return t
            t = max(t, self.ends[i])
            i += 1
        return None

    def free_parts(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The parts of ``[start, end)`` not yet taken."""
        parts = []
        t = start
        i = bisect_right(self.ends, start)
        while t < end:
            if i >= len(self.starts) or self.starts[i] >= end:
                parts.append((t, end))
                break
            if self.starts[i] > t:
                parts.append((t, self.starts[i]))
            t = max(t, self.ends[i])
            i += 1
        return parts


def place(occurrence: Occurrence, placement: Placement, min_fragment: timedelta) -> list[Entry]:
    """Place one occurrence against what is already placed; return its entries."""
    start, end, broadcast = occurrence.start, occurrence.end, occurrence.broadcast
    clash = placement.first_clash(start, end)
    if clash is None:
        placement.add(start, end, broadcast)
        return [Entry(occurrence, start, end, "scheduled")]
    by = placement.owners[clash]
    if occurrence.policy == "shift":
        length = end - start
        moved = placement.earliest_gap(start, length, start + occurrence.max_delay)
        if moved is not None:
            placement.add(moved, moved + length, broadcast)
            return [Entry(occurrence, moved, moved + length, "shifted", by)]
    elif occurrence.policy == "truncate":
        parts = [p for p in placement.free_parts(start, end) if p[1] - p[0] >= min_fragment]
        for part_start, part_end in parts:
            placement.add(part_start, part_end, broadcast)
        if parts:
            return [Entry(occurrence, s, e, "truncated", by, offset=s - start) for s, e in parts]
    return [Entry(occurrence, start, end, "preempted", by)]


def _place_all(
    ordered: Iterable[Occurrence], placement: Placement, min_fragment: timedelta
) -> list[Entry]:
    entries: list[Entry] = []
    for occurrence in ordered:
        entries.extend(place(occurrence, placement, min_fragment))
    return entries


def _sorted_entries(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.start, e.occurrence.key))


def resolve(
    occurrences: Iterable[Occurrence],
    path: Sequence[str],
    window: tuple[datetime, datetime],
    min_fragment: timedelta = timedelta(seconds=30),
) -> list[Entry]:
    """The timeline of the station at the end of ``path`` (codes from the root down).

    Occurrences that target no station on the path, or that do not overlap ``window``, are
    ignored; the result is sorted by start and includes preempted entries.
    """
    on_path = set(path)
    window_start, window_end = window
    relevant = {
        o
        for o in occurrences
        if o.targets & on_path and o.end > window_start and o.start < window_end
    }
    ordered = sorted(relevant, key=lambda o: o.key)
    return _sorted_entries(_place_all(ordered, Placement(), min_fragment))


@dataclass(frozen=True, slots=True)
class TreeNode:
    code: str
    parent: str | None


@dataclass(slots=True)
class _Resolved:
    ordered: list[Occurrence]  # every occurrence the station hears, in precedence order
    placement: Placement
    entries: list[Entry]  # sorted by start


def resolve_tree(
    nodes: Sequence[TreeNode],
    by_target: Mapping[str, Iterable[Occurrence]],
    min_fragment: timedelta = timedelta(seconds=30),
) -> dict[str, list[Entry]]:
    """Timelines for every node; ``nodes`` must list parents before their children.

    ``by_target`` maps a station code to the occurrences of broadcasts that target it
    directly (already limited to the window). The result equals :func:`resolve` on each
    station's path — the tests check exactly that — but shares the inherited work.
    """
    done: dict[str, _Resolved] = {}
    above: dict[str, frozenset[str]] = {}  # each node's ancestors' codes
    timelines: dict[str, list[Entry]] = {}
    for node in nodes:
        parent = done.get(node.parent) if node.parent is not None else None
        ancestors = above[node.code] = (
            above[node.parent] | {node.parent} if node.parent in above else frozenset()
        )
        # A broadcast that targets this node and one of its ancestors is already inherited.
        direct = by_target.get(node.code, ())
        own = sorted({o for o in direct if not o.targets & ancestors}, key=lambda o: o.key)
        if parent is None:
            placement = Placement()
            resolved = _Resolved(
                own, placement, _sorted_entries(_place_all(own, placement, min_fragment))
            )
        elif not own:
            resolved = parent  # nothing of its own: the very same timeline
        elif not parent.ordered or parent.ordered[-1].key < own[0].key:
            placement = parent.placement.copy()
            added = _place_all(own, placement, min_fragment)
            entries = _sorted_entries([*parent.entries, *added])
            resolved = _Resolved(parent.ordered + own, placement, entries)
        else:  # its own occurrences outrank inherited ones: place everything again
            ordered = list(heapq.merge(parent.ordered, own, key=lambda o: o.key))
            placement = Placement()
            entries = _sorted_entries(_place_all(ordered, placement, min_fragment))
            resolved = _Resolved(ordered, placement, entries)
        done[node.code] = resolved
        timelines[node.code] = resolved.entries
    return timelines

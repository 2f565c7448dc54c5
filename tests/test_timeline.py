"""The resolver: occurrences → a station's timeline (docs/architecture.md, rules 1–4).

Part one walks through the real rhythm of a Hà Nam morning with codes from the bundled
2024 tree; part two states the rules as properties and lets hypothesis look for a
counterexample among random trees and random occurrence sets.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.recurrence import local_day_window, occurrences
from scheduler.timeline import (
    PRIORITY_RANK,
    Entry,
    Occurrence,
    TreeNode,
    resolve,
    resolve_tree,
)
from tests.network_codes import HOP_LY, LE_HONG_PHONG, LY_NHAN, PHU_LY, QUANG_TRUNG
from tests.network_codes import PROVINCE as HA_NAM

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


HA_NAM_TREE = [
    TreeNode(HA_NAM, None),
    TreeNode(PHU_LY, HA_NAM),
    TreeNode(QUANG_TRUNG, PHU_LY),
    TreeNode(LE_HONG_PHONG, PHU_LY),
    TreeNode(LY_NHAN, HA_NAM),
    TreeNode(HOP_LY, LY_NHAN),
]

NORMAL, PRIORITY, EMERGENCY = (PRIORITY_RANK[c] for c in ("normal", "priority", "emergency"))
PROVINCE, DISTRICT, COMMUNE = 0, 1, 2  # owner depth

# Broadcast ids of the scenario.
PROVINCE_NEWS = 1  # Đài tỉnh news, relayed 05:30–06:00
VOV_RELAY = 2  # VOV1 relayed 06:00–06:30
PHU_LY_NEWS = 10  # Phủ Lý district programme, 05:00 and 17:00 Monday–Saturday
LY_NHAN_NEWS = 11  # Lý Nhân district programme, 05:00 and 17:00 Monday–Saturday
QUANG_TRUNG_BULLETIN = 20  # a commune's own bulletin 06:30–06:45
HOP_LY_BULLETIN = 21
FLOOD_ALERT = 99  # an emergency

MONDAY = date(2024, 6, 3)
DAY = local_day_window(MONDAY, MONDAY, "Asia/Ho_Chi_Minh")


def at(hhmm: str, day: date = MONDAY) -> datetime:
    """A local Hà Nội wall time on ``day`` as an aware UTC instant."""
    hours, mins = (int(x) for x in hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, hours, mins, tzinfo=HCM)
    return local.astimezone(UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def make_occurrence(
    broadcast: int = 1,
    start: str | datetime = "05:00",
    length: timedelta = timedelta(minutes=30),
    targets: Iterable[str] = (HA_NAM,),
    **overrides: Any,
) -> Occurrence:
    """An occurrence starting at a local time (or instant), with sensible defaults."""
    begin = at(start) if isinstance(start, str) else start
    return Occurrence(
        broadcast=broadcast,
        start=begin,
        end=begin + length,
        targets=frozenset(targets),
        **overrides,
    )


def province_news(**overrides: Any) -> Occurrence:
    fields: dict[str, Any] = {"start": "05:30", "created": 1, "policy": "truncate"}
    return make_occurrence(PROVINCE_NEWS, **(fields | overrides))


def vov_relay(**overrides: Any) -> Occurrence:
    fields: dict[str, Any] = {"start": "06:00", "created": 2, "policy": "truncate"}
    return make_occurrence(VOV_RELAY, **(fields | overrides))


def district_news(district: str = PHU_LY, start: str = "05:00", **overrides: Any) -> Occurrence:
    broadcast = PHU_LY_NEWS if district == PHU_LY else LY_NHAN_NEWS
    fields: dict[str, Any] = {
        "start": start,
        "targets": (district,),
        "owner_depth": DISTRICT,
        "created": broadcast,
    }
    return make_occurrence(broadcast, **(fields | overrides))


def commune_bulletin(commune: str = QUANG_TRUNG, **overrides: Any) -> Occurrence:
    broadcast = QUANG_TRUNG_BULLETIN if commune == QUANG_TRUNG else HOP_LY_BULLETIN
    fields: dict[str, Any] = {
        "start": "06:30",
        "length": minutes(15),
        "targets": (commune,),
        "owner_depth": COMMUNE,
        "created": broadcast,
    }
    return make_occurrence(broadcast, **(fields | overrides))


def flood_alert(
    start: str | datetime = "06:10",
    length: timedelta = timedelta(minutes=5),
    broadcast: int = FLOOD_ALERT,
    **overrides: Any,
) -> Occurrence:
    fields: dict[str, Any] = {"rank": EMERGENCY, "created": 50, "targets": (HA_NAM,)}
    return make_occurrence(broadcast, start, length, **(fields | overrides))


def morning() -> list[Occurrence]:
    """A normal Monday morning and evening across the province."""
    return [
        province_news(),
        vov_relay(),
        district_news(PHU_LY, "05:00"),
        district_news(PHU_LY, "17:00"),
        district_news(LY_NHAN, "05:00"),
        district_news(LY_NHAN, "17:00"),
        commune_bulletin(QUANG_TRUNG),
        commune_bulletin(HOP_LY, start="17:30"),
    ]


def path_of(code: str, nodes: Sequence[TreeNode] = HA_NAM_TREE) -> list[str]:
    parents = {n.code: n.parent for n in nodes}
    path = [code]
    while (parent := parents[path[-1]]) is not None:
        path.append(parent)
    return path[::-1]


def timeline(
    occs: Iterable[Occurrence], station: str, window: tuple[datetime, datetime] = DAY
) -> list[Entry]:
    return resolve(occs, path_of(station), window)


def summary(entries: Iterable[Entry]) -> list[tuple[datetime, datetime, int, str, int | None]]:
    """(start, end, broadcast, outcome, by) rows: easy to read in a failing assert."""
    return [(e.start, e.end, e.occurrence.broadcast, e.outcome, e.by) for e in entries]


def by_target_of(occs: Iterable[Occurrence]) -> dict[str, list[Occurrence]]:
    grouped: dict[str, list[Occurrence]] = defaultdict(list)
    for occurrence in occs:
        for code in occurrence.targets:
            grouped[code].append(occurrence)
    return grouped


# =========================================================================================
# Part one: the real rhythm
# =========================================================================================


def test_commune_hears_province_district_and_its_own_bulletins() -> None:
    assert summary(timeline(morning(), QUANG_TRUNG)) == [
        (at("05:00"), at("05:30"), PHU_LY_NEWS, "scheduled", None),
        (at("05:30"), at("06:00"), PROVINCE_NEWS, "scheduled", None),
        (at("06:00"), at("06:30"), VOV_RELAY, "scheduled", None),
        (at("06:30"), at("06:45"), QUANG_TRUNG_BULLETIN, "scheduled", None),
        (at("17:00"), at("17:30"), PHU_LY_NEWS, "scheduled", None),
    ]


def test_commune_in_another_district_hears_its_own_district() -> None:
    assert summary(timeline(morning(), HOP_LY)) == [
        (at("05:00"), at("05:30"), LY_NHAN_NEWS, "scheduled", None),
        (at("05:30"), at("06:00"), PROVINCE_NEWS, "scheduled", None),
        (at("06:00"), at("06:30"), VOV_RELAY, "scheduled", None),
        (at("17:00"), at("17:30"), LY_NHAN_NEWS, "scheduled", None),
        (at("17:30"), at("17:45"), HOP_LY_BULLETIN, "scheduled", None),
    ]


def test_broadcast_targeting_a_district_reaches_its_communes_only() -> None:
    reached = {
        station
        for station in (HA_NAM, PHU_LY, QUANG_TRUNG, LE_HONG_PHONG, LY_NHAN, HOP_LY)
        if any(e.occurrence.broadcast == PHU_LY_NEWS for e in timeline(morning(), station))
    }

    assert reached == {PHU_LY, QUANG_TRUNG, LE_HONG_PHONG}


def test_province_relay_reaches_every_station() -> None:
    for station in (HA_NAM, PHU_LY, QUANG_TRUNG, LE_HONG_PHONG, LY_NHAN, HOP_LY):
        broadcasts = [e.occurrence.broadcast for e in timeline(morning(), station)]
        assert VOV_RELAY in broadcasts, station


def test_district_plays_at_0500_and_1700_monday_to_saturday() -> None:
    week = local_day_window(MONDAY, MONDAY + timedelta(days=6), "Asia/Ho_Chi_Minh")
    airings = occurrences(
        datetime(2024, 6, 3, 5, 0),
        "Asia/Ho_Chi_Minh",
        minutes(30),
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR,SA;BYHOUR=5,17",
        None,
        (),
        *week,
    )
    occs = [district_news(PHU_LY, start) for start, _ in airings]

    entries = timeline(occs, QUANG_TRUNG, week)

    assert len(entries) == 12
    assert all(e.outcome == "scheduled" for e in entries)
    local_starts = [e.start.astimezone(HCM) for e in entries]
    assert {s.weekday() for s in local_starts} == {0, 1, 2, 3, 4, 5}  # no Sunday
    assert {(s.hour, s.minute) for s in local_starts} == {(5, 0), (17, 0)}


def test_occurrences_outside_the_window_are_ignored() -> None:
    tomorrow = MONDAY + timedelta(days=1)
    occs = [vov_relay(), vov_relay(start=at("06:00", tomorrow))]

    assert summary(timeline(occs, QUANG_TRUNG)) == [
        (at("06:00"), at("06:30"), VOV_RELAY, "scheduled", None)
    ]


def test_occurrence_running_into_the_window_is_kept_whole() -> None:
    late_show = make_occurrence(5, at("23:30", MONDAY - timedelta(days=1)), minutes(60))

    assert summary(timeline([late_show], QUANG_TRUNG)) == [
        (at("23:30", MONDAY - timedelta(days=1)), at("00:30"), 5, "scheduled", None)
    ]


def test_payload_is_carried_through_untouched() -> None:
    media = {"title": "Học tập suốt đời", "sha256": "ab" * 32}
    [entry] = timeline([vov_relay(payload=media)], QUANG_TRUNG)

    assert entry.occurrence.payload is media


# --- an emergency cuts through ------------------------------------------------------------


def test_relay_is_truncated_by_emergency() -> None:
    entries = timeline([*morning(), flood_alert("06:10", minutes(5))], QUANG_TRUNG)

    assert summary(entries) == [
        (at("05:00"), at("05:30"), PHU_LY_NEWS, "scheduled", None),
        (at("05:30"), at("06:00"), PROVINCE_NEWS, "scheduled", None),
        (at("06:00"), at("06:10"), VOV_RELAY, "truncated", FLOOD_ALERT),
        (at("06:10"), at("06:15"), FLOOD_ALERT, "scheduled", None),
        (at("06:15"), at("06:30"), VOV_RELAY, "truncated", FLOOD_ALERT),
        (at("06:30"), at("06:45"), QUANG_TRUNG_BULLETIN, "scheduled", None),
        (at("17:00"), at("17:30"), PHU_LY_NEWS, "scheduled", None),
    ]
    vov_parts = [e for e in entries if e.occurrence.broadcast == VOV_RELAY]
    assert [p.offset for p in vov_parts] == [minutes(0), minutes(15)]


def test_truncated_programme_parts_carry_their_offset_into_the_media() -> None:
    programme = district_news(PHU_LY, "05:00", policy="truncate")
    alert = flood_alert("05:10", minutes(5))

    entries = timeline([programme, alert], QUANG_TRUNG)

    parts = [e for e in entries if e.occurrence == programme]
    assert [(p.start, p.end, p.offset, p.by) for p in parts] == [
        (at("05:00"), at("05:10"), minutes(0), FLOOD_ALERT),
        (at("05:15"), at("05:30"), minutes(15), FLOOD_ALERT),
    ]


def test_truncation_drops_parts_shorter_than_the_minimum_fragment() -> None:
    alert = flood_alert(at("06:00") + timedelta(seconds=10), minutes(10) - timedelta(seconds=10))

    entries = resolve([vov_relay(), alert], path_of(QUANG_TRUNG), DAY, min_fragment=minutes(1))

    assert summary(entries) == [
        (alert.start, at("06:10"), FLOOD_ALERT, "scheduled", None),
        (at("06:10"), at("06:30"), VOV_RELAY, "truncated", FLOOD_ALERT),
    ]
    assert entries[1].offset == minutes(10)


def test_relay_with_no_part_long_enough_is_preempted() -> None:
    alert = flood_alert(at("06:00") + timedelta(seconds=20), minutes(30) - timedelta(seconds=30))

    entries = timeline([vov_relay(), alert], QUANG_TRUNG)

    assert summary(entries) == [
        (at("06:00"), at("06:30"), VOV_RELAY, "preempted", FLOOD_ALERT),
        (alert.start, alert.end, FLOOD_ALERT, "scheduled", None),
    ]


def test_programme_with_shift_policy_moves_to_the_next_gap() -> None:
    alert = flood_alert("06:30", minutes(10), owner_depth=DISTRICT, targets=(PHU_LY,))

    entries = timeline([*morning(), alert], QUANG_TRUNG)

    [bulletin] = [e for e in entries if e.occurrence.broadcast == QUANG_TRUNG_BULLETIN]
    assert (bulletin.start, bulletin.end, bulletin.outcome, bulletin.by) == (
        at("06:40"),
        at("06:55"),
        "shifted",
        FLOOD_ALERT,
    )


def test_shift_passes_over_gaps_too_short_for_the_programme() -> None:
    # The district programme (20 min) is hit by an alert until 05:15; 05:15–05:30 is too
    # short, then the province news and VOV run until 06:30: it moves to 06:30 and
    # pushes the commune bulletin on to 06:50.
    programme = district_news(PHU_LY, "05:00", length=minutes(20), max_delay=minutes(120))
    occs = [
        province_news(),
        vov_relay(),
        programme,
        commune_bulletin(QUANG_TRUNG, max_delay=minutes(30)),
        flood_alert("04:50", minutes(25)),
    ]

    assert summary(timeline(occs, QUANG_TRUNG)) == [
        (at("04:50"), at("05:15"), FLOOD_ALERT, "scheduled", None),
        (at("05:30"), at("06:00"), PROVINCE_NEWS, "scheduled", None),
        (at("06:00"), at("06:30"), VOV_RELAY, "scheduled", None),
        (at("06:30"), at("06:50"), PHU_LY_NEWS, "shifted", FLOOD_ALERT),
        (at("06:50"), at("07:05"), QUANG_TRUNG_BULLETIN, "shifted", PHU_LY_NEWS),
    ]


def test_programme_with_skip_policy_is_preempted() -> None:
    alert = flood_alert("06:30", minutes(10))
    bulletin = commune_bulletin(QUANG_TRUNG, policy="skip")

    entries = timeline([vov_relay(), bulletin, alert], QUANG_TRUNG)

    [entry] = [e for e in entries if e.occurrence == bulletin]
    assert (entry.start, entry.end, entry.outcome, entry.by) == (
        at("06:30"),
        at("06:45"),
        "preempted",
        FLOOD_ALERT,
    )
    assert not entry.airs


def test_shift_beyond_max_delay_is_preempted() -> None:
    alert = flood_alert("06:30", minutes(10))
    bulletin = commune_bulletin(QUANG_TRUNG, max_delay=minutes(5))

    [entry] = [e for e in timeline([bulletin, alert], QUANG_TRUNG) if e.occurrence == bulletin]

    assert (entry.start, entry.end, entry.outcome, entry.by) == (
        at("06:30"),
        at("06:45"),
        "preempted",
        FLOOD_ALERT,
    )


def test_shift_exactly_at_max_delay_is_allowed() -> None:
    alert = flood_alert("06:30", minutes(10))
    bulletin = commune_bulletin(QUANG_TRUNG, max_delay=minutes(10))

    [entry] = [e for e in timeline([bulletin, alert], QUANG_TRUNG) if e.occurrence == bulletin]

    assert (entry.start, entry.outcome) == (at("06:40"), "shifted")


def test_shift_one_second_beyond_max_delay_is_preempted() -> None:
    alert = flood_alert("06:30", minutes(10) + timedelta(seconds=1))
    bulletin = commune_bulletin(QUANG_TRUNG, max_delay=minutes(10))

    [entry] = [e for e in timeline([bulletin, alert], QUANG_TRUNG) if e.occurrence == bulletin]

    assert (entry.start, entry.outcome, entry.by) == (at("06:30"), "preempted", FLOOD_ALERT)


def test_commune_emergency_cuts_only_its_own_station() -> None:
    alert = flood_alert("06:10", minutes(5), owner_depth=COMMUNE, targets=(QUANG_TRUNG,))
    occs = [*morning(), alert]

    here = [e for e in timeline(occs, QUANG_TRUNG) if e.occurrence.broadcast == VOV_RELAY]
    next_door = [e for e in timeline(occs, LE_HONG_PHONG) if e.occurrence.broadcast == VOV_RELAY]

    assert [e.outcome for e in here] == ["truncated", "truncated"]
    assert [e.outcome for e in next_door] == ["scheduled"]


# --- precedence: class > owner depth > creation order -------------------------------------


def test_commune_emergency_outranks_a_province_relay() -> None:
    alert = flood_alert("06:00", minutes(10), owner_depth=COMMUNE, targets=(QUANG_TRUNG,))

    entries = timeline([vov_relay(), alert], QUANG_TRUNG)

    assert summary(entries) == [
        (at("06:00"), at("06:10"), FLOOD_ALERT, "scheduled", None),
        (at("06:10"), at("06:30"), VOV_RELAY, "truncated", FLOOD_ALERT),
    ]


def test_priority_class_outranks_normal_from_a_higher_level() -> None:
    notice = commune_bulletin(QUANG_TRUNG, start="06:00", rank=PRIORITY)

    entries = timeline([vov_relay(), notice], QUANG_TRUNG)

    assert summary(entries) == [
        (at("06:00"), at("06:15"), QUANG_TRUNG_BULLETIN, "scheduled", None),
        (at("06:15"), at("06:30"), VOV_RELAY, "truncated", QUANG_TRUNG_BULLETIN),
    ]


def test_province_outranks_district_in_the_same_class() -> None:
    # Created later, but owned higher up: the province wins.
    province = make_occurrence(3, "17:00", created=90, policy="shift")
    district = district_news(PHU_LY, "17:00", created=1)

    entries = timeline([district, province], QUANG_TRUNG)

    assert summary(entries) == [
        (at("17:00"), at("17:30"), 3, "scheduled", None),
        (at("17:30"), at("18:00"), PHU_LY_NEWS, "shifted", 3),
    ]


def test_earlier_creation_wins_between_equals() -> None:
    first = district_news(PHU_LY, "17:00", created=5)
    second = make_occurrence(12, "17:10", targets=(PHU_LY,), owner_depth=DISTRICT, created=7)

    for occs in ([first, second], [second, first]):
        assert summary(timeline(occs, QUANG_TRUNG)) == [
            (at("17:00"), at("17:30"), PHU_LY_NEWS, "scheduled", None),
            (at("17:30"), at("18:00"), 12, "shifted", PHU_LY_NEWS),
        ]


def test_precedence_key_orders_class_then_depth_then_creation() -> None:
    keys = [
        make_occurrence(1, rank=EMERGENCY, owner_depth=COMMUNE, created=9).key,
        make_occurrence(2, rank=PRIORITY, owner_depth=PROVINCE, created=9).key,
        make_occurrence(3, rank=NORMAL, owner_depth=PROVINCE, created=9).key,
        make_occurrence(4, rank=NORMAL, owner_depth=DISTRICT, created=1).key,
        make_occurrence(5, rank=NORMAL, owner_depth=DISTRICT, created=2).key,
    ]

    assert keys == sorted(keys)


# --- the whole tree at once -----------------------------------------------------------------


def test_resolve_tree_matches_resolve_for_the_ha_nam_scenario() -> None:
    occs = [
        *morning(),
        flood_alert("06:10", minutes(5)),
        flood_alert("17:10", minutes(5), 98, owner_depth=COMMUNE, targets=(HOP_LY,)),
    ]

    trees = resolve_tree(HA_NAM_TREE, by_target_of(occs))

    for node in HA_NAM_TREE:
        assert trees[node.code] == timeline(occs, node.code), node.code


def test_resolve_tree_counts_a_broadcast_targeting_a_district_and_its_commune_once() -> None:
    # An editor ticks both Phủ Lý and Quang Trung: one broadcast, one airing per station.
    both = make_occurrence(30, "18:00", targets=(PHU_LY, QUANG_TRUNG), owner_depth=DISTRICT)

    trees = resolve_tree(HA_NAM_TREE, by_target_of([both]))

    assert summary(timeline([both], QUANG_TRUNG)) == [
        (at("18:00"), at("18:30"), 30, "scheduled", None)
    ]
    assert summary(trees[QUANG_TRUNG]) == summary(timeline([both], QUANG_TRUNG))


# =========================================================================================
# Part two: properties
# =========================================================================================

# 120 examples under make test; fewer under make test-fast's hypothesis profile.
PROPERTY = settings(max_examples=min(120, settings().max_examples * 6 // 5), deadline=None)
BASE = datetime(2024, 6, 3, tzinfo=UTC)
WINDOW = (BASE, BASE + timedelta(days=1))


@dataclass(frozen=True)
class Scenario:
    nodes: list[TreeNode]
    occurrences: list[Occurrence]
    min_fragment: timedelta

    def path(self, code: str) -> list[str]:
        return path_of(code, self.nodes)

    def relevant(self, code: str) -> set[Occurrence]:
        on_path = set(self.path(code))
        return {
            o
            for o in self.occurrences
            if o.targets & on_path and o.end > WINDOW[0] and o.start < WINDOW[1]
        }


@st.composite
def trees(draw: st.DrawFn) -> list[TreeNode]:
    """A province with 1–3 districts, each with 0–3 communes; parents listed first."""
    nodes = [TreeNode("P", None)]
    for d in range(draw(st.integers(1, 3))):
        district = f"D{d}"
        nodes.append(TreeNode(district, "P"))
        nodes.extend(TreeNode(f"{district}C{c}", district) for c in range(draw(st.integers(0, 3))))
    return nodes


def _depth(code: str) -> int:
    return code.count("D") + code.count("C")


def _is_ancestor(a: str, b: str) -> bool:
    return a != b and (a == "P" or b.startswith(a))


def broadcast_specs(codes: Sequence[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    """One broadcast: targets, rank, owner depth, created, policy, max delay, length,
    quarter-hour slots of its occurrences (anywhere from 2 h before the day to its end, but
    often in a busy 05:00–07:00), jitter: collisions and short fragments are common."""
    return st.tuples(
        st.sets(st.sampled_from(codes), min_size=1, max_size=3),
        st.integers(0, 2),
        st.integers(0, 2),
        st.integers(0, 5),
        st.sampled_from(["shift", "truncate", "skip"]),
        st.sampled_from([0, 5, 15, 30, 90]).map(minutes),
        st.sampled_from([1, 5, 10, 15, 30, 45, 60, 120]).map(minutes)
        | st.sampled_from([1, 10, 30]).map(lambda m: minutes(m) + timedelta(seconds=20)),
        st.lists(st.integers(20, 28) | st.integers(-8, 96), min_size=1, max_size=3, unique=True),
        st.sampled_from([0, 10, 300]).map(lambda s: timedelta(seconds=s)),
    )


@st.composite
def scenarios(
    draw: st.DrawFn, nested_targets: bool = True, commune_emergency: bool = False
) -> Scenario:
    """Random broadcasts over a random tree, each with 1–3 occurrences in (or near) a day.

    ``nested_targets=False`` keeps a broadcast from targeting both a station
    and one of its ancestors.
    """
    nodes = draw(trees())
    codes = [n.code for n in nodes]
    occs: list[Occurrence] = []
    specs = draw(st.lists(broadcast_specs(codes), max_size=10))
    for broadcast, spec in enumerate(specs):
        targets, rank, depth, created, policy, max_delay, length, slots, jitter = spec
        if not nested_targets:
            targets = {t for t in targets if not any(_is_ancestor(a, t) for a in targets)}
        for slot in slots:
            start = BASE + slot * timedelta(minutes=15) + jitter
            occs.append(
                Occurrence(
                    broadcast=broadcast,
                    start=start,
                    end=start + length,
                    rank=rank,
                    owner_depth=depth,
                    created=created,
                    policy=policy,
                    max_delay=max_delay,
                    targets=frozenset(targets),
                    payload={"title": f"broadcast {broadcast}"},
                )
            )
    communes = [c for c in codes if _depth(c) == 2]
    if commune_emergency and communes:
        commune = draw(st.sampled_from(communes))
        start = BASE + draw(st.integers(0, 95)) * timedelta(minutes=15)
        occs.append(
            Occurrence(
                broadcast=1000,
                start=start,
                end=start + draw(st.sampled_from([5, 20, 60])) * timedelta(minutes=1),
                rank=EMERGENCY,
                owner_depth=COMMUNE,
                created=draw(st.integers(0, 5)),
                policy="skip",
                targets=frozenset({commune}),
            )
        )
    min_fragment = draw(st.sampled_from([timedelta(0), timedelta(seconds=30), minutes(5)]))
    return Scenario(nodes, occs, min_fragment)


@st.composite
def scenario_and_station(draw: st.DrawFn) -> tuple[Scenario, str]:
    scenario = draw(scenarios())
    return scenario, draw(st.sampled_from([n.code for n in scenario.nodes]))


def resolve_at(
    scenario: Scenario, code: str, occs: Iterable[Occurrence] | None = None
) -> list[Entry]:
    return resolve(
        scenario.occurrences if occs is None else occs,
        scenario.path(code),
        WINDOW,
        scenario.min_fragment,
    )


def grouped(entries: Iterable[Entry]) -> dict[Occurrence, list[Entry]]:
    groups: dict[Occurrence, list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[entry.occurrence].append(entry)
    return groups


@PROPERTY
@given(scenario_and_station())
def test_entries_that_air_never_overlap(case: tuple[Scenario, str]) -> None:
    scenario, code = case
    entries = resolve_at(scenario, code)
    airing = [e for e in entries if e.airs]

    assert [e.start for e in entries] == sorted(e.start for e in entries)  # sorted by start
    for before, after in itertools.pairwise(airing):
        assert before.end <= after.start, (before, after)


@PROPERTY
@given(scenario_and_station())
def test_every_occurrence_is_accounted_for_exactly_once(case: tuple[Scenario, str]) -> None:
    scenario, code = case
    groups = grouped(resolve_at(scenario, code))

    assert set(groups) == scenario.relevant(code)
    for occurrence, entries in groups.items():
        outcomes = {e.outcome for e in entries}
        assert len(outcomes) == 1, (occurrence, entries)
        if len(entries) > 1:
            assert outcomes == {"truncated"}, entries


@PROPERTY
@given(scenario_and_station())
def test_higher_precedence_is_never_displaced_by_lower(case: tuple[Scenario, str]) -> None:
    scenario, code = case
    full = resolve_at(scenario, code)
    ranked = sorted(scenario.relevant(code), key=lambda o: o.key)

    for keep in range(len(ranked)):
        higher = set(ranked[:keep])
        alone = resolve_at(scenario, code, higher)
        assert [e for e in full if e.occurrence in higher] == alone


@PROPERTY
@given(scenario_and_station())
def test_each_outcome_keeps_its_promises(case: tuple[Scenario, str]) -> None:
    scenario, code = case
    entries = resolve_at(scenario, code)

    for e in entries:
        o = e.occurrence
        if e.outcome == "scheduled":
            assert (e.start, e.end, e.by, e.offset) == (o.start, o.end, None, timedelta(0))
        elif e.outcome == "shifted":
            assert o.start < e.start <= o.start + o.max_delay
            assert e.end - e.start == o.duration
            assert o.policy == "shift"
        elif e.outcome == "truncated":
            assert o.start <= e.start < e.end <= o.end
            assert e.end - e.start >= scenario.min_fragment
            assert e.offset == e.start - o.start
            assert o.policy == "truncate"
        else:
            assert (e.outcome, e.start, e.end) == ("preempted", o.start, o.end)


def _clashes(start: datetime, end: datetime, taken: Iterable[Entry]) -> bool:
    return any(w.start < end and start < w.end for w in taken)


@PROPERTY
@given(scenario_and_station())
def test_losers_get_exactly_the_time_left_by_higher_ones(case: tuple[Scenario, str]) -> None:
    """Shift takes the earliest gap within the delay; truncate keeps every free part long
    enough; preempted really had no room. "Taken" = what higher occurrences air."""
    scenario, code = case
    entries = resolve_at(scenario, code)

    for occurrence, mine in grouped(entries).items():
        taken = [e for e in entries if e.airs and e.occurrence.key < occurrence.key]
        start, end, length = occurrence.start, occurrence.end, occurrence.duration
        if mine[0].outcome == "scheduled":
            assert not _clashes(start, end, taken)
            continue
        assert _clashes(start, end, taken)
        if occurrence.policy == "shift":
            latest = start + occurrence.max_delay
            candidates = sorted({start} | {w.end for w in taken if start <= w.end <= latest})
            gaps = [t for t in candidates if not _clashes(t, t + length, taken)]
            if gaps:
                assert [(e.outcome, e.start) for e in mine] == [("shifted", gaps[0])]
            else:
                assert [e.outcome for e in mine] == ["preempted"]
        elif occurrence.policy == "truncate":
            edges = sorted({start, end} | {w.start for w in taken} | {w.end for w in taken})
            edges = [t for t in edges if start <= t <= end]
            free = [(a, b) for a, b in itertools.pairwise(edges) if not _clashes(a, b, taken)]
            merged: list[tuple[datetime, datetime]] = []
            for a, b in free:
                if merged and merged[-1][1] == a:
                    merged[-1] = (merged[-1][0], b)
                else:
                    merged.append((a, b))
            kept = [(a, b) for a, b in merged if b - a >= scenario.min_fragment]
            if kept:
                assert [(e.outcome, e.start, e.end) for e in mine] == [
                    ("truncated", a, b) for a, b in kept
                ]
            else:
                assert [e.outcome for e in mine] == ["preempted"]
        else:
            assert [e.outcome for e in mine] == ["preempted"]


@PROPERTY
@given(scenario_and_station())
def test_every_loser_names_a_higher_broadcast_airing_in_its_slot(
    case: tuple[Scenario, str],
) -> None:
    scenario, code = case
    entries = resolve_at(scenario, code)
    airing = [e for e in entries if e.airs]

    for e in entries:
        if e.outcome == "scheduled":
            continue
        o = e.occurrence
        assert any(
            w.occurrence.broadcast == e.by
            and w.occurrence.key < o.key
            and w.start < o.end
            and o.start < w.end
            for w in airing
        ), e


@PROPERTY
@given(scenario_and_station(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(
    case: tuple[Scenario, str], rng: random.Random
) -> None:
    scenario, code = case
    shuffled = scenario.occurrences.copy()
    rng.shuffle(shuffled)

    assert resolve_at(scenario, code, shuffled) == resolve_at(scenario, code)


def _assert_tree_matches_paths(scenario: Scenario) -> None:
    in_window = [o for o in scenario.occurrences if o.end > WINDOW[0] and o.start < WINDOW[1]]
    trees_ = resolve_tree(scenario.nodes, by_target_of(in_window), scenario.min_fragment)

    assert set(trees_) == {n.code for n in scenario.nodes}
    for node in scenario.nodes:
        assert trees_[node.code] == resolve_at(scenario, node.code), node.code


@PROPERTY
@given(scenarios(nested_targets=False))
def test_resolve_tree_equals_resolve_on_every_path(scenario: Scenario) -> None:
    _assert_tree_matches_paths(scenario)


@PROPERTY
@given(scenarios(nested_targets=False, commune_emergency=True))
def test_resolve_tree_equals_resolve_when_a_commune_has_its_own_emergency(
    scenario: Scenario,
) -> None:
    _assert_tree_matches_paths(scenario)


@PROPERTY
@given(scenarios(nested_targets=True, commune_emergency=True))
def test_resolve_tree_equals_resolve_even_when_targets_nest(scenario: Scenario) -> None:
    _assert_tree_matches_paths(scenario)

"""Occurrences of a broadcast: local start + RRULE + until + exceptions → UTC instants.

Vietnam is UTC+7 all year, so a 05:00 bulletin airs at 22:00 UTC the previous day and a
local-day window crosses midnight in UTC. Europe/Berlin stands in for any zone with DST.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule as du_rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.recurrence import (
    RecurrenceError,
    local_day_window,
    localize,
    occurrences,
    parse_rule,
)

HCM = "Asia/Ho_Chi_Minh"
BERLIN = "Europe/Berlin"
MON_SAT = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR,SA"


def utc(*args: int) -> datetime:
    """An aware UTC instant, e.g. ``utc(2024, 6, 2, 22, 0)``."""
    return datetime(*args, tzinfo=UTC)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def days_in(
    first: date,
    last: date,
    *,
    start_local: datetime,
    rule: str | None = "FREQ=DAILY",
    duration: timedelta = timedelta(minutes=30),
    zone: str = HCM,
    until: date | None = None,
    exdates: Iterable[date | datetime] = (),
) -> list[tuple[datetime, datetime]]:
    """The airings of one broadcast during whole local days ``first``..``last``."""
    window_start, window_end = local_day_window(first, last, zone)
    return occurrences(start_local, zone, duration, rule, until, exdates, window_start, window_end)


# --- local_day_window -------------------------------------------------------------------


def test_local_day_in_ho_chi_minh_runs_from_1700_utc_the_day_before() -> None:
    assert local_day_window(date(2024, 6, 3), date(2024, 6, 3), HCM) == (
        utc(2024, 6, 2, 17, 0),
        utc(2024, 6, 3, 17, 0),
    )


def test_local_week_window_covers_seven_whole_days() -> None:
    start, end = local_day_window(date(2024, 6, 3), date(2024, 6, 9), HCM)
    assert (start, end) == (utc(2024, 6, 2, 17, 0), utc(2024, 6, 9, 17, 0))
    assert end - start == timedelta(days=7)


def test_local_day_window_on_spring_forward_day_is_23_hours_long() -> None:
    start, end = local_day_window(date(2024, 3, 31), date(2024, 3, 31), BERLIN)
    assert (start, end) == (utc(2024, 3, 30, 23, 0), utc(2024, 3, 31, 22, 0))
    assert end - start == timedelta(hours=23)


def test_local_day_window_on_autumn_day_is_25_hours_long() -> None:
    start, end = local_day_window(date(2024, 10, 27), date(2024, 10, 27), BERLIN)
    assert (start, end) == (utc(2024, 10, 26, 22, 0), utc(2024, 10, 27, 23, 0))
    assert end - start == timedelta(hours=25)


# --- Vietnam: daily and weekday rhythms -------------------------------------------------


def test_daily_0500_bulletin_airs_at_2200_utc_the_previous_day() -> None:
    found = days_in(date(2024, 6, 3), date(2024, 6, 3), start_local=datetime(2024, 6, 1, 5, 0))

    assert found == [(utc(2024, 6, 2, 22, 0), utc(2024, 6, 2, 22, 30))]


def test_weekday_rule_skips_sunday() -> None:
    # 2024-06-03 is a Monday, 2024-06-09 a Sunday.
    found = days_in(
        date(2024, 6, 3),
        date(2024, 6, 9),
        start_local=datetime(2024, 6, 3, 5, 0),
        rule=MON_SAT,
    )

    assert found == [
        (utc(2024, 6, day - 1, 22, 0), utc(2024, 6, day - 1, 22, 30)) for day in range(3, 9)
    ]


def test_weekday_rule_with_two_hours_gives_morning_and_evening_sessions() -> None:
    found = days_in(
        date(2024, 6, 8),
        date(2024, 6, 9),
        start_local=datetime(2024, 6, 3, 5, 0),
        rule=f"{MON_SAT};BYHOUR=5,17",
    )

    # Saturday 05:00 and 17:00 local; nothing on Sunday.
    assert found == [
        (utc(2024, 6, 7, 22, 0), utc(2024, 6, 7, 22, 30)),
        (utc(2024, 6, 8, 10, 0), utc(2024, 6, 8, 10, 30)),
    ]


def test_rule_prefix_and_lower_case_are_accepted() -> None:
    found = days_in(
        date(2024, 6, 3),
        date(2024, 6, 3),
        start_local=datetime(2024, 6, 1, 5, 0),
        rule="RRULE:freq=daily;byday=mo,tu",
    )

    assert found == [(utc(2024, 6, 2, 22, 0), utc(2024, 6, 2, 22, 30))]


def test_no_rule_means_a_single_airing() -> None:
    start_local = datetime(2024, 6, 4, 17, 30)

    assert days_in(date(2024, 6, 3), date(2024, 6, 9), start_local=start_local, rule=None) == [
        (utc(2024, 6, 4, 10, 30), utc(2024, 6, 4, 11, 0))
    ]
    assert days_in(date(2024, 6, 5), date(2024, 6, 9), start_local=start_local, rule=None) == []


def test_count_is_counted_from_the_first_start_not_from_the_window() -> None:
    found = days_in(
        date(2024, 6, 3),
        date(2024, 6, 9),
        start_local=datetime(2024, 6, 1, 5, 0),
        rule="FREQ=DAILY;COUNT=3",
    )

    assert found == [(utc(2024, 6, 2, 22, 0), utc(2024, 6, 2, 22, 30))]


def test_window_bounds_in_another_zone_mean_the_same_instants() -> None:
    hanoi = ZoneInfo(HCM)
    found = occurrences(
        datetime(2024, 6, 1, 5, 0),
        HCM,
        minutes(30),
        "FREQ=DAILY",
        None,
        (),
        datetime(2024, 6, 3, 0, 0, tzinfo=hanoi),
        datetime(2024, 6, 4, 0, 0, tzinfo=hanoi),
    )

    assert found == [(utc(2024, 6, 2, 22, 0), utc(2024, 6, 2, 22, 30))]


# --- window edges -----------------------------------------------------------------------


def test_airing_that_starts_before_the_window_and_ends_inside_is_included() -> None:
    # 16:30–17:30 UTC straddles the window start (17:00 UTC = local midnight).
    found = occurrences(
        datetime(2024, 6, 1, 23, 30),
        HCM,
        minutes(60),
        "FREQ=DAILY",
        None,
        (),
        utc(2024, 6, 3, 17, 0),
        utc(2024, 6, 3, 18, 0),
    )

    assert found == [(utc(2024, 6, 3, 16, 30), utc(2024, 6, 3, 17, 30))]


def test_airing_that_ends_exactly_at_the_window_start_is_left_out() -> None:
    found = occurrences(
        datetime(2024, 6, 1, 23, 30),
        HCM,
        minutes(30),
        "FREQ=DAILY",
        None,
        (),
        utc(2024, 6, 3, 17, 0),
        utc(2024, 6, 3, 18, 0),
    )

    assert found == []


def test_airing_that_starts_exactly_at_the_window_end_is_left_out() -> None:
    found = occurrences(
        datetime(2024, 6, 1, 0, 0),
        HCM,
        minutes(30),
        "FREQ=DAILY",
        None,
        (),
        utc(2024, 6, 3, 16, 0),
        utc(2024, 6, 3, 17, 0),
    )

    assert found == []


def test_2330_broadcast_lasting_an_hour_crosses_local_midnight() -> None:
    found = days_in(
        date(2024, 6, 4),
        date(2024, 6, 4),
        start_local=datetime(2024, 6, 1, 23, 30),
        duration=minutes(60),
    )

    # Yesterday's airing ends at 00:30 local on the 4th, so it belongs to the day too.
    assert found == [
        (utc(2024, 6, 3, 16, 30), utc(2024, 6, 3, 17, 30)),
        (utc(2024, 6, 4, 16, 30), utc(2024, 6, 4, 17, 30)),
    ]


# --- until and exceptions ---------------------------------------------------------------


def test_until_date_is_inclusive() -> None:
    found = days_in(
        date(2024, 6, 1),
        date(2024, 6, 9),
        start_local=datetime(2024, 6, 1, 5, 0),
        until=date(2024, 6, 5),
    )

    # 05:00 local on 1..5 June; the 5th, the until date itself, is the last one.
    assert [start for start, _ in found] == [
        utc(2024, 5, 31, 22, 0),
        utc(2024, 6, 1, 22, 0),
        utc(2024, 6, 2, 22, 0),
        utc(2024, 6, 3, 22, 0),
        utc(2024, 6, 4, 22, 0),
    ]


def test_until_date_is_a_local_date_even_late_in_the_evening() -> None:
    # 23:30 local on the 5th is 16:30 UTC on the 5th; 23:30 on the 6th is past until.
    found = days_in(
        date(2024, 6, 5),
        date(2024, 6, 7),
        start_local=datetime(2024, 6, 1, 23, 30),
        until=date(2024, 6, 5),
    )

    assert found == [(utc(2024, 6, 5, 16, 30), utc(2024, 6, 5, 17, 0))]


def test_until_date_overrides_until_inside_the_rule() -> None:
    found = days_in(
        date(2024, 6, 1),
        date(2024, 6, 9),
        start_local=datetime(2024, 6, 1, 5, 0),
        rule="FREQ=DAILY;UNTIL=20240630T000000",
        until=date(2024, 6, 2),
    )

    assert [start for start, _ in found] == [utc(2024, 5, 31, 22, 0), utc(2024, 6, 1, 22, 0)]


def test_single_airing_after_until_does_not_air() -> None:
    found = days_in(
        date(2024, 6, 1),
        date(2024, 6, 9),
        start_local=datetime(2024, 6, 4, 5, 0),
        rule=None,
        until=date(2024, 6, 3),
    )

    assert found == []


def test_exdate_as_a_whole_date_removes_every_airing_that_day() -> None:
    found = days_in(
        date(2024, 6, 3),
        date(2024, 6, 5),
        start_local=datetime(2024, 6, 3, 5, 0),
        rule=f"{MON_SAT};BYHOUR=5,17",
        exdates=[date(2024, 6, 4)],
    )

    assert [start for start, _ in found] == [
        utc(2024, 6, 2, 22, 0),
        utc(2024, 6, 3, 10, 0),
        utc(2024, 6, 4, 22, 0),
        utc(2024, 6, 5, 10, 0),
    ]


def test_exdate_as_a_local_datetime_removes_only_that_airing() -> None:
    found = days_in(
        date(2024, 6, 4),
        date(2024, 6, 4),
        start_local=datetime(2024, 6, 3, 5, 0),
        rule=f"{MON_SAT};BYHOUR=5,17",
        exdates=[datetime(2024, 6, 4, 17, 0)],
    )

    assert found == [(utc(2024, 6, 3, 22, 0), utc(2024, 6, 3, 22, 30))]


def test_exdate_as_an_aware_local_datetime_is_read_as_wall_time() -> None:
    found = days_in(
        date(2024, 6, 4),
        date(2024, 6, 4),
        start_local=datetime(2024, 6, 3, 5, 0),
        rule=f"{MON_SAT};BYHOUR=5,17",
        exdates=[datetime(2024, 6, 4, 5, 0, tzinfo=ZoneInfo(HCM))],
    )

    assert found == [(utc(2024, 6, 4, 10, 0), utc(2024, 6, 4, 10, 30))]


def test_exdate_datetime_that_matches_no_start_removes_nothing() -> None:
    found = days_in(
        date(2024, 6, 4),
        date(2024, 6, 4),
        start_local=datetime(2024, 6, 3, 5, 0),
        exdates=[datetime(2024, 6, 4, 5, 1)],
    )

    assert found == [(utc(2024, 6, 3, 22, 0), utc(2024, 6, 3, 22, 30))]


# --- a zone with DST --------------------------------------------------------------------


def test_start_in_spring_forward_gap_moves_to_the_first_real_minute() -> None:
    # 2024-03-31 02:00 CET jumps to 03:00 CEST: 02:30 does not exist and airs at 03:30.
    found = days_in(
        date(2024, 3, 30),
        date(2024, 4, 1),
        start_local=datetime(2024, 3, 1, 2, 30),
        zone=BERLIN,
    )

    assert found == [
        (utc(2024, 3, 30, 1, 30), utc(2024, 3, 30, 2, 0)),  # 02:30 CET
        (utc(2024, 3, 31, 1, 30), utc(2024, 3, 31, 2, 0)),  # 03:30 CEST
        (utc(2024, 4, 1, 0, 30), utc(2024, 4, 1, 1, 0)),  # 02:30 CEST
    ]
    moved = found[1][0].astimezone(ZoneInfo(BERLIN))
    assert (moved.hour, moved.minute, moved.utcoffset()) == (3, 30, timedelta(hours=2))


def test_start_in_the_repeated_autumn_hour_takes_its_first_occurrence() -> None:
    # 2024-10-27 03:00 CEST falls back to 02:00 CET: 02:30 happens twice; take CEST.
    found = days_in(
        date(2024, 10, 26),
        date(2024, 10, 28),
        start_local=datetime(2024, 10, 1, 2, 30),
        zone=BERLIN,
    )

    assert found == [
        (utc(2024, 10, 26, 0, 30), utc(2024, 10, 26, 1, 0)),  # 02:30 CEST
        (utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 0)),  # 02:30 CEST, the first one
        (utc(2024, 10, 28, 1, 30), utc(2024, 10, 28, 2, 0)),  # 02:30 CET
    ]


def test_duration_is_elapsed_time_across_the_autumn_change() -> None:
    # 01:30 CEST + 2 h elapsed = 02:30 CET on the wall clock (only one wall hour later).
    found = days_in(
        date(2024, 10, 27),
        date(2024, 10, 27),
        start_local=datetime(2024, 10, 27, 1, 30),
        rule=None,
        duration=minutes(120),
        zone=BERLIN,
    )

    assert found == [(utc(2024, 10, 26, 23, 30), utc(2024, 10, 27, 1, 30))]
    end_local = found[0][1].astimezone(ZoneInfo(BERLIN))
    assert (end_local.hour, end_local.minute) == (2, 30)


def test_duration_is_elapsed_time_across_the_spring_change() -> None:
    # 01:30 CET + 60 min elapsed = 03:30 CEST on the wall clock.
    found = days_in(
        date(2024, 3, 31),
        date(2024, 3, 31),
        start_local=datetime(2024, 3, 31, 1, 30),
        rule=None,
        duration=minutes(60),
        zone=BERLIN,
    )

    assert found == [(utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 1, 30))]
    end_local = found[0][1].astimezone(ZoneInfo(BERLIN))
    assert (end_local.hour, end_local.minute) == (3, 30)


# --- parse_rule -------------------------------------------------------------------------


def test_parse_rule_expands_in_local_wall_time() -> None:
    rule = parse_rule(MON_SAT, datetime(2024, 6, 3, 5, 0))

    assert rule.between(datetime(2024, 6, 8), datetime(2024, 6, 11)) == [
        datetime(2024, 6, 8, 5, 0),
        datetime(2024, 6, 10, 5, 0),
    ]


def test_parse_rule_until_includes_the_whole_last_day() -> None:
    rule = parse_rule("FREQ=DAILY;BYHOUR=5,17", datetime(2024, 6, 3, 5, 0), date(2024, 6, 4))

    assert list(rule) == [
        datetime(2024, 6, 3, 5, 0),
        datetime(2024, 6, 3, 17, 0),
        datetime(2024, 6, 4, 5, 0),
        datetime(2024, 6, 4, 17, 0),
    ]


def test_parse_rule_accepts_count_without_until() -> None:
    rule = parse_rule("FREQ=WEEKLY;COUNT=2", datetime(2024, 6, 3, 5, 0))

    assert list(rule) == [datetime(2024, 6, 3, 5, 0), datetime(2024, 6, 10, 5, 0)]


def test_recurrence_error_is_a_value_error() -> None:
    assert issubclass(RecurrenceError, ValueError)


@pytest.mark.parametrize(
    ("rule", "until", "message"),
    [
        pytest.param(
            "every day at five", None, r"'EVERY DAY AT FIVE' is not NAME=VALUE", id="garbage"
        ),
        pytest.param(
            "FREQ=SECONDLY", None, r"FREQ must be one of .*\(got SECONDLY\)", id="secondly"
        ),
        pytest.param("FREQ=MINUTELY", None, r"\(got MINUTELY\)", id="minutely"),
        pytest.param("", None, "single RRULE", id="empty"),
        pytest.param(
            "FREQ=DAILY;COUNT=10",
            date(2024, 6, 30),
            "COUNT.*cannot also have an until",
            id="count+until",
        ),
        pytest.param(
            "FREQ=DAILY;UNTIL=20240630T000000Z", None, "UNTIL must be a local time", id="until-z"
        ),
        pytest.param("FREQ=DAILY\nBYDAY=MO", None, "single RRULE", id="multi-line"),
        pytest.param(
            "RRULE:FREQ=DAILY\nEXDATE:20240604T050000", None, "single RRULE", id="rrule+exdate"
        ),
        pytest.param("DTSTART:20240601T050000", None, "single RRULE", id="other-property"),
        pytest.param("FREQ=DAILY;BYDAY=XX", None, "not valid RFC 5545.*BYDAY", id="bad-byday"),
        pytest.param("FREQ=DAILY;FOO=1", None, "part FOO is not supported", id="unknown-part"),
        pytest.param(
            "FREQ=DAILY;INTERVAL=two", None, "INTERVAL must be a whole number", id="bad-interval"
        ),
        pytest.param(
            "FREQ=DAILY;INTERVAL=0", None, "INTERVAL must be a whole number", id="interval-0"
        ),
        pytest.param("FREQ=DAILY;COUNT=0", None, "COUNT must be a whole number", id="count-0"),
        pytest.param("FREQ=DAILY;UNTIL=2026", None, "UNTIL must look like", id="until-short"),
        pytest.param("FREQ=YEARLY;BYEASTER=0", None, "BYEASTER is not supported", id="byeaster"),
    ],
)
def test_bad_rule_raises_recurrence_error_saying_why(
    rule: str, until: date | None, message: str
) -> None:
    with pytest.raises(RecurrenceError, match=message):
        parse_rule(rule, datetime(2024, 6, 1, 5, 0), until)


def test_occurrences_reports_a_bad_rule_too() -> None:
    with pytest.raises(RecurrenceError, match="FREQ must be one of"):
        days_in(
            date(2024, 6, 3),
            date(2024, 6, 3),
            start_local=datetime(2024, 6, 1, 5, 0),
            rule="FREQ=SECONDLY",
        )


# --- Fast-forwarding old rules must not change a single airing ---------------------------

_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def _old_rules(draw: st.DrawFn) -> tuple[str, datetime]:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "HOURLY"]))
    rule = f"FREQ={freq};INTERVAL={draw(st.integers(1, 4))}"
    if draw(st.booleans()):
        rule += ";BYDAY=" + ",".join(
            draw(st.lists(st.sampled_from(_DAYS), min_size=1, max_size=4, unique=True))
        )
    minutes = draw(st.integers(0, 60 * 24 * 900))
    return rule, datetime(2023, 1, 1) + timedelta(minutes=minutes)


@settings(max_examples=min(150, settings().max_examples * 3 // 2), deadline=None)  # fast: fewer
@given(
    rule_start=_old_rules(),
    zone=st.sampled_from(["Asia/Ho_Chi_Minh", "Europe/Berlin"]),
    offset_h=st.integers(0, 24 * 400),
    days=st.integers(1, 9),
)
def test_old_rules_expand_exactly_as_dateutil_walks_them(
    rule_start: tuple[str, datetime], zone: str, offset_h: int, days: int
) -> None:
    rule, start = rule_start
    window_start = datetime(2025, 3, 20, tzinfo=UTC) + timedelta(hours=offset_h)
    window_end = window_start + timedelta(days=days)
    length = timedelta(minutes=30)
    ours = occurrences(start, zone, length, rule, None, [], window_start, window_end)
    tz = ZoneInfo(zone)
    walked = du_rrule.rrulestr(rule, dtstart=start).between(
        (window_start - length).astimezone(tz).replace(tzinfo=None) - timedelta(hours=3),
        window_end.astimezone(tz).replace(tzinfo=None) + timedelta(hours=3),
        inc=True,
    )
    instants = [localize(local, tz) for local in walked]
    expected = [(a, a + length) for a in instants if a + length > window_start and a < window_end]
    assert ours == expected

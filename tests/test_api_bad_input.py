"""Bad input never hurts (docs/api.md, errors): every mistake is a 4xx with a sentence in
``error`` and, where one field is to blame, its name in ``field``; never a 500, and nothing
is half-saved — no broadcast, no audit event, no revision bump.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.models import AuditEvent, Broadcast, Station

pytestmark = pytest.mark.usefixtures("fast_passwords")

TUESDAY = "2026-04-21"
DEADLINE_S = 2
MISSING: Any = object()  # leave the key out of the body


def relay(**overrides: Any) -> dict[str, Any]:
    body = {
        "title": "Chương trình phát thanh Phủ Lý",
        "owner": "347",
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/phu-ly.mp3",
        "start": f"{TUESDAY}T17:00:00",
        "duration_s": 1800,
        **overrides,
    }
    return {k: v for k, v in body.items() if v is not MISSING}


class TooSlow(BaseException):
    """Raised by the deadline alarm; a BaseException so no error handler swallows it."""


def post_within_deadline(caller: Any, url: str, body: Any, seconds: int = DEADLINE_S) -> Any:
    """POST, but fail the test instead of hanging when the request never finishes."""

    def alarm(_signum: int, _frame: Any) -> None:
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    timed_out = False
    try:
        return caller.post(url, json=body)
    except TooSlow:
        timed_out = True
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        if timed_out:
            pytest.fail(f"POST {url} did not finish within {seconds} s (hangs)", pytrace=False)


def assert_error(response: Any, status: int | tuple[int, ...], field: str | None) -> None:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.get_data(True))
    assert response.is_json, response.get_data(True)
    body = response.json
    assert isinstance(body.get("error"), str), body
    assert len(body["error"]) > 5, body
    if field is not None:
        assert body.get("field") == field, body


def nothing_saved(db: Session) -> None:
    db.rollback()
    assert db.scalar(select(func.count(Broadcast.id))) == 0
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("broadcast.%")))
    assert list(actions) == []
    assert db.scalar(select(func.max(Station.schedule_revision))) == 1  # as imported


@pytest.fixture
def admin(make_caller: Any) -> Any:
    return make_caller("admin", "35")


# --- POST /api/v1/broadcasts: well-formed JSON, wrong content --------------------------------

BAD_BROADCASTS = [
    # (id, body, status, field)
    ("unknown-owner", relay(owner="99999"), 400, "owner"),
    ("unknown-target", relay(targets=["347", "99999"]), 400, "targets"),
    ("unknown-source", relay(source="99999", stream_url=MISSING), 400, "source"),
    ("source-without-stream", relay(source="13285", stream_url=MISSING), 400, "source"),
    ("relay-without-source", relay(stream_url=MISSING), 400, "source"),
    ("bad-stream-scheme", relay(stream_url="ftp://127.0.0.1/x"), 400, "stream_url"),
    ("rrule-unknown-freq", relay(rrule="FREQ=SOMETIMES"), 400, "rrule"),
    ("rrule-minutely", relay(rrule="FREQ=MINUTELY"), 400, "rrule"),
    ("rrule-bad-byday", relay(rrule="FREQ=DAILY;BYDAY=XX"), 400, "rrule"),
    ("rrule-bad-byhour", relay(rrule="FREQ=DAILY;BYHOUR=25"), 400, "rrule"),
    ("rrule-garbage", relay(rrule="mỗi ngày"), 400, "rrule"),
    ("rrule-two-lines", relay(rrule="FREQ=DAILY\nEXRULE:FREQ=WEEKLY"), 400, "rrule"),
    ("rrule-count-and-until", relay(rrule="FREQ=DAILY;COUNT=3", until="2026-05-01"), 400, "rrule"),
    ("rrule-interval-zero", relay(rrule="FREQ=DAILY;INTERVAL=0"), 400, "rrule"),
    ("until-before-start", relay(rrule="FREQ=DAILY", until="2026-04-20"), 400, "until"),
    ("unknown-priority", relay(priority="urgent"), 400, "priority"),
    ("null-priority", relay(priority=None), 400, "priority"),
    ("unknown-conflict", relay(conflict="wait"), 400, "conflict"),
    ("unknown-kind", relay(kind="podcast"), 400, "kind"),
    ("relay-without-duration", relay(duration_s=MISSING), 400, "duration_s"),
    ("relay-zero-duration", relay(duration_s=0), 400, "duration_s"),
    ("relay-longer-than-a-day", relay(duration_s=86_401), 400, "duration_s"),
    ("relay-shift", relay(conflict="shift"), 400, "conflict"),
    ("relay-with-program", relay(program=1), 400, "program"),
    (
        "program-unknown-id",
        relay(kind="program", program=999, stream_url=MISSING, duration_s=MISSING),
        400,
        "program",
    ),
    (
        "program-without-id",
        relay(kind="program", stream_url=MISSING, duration_s=MISSING),
        400,
        "program",
    ),
    ("duration-not-a-number", relay(duration_s="abc"), 400, "duration_s"),
    ("duration-fraction", relay(duration_s=1.5), 400, "duration_s"),
    ("targets-a-string", relay(targets="347"), 400, "targets"),
    ("title-a-number", relay(title=5), 400, "title"),
    ("title-blank", relay(title="   "), 400, "title"),
    ("title-too-long", relay(title="x" * 301), 400, "title"),
    ("start-not-a-time", relay(start="sáng mai"), 400, "start"),
    ("start-bad-offset", relay(start=f"{TUESDAY}T17:00:00+25:00"), 400, "start"),
    ("start-year-9999", relay(start="9999-12-31T23:00:00"), 400, "start"),
    ("until-not-a-date", relay(until="21/4/2026"), 400, "until"),
    ("exdates-not-dates", relay(exdates=["bad"]), 400, "exdates.0"),
    ("force-not-a-bool", relay(force="maybe"), 400, "force"),
    ("negative-max-delay", relay(max_delay_s=-1), 400, "max_delay_s"),
    ("unknown-field", relay(colour="đỏ"), 400, "colour"),
    ("missing-title", relay(title=MISSING), 400, "title"),
    ("missing-owner", relay(owner=MISSING), 400, "owner"),
    ("missing-kind", relay(kind=MISSING), 400, "kind"),
    ("missing-start", relay(start=MISSING), 400, "start"),
    ("empty-object", {}, 400, None),
]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [pytest.param(b, s, f, id=i) for i, b, s, f in BAD_BROADCASTS],
)
def test_bad_broadcast_is_refused_naming_the_field(admin, db, body, status, field):
    response = post_within_deadline(admin, "/api/v1/broadcasts", body)
    assert_error(response, status, field)
    nothing_saved(db)


def test_missing_field_says_it_is_required(admin):
    response = admin.post("/api/v1/broadcasts", json=relay(title=MISSING))
    assert "required" in response.json["error"]


def test_unknown_field_says_it_is_unknown(admin):
    response = admin.post("/api/v1/broadcasts", json=relay(colour="đỏ"))
    assert "colour" in response.json["error"]
    assert "known" in response.json["error"]


# --- POST /api/v1/broadcasts: not a JSON object ----------------------------------------------

BAD_BODIES = [
    # (id, raw body, content type, statuses)
    ("malformed-json", '{"title": "Phủ Lý",', "application/json", (400,)),
    ("json-list", '[{"title": "Phủ Lý"}]', "application/json", (400,)),
    ("json-string", '"Phủ Lý"', "application/json", (400,)),
    ("json-null", b"null", "application/json", (400,)),
    ("empty-body", b"", "application/json", (400,)),
    ("not-utf8", b'{"title": "\xff\xfe"}', "application/json", (400,)),
    ("text-plain", '{"title": "Phủ Lý"}', "text/plain", (400, 415)),
    ("form", b"title=Ph%E1%BB%A7+L%C3%BD", "application/x-www-form-urlencoded", (400, 415)),
    ("no-content-type", '{"title": "Phủ Lý"}', None, (400, 415)),
]


@pytest.mark.parametrize(
    ("data", "content_type", "statuses"),
    [pytest.param(d, c, s, id=i) for i, d, c, s in BAD_BODIES],
)
def test_body_that_is_not_a_json_object_is_refused(admin, db, data, content_type, statuses):
    response = admin.post("/api/v1/broadcasts", data=data, content_type=content_type)
    assert_error(response, statuses, None)
    nothing_saved(db)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param(b"[1, 2]", None, id="json-list"),
        pytest.param(b"{bad", None, id="malformed-json"),
        pytest.param('{"start": "sáng mai"}', "start", id="bad-start"),
        pytest.param(b'{"duration_s": "abc"}', "duration_s", id="bad-duration"),
        pytest.param(b'{"rrule": "FREQ=NEVER"}', "rrule", id="bad-rrule"),
        pytest.param(b'{"targets": ["13567"]}', "targets", id="target-outside"),
        pytest.param(b'{"colour": "red"}', "colour", id="unknown-field"),
    ],
)
def test_bad_patch_is_refused_and_changes_nothing(admin, data, field):
    created = admin.post("/api/v1/broadcasts", json=relay())
    assert created.status_code == 201, created.json
    url = f"/api/v1/broadcasts/{created.json['id']}"
    response = admin.patch(url, data=data, content_type="application/json")
    assert_error(response, (400, 403), field)
    after = admin.get(url).json
    for key in ("title", "start", "duration_s", "rrule", "targets", "status", "updated_at"):
        assert after[key] == created.json[key], key


# --- credentials ----------------------------------------------------------------------------

AUTH_REQUESTS = [
    ("get", "/api/v1/stations"),
    ("get", "/api/v1/stations/13285"),
    ("get", f"/api/v1/stations/13285/timeline?from={TUESDAY}"),
    ("get", "/api/v1/stations/13285/plays"),
    ("post", "/api/v1/broadcasts"),
    ("get", "/api/v1/broadcasts/1"),
    ("patch", "/api/v1/broadcasts/1"),
    ("delete", "/api/v1/broadcasts/1"),
    ("post", "/api/v1/broadcasts/1/approve"),
    ("get", "/stations/13285/schedule.ics"),
]
BAD_CREDENTIALS = {
    "no-token": {},
    "bad-token": {"Authorization": "Bearer lxu_not-a-real-token"},
    "empty-bearer": {"Authorization": "Bearer "},
    "basic-scheme": {"Authorization": "Basic YWRtaW46bG9heGE="},
}


@pytest.mark.parametrize("headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
def test_requests_without_valid_credentials_get_401(app, network, db, headers):
    client = app.test_client()
    for method, url in AUTH_REQUESTS:
        kwargs: dict[str, Any] = {"headers": headers}
        if method in {"post", "patch"}:
            kwargs["json"] = relay()
        response = getattr(client, method)(url, **kwargs)
        assert_error(response, 401, None)
    nothing_saved(db)


def test_station_agent_token_is_not_a_personal_token(app, network, db):
    from scheduler.accounts import new_station_token

    token = new_station_token(network, datetime(2026, 4, 20, 1, tzinfo=UTC), "13285")
    network.commit()
    response = app.test_client().get(
        "/api/v1/stations", headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(response, 401, None)


def test_ics_with_a_bad_query_token_gets_401(app, network):
    response = app.test_client().get("/stations/13285/schedule.ics?token=lxu_nope")
    assert_error(response, 401, None)


# --- unknown things -------------------------------------------------------------------------

NOT_FOUND = [
    ("get", "/api/v1/broadcasts/999"),
    ("patch", "/api/v1/broadcasts/999"),
    ("delete", "/api/v1/broadcasts/999"),
    ("post", "/api/v1/broadcasts/999/approve"),
    ("get", "/api/v1/stations/99999"),
    ("get", "/api/v1/stations/99999/timeline"),
    ("get", f"/api/v1/stations/99999/timeline?from={TUESDAY}&to={TUESDAY}"),
    ("get", "/api/v1/stations/99999/plays"),
    ("get", "/stations/99999/schedule.ics"),
    ("get", "/api/v1/broadcasts/abc"),
    ("get", "/api/v1/no-such-thing"),
]


@pytest.mark.parametrize(("method", "url"), NOT_FOUND, ids=[f"{m}-{u}" for m, u in NOT_FOUND])
def test_unknown_resource_is_404(admin, method, url):
    kwargs = {"json": {"title": "Đổi tên"}} if method == "patch" else {}
    response = getattr(admin, method)(url, **kwargs)
    assert_error(response, 404, None)


def test_wrong_method_is_405_json(admin):
    response = admin.client.put(
        "/api/v1/broadcasts", headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert_error(response, 405, None)


# --- day ranges -----------------------------------------------------------------------------

BAD_RANGES = [
    # (id, query, field)
    ("from-not-a-date", "from=21/4/2026", "from"),
    ("from-month-13", "from=2026-13-01", "from"),
    ("from-words", "from=h%C3%B4m+nay", "from"),
    ("to-not-a-date", f"from={TUESDAY}&to=tomorrow", "to"),
    ("to-before-from", "from=2026-04-21&to=2026-04-20", "to"),
    ("over-long", "from=2026-04-01&to=2026-06-30", "to"),
    ("a-year", "from=2026-01-01&to=2026-12-31", "to"),
]


@pytest.mark.parametrize(("query", "field"), [pytest.param(q, f, id=i) for i, q, f in BAD_RANGES])
def test_bad_day_range_is_400(admin, query, field):
    for endpoint in ("timeline", "plays"):
        response = admin.get(f"/api/v1/stations/13285/{endpoint}?{query}")
        assert_error(response, 400, field)


@pytest.mark.parametrize("query", ["from=0001-01-01", "from=9999-12-31", "from=1900-01-01"])
def test_extreme_dates_are_answered_not_a_500(admin, query):
    for endpoint in ("timeline", "plays"):
        response = admin.get(f"/api/v1/stations/13285/{endpoint}?{query}")
        assert response.status_code in (200, 400), (endpoint, response.status_code, response.json)


def test_longest_allowed_range_is_fine(admin):
    response = admin.get("/api/v1/stations/13285/timeline?from=2026-04-01&to=2026-06-01")
    assert response.status_code == 200, response.json

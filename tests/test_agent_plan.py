"""The agent's decisions as pure functions: joining late, missing, fetching order, the cache."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler.agent import plan
from scheduler.agent.cache import AgentCache, MediaCorrupt

T0 = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)


def raw(ident: str, start: datetime, minutes: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "broadcast": 1,
        "title": f"Mục {ident}",
        "kind": "program",
        "priority": "normal",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "offset_ms": 0,
        "media": [{"sha256": f"{ident:0>64}", "url": f"http://s/m/{ident}", "bytes": 10}],
        "stream_url": None,
        **extra,
    }


def items(*raws: dict[str, Any]) -> list[plan.Item]:
    return plan.parse_items({"items": list(raws)})


def test_an_item_due_later_airs_from_the_top_at_its_start():
    [item] = items(raw("a", T0, 10))
    cue = plan.cue_for(item, T0 - timedelta(seconds=3), Path("/m/a"))
    assert cue is not None
    assert (cue.start, cue.end, cue.offset_s) == (T0, T0 + timedelta(minutes=10), 0)


def test_a_late_start_joins_in_progress_and_still_ends_on_time():
    [item] = items(raw("a", T0, 10, offset_ms=60_000))  # a truncated part: 1 min into the file
    now = T0 + timedelta(seconds=90)
    cue = plan.cue_for(item, now, Path("/m/a"))
    assert cue is not None
    assert cue.start == now and cue.end == T0 + timedelta(minutes=10)
    assert cue.offset_s == pytest.approx(150)


def test_an_item_held_back_by_an_emergency_starts_from_its_top_when_it_is_over():
    [item, relay] = items(raw("a", T0, 4, offset_ms=30_000),
                          raw("r", T0, 4, media=[], stream_url="http://s/live"))  # fmt: skip
    over = T0 + timedelta(seconds=20)  # the alert that held them back ends here
    cue = plan.cue_for(item, over - timedelta(seconds=3), Path("/m/a"), not_before=over)
    assert cue is not None
    assert (cue.start, cue.end, cue.offset_s) == (over, over + timedelta(minutes=4), 30)
    live = plan.cue_for(relay, over, None, not_before=over)  # a live stream cannot start over
    assert live is not None and live.offset_s == pytest.approx(20)
    assert live.end == T0 + timedelta(minutes=4)
    long_hold = T0 + timedelta(minutes=16)  # most of a long slot gone: it joins in progress
    [long] = items(raw("b", T0, 30))
    joined = plan.cue_for(long, long_hold, Path("/m/b"), not_before=long_hold)
    assert joined is not None and joined.offset_s == pytest.approx(16 * 60)


def test_too_little_left_is_not_joined_but_counted_missed():
    [item] = items(raw("a", T0, 1))
    now = T0 + timedelta(seconds=57)
    assert plan.cue_for(item, now, Path("/m/a")) is None
    assert plan.missed([item], now, logged=set()) == [item]
    assert plan.missed([item], now, logged={"a"}) == []
    assert plan.missed([item], T0, logged=set()) == []


def test_a_late_emergency_still_starts_from_its_first_word():
    [alert] = items(raw("e", T0, 1, priority="emergency"))
    now = T0 + timedelta(seconds=2)
    cue = plan.cue_for(alert, now, Path("/m/e"))
    assert cue is not None
    assert cue.offset_s == 0 and cue.start == now + plan.ON_RECEIPT_LEAD
    assert cue.end - cue.start == timedelta(minutes=1) + plan.URGENT_SLACK


def test_emergency_media_comes_first_then_nearest_start_each_file_once():
    later, sooner, alert = raw("l", T0 + timedelta(hours=5), 30), raw("s", T0, 30), raw(
        "e", T0 + timedelta(minutes=1), 1, priority="emergency")  # fmt: skip
    again = raw("x", T0 + timedelta(hours=6), 30, media=sooner["media"])
    order = plan.downloads(items(later, sooner, alert, again), T0, have=set())
    assert [m.url for m in order] == ["http://s/m/e", "http://s/m/s", "http://s/m/l"]
    assert plan.downloads(items(sooner), T0, have={f"{'s':0>64}"}) == []
    # Finished items need nothing any more.
    assert plan.needed(items(sooner, later), T0 + timedelta(hours=1)) == {f"{'l':0>64}"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": [{"id": "a"}]},
        {"items": [{**raw("a", T0, 1), "start": "2026-04-20T10:00:00"}]},
        {"items": "nope"},
    ],
)
def test_a_malformed_manifest_is_refused_whole(body):
    with pytest.raises(plan.ManifestError):
        plan.parse_items(body)


def test_cache_keeps_manifest_and_unsent_logs_across_restarts(tmp_path):
    cache = AgentCache(tmp_path)
    cache.save_manifest("35-r1", {"items": [raw("a", T0, 1)]}, T0)
    cache.queue_play({"id": "u1", "item": "a", "status": "played"}, T0)
    cache.queue_play({"id": "u1", "item": "a", "status": "played"}, T0)  # queued twice: once
    cache.queue_play({"id": "u2", "item": "b", "status": "missed"}, T0)
    cache.mark_sent(["u2"], T0)
    cache.close()

    again = AgentCache(tmp_path)
    assert again.load_manifest() == ("35-r1", {"items": [raw("a", T0, 1)]})
    assert [r["id"] for r in again.unsent_plays(10)] == ["u1"]
    assert again.logged_items() == {"a", "b"}


def test_a_log_held_for_its_proof_goes_with_it_or_at_the_next_start(tmp_path):
    cache = AgentCache(tmp_path)
    cache.queue_play({"id": "u1", "item": "a", "status": "played"}, T0, held=True)
    cache.queue_play({"id": "u2", "item": "b", "status": "played"}, T0, held=True)
    assert cache.unsent_plays(10) == [] and cache.logged_items() == {"a", "b"}
    cache.complete("u1", {"fingerprint": [1, 2, 3], "fingerprint_source": "off_air"})
    [sent] = cache.unsent_plays(10)
    assert sent == {"id": "u1", "item": "a", "status": "played", "fingerprint": [1, 2, 3],
                    "fingerprint_source": "off_air"}  # fmt: skip
    cache.close()

    again = AgentCache(tmp_path)  # the run that held u2 died before its proof was made
    assert again.release_held() == 1
    assert [r["id"] for r in again.unsent_plays(10)] == ["u1", "u2"]


def test_a_cache_from_before_proofs_is_upgraded_in_place(tmp_path):
    import sqlite3

    old = sqlite3.connect(tmp_path / "agent.db")
    old.execute("CREATE TABLE plays (id TEXT PRIMARY KEY, item TEXT NOT NULL, body TEXT NOT NULL,"
                " created_at TEXT NOT NULL, sent_at TEXT)")  # fmt: skip
    old.execute("INSERT INTO plays VALUES ('u0', 'a', '{\"id\": \"u0\"}', '2026-01-01', NULL)")
    old.commit()
    old.close()
    assert [r["id"] for r in AgentCache(tmp_path).unsent_plays(10)] == ["u0"]


def test_cache_refuses_a_bad_download_and_notices_a_corrupted_file(tmp_path):
    cache = AgentCache(tmp_path)
    data = b"ID3 not really audio" * 1000
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(MediaCorrupt):
        cache.store_media(sha, iter([data[:-1]]))
    assert not cache.has_media(sha) and list(cache.media_dir.iterdir()) == []

    path = cache.store_media(sha, iter([data[:500], data[500:]]))
    assert cache.has_media(sha)
    path.write_bytes(b"x" + data[1:])  # bit rot, or a half-written copy
    assert not cache.has_media(sha)
    assert not path.exists()  # removed, so the next sync fetches it again

    cache.store_media(sha, iter([data]))
    (cache.media_dir / "old.part").write_bytes(b"half")
    assert cache.prune(keep=set()) == [sha]
    assert cache.prune(keep=set(), partials=True) == ["old.part"]

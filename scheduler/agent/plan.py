"""What the agent should do with a manifest, as pure functions of (manifest, now).

Nothing here reads the clock, the disk or the network: the runner passes them in. That keeps
the decisions that matter on air — join in progress or not, what counts as missed, which file
to fetch first — testable without waiting for real time to pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from audio.player import Cue
from scheduler.manifest_body import ManifestItem

RANK = {"normal": 0, "priority": 1, "emergency": 2}
# A join this close to the end would air a fragment nobody can make sense of: log it missed.
MIN_JOIN = timedelta(seconds=5)
# An emergency's window runs this much past its length: if the player starts it a little
# late, the end of the window must not clip its last words (the media's own end stops it).
URGENT_SLACK = timedelta(seconds=5)
# An alert that arrives after its start is cued this far ahead, so the player has it loaded
# and starts it from its first word rather than joining it.
ON_RECEIPT_LEAD = timedelta(seconds=0.5)


class ManifestError(ValueError):
    """The server sent something that is not a manifest; the agent keeps its old one."""


@dataclass(frozen=True)
class Media:
    sha256: str
    url: str
    bytes: int | None
    duration_ms: int | None


@dataclass(frozen=True)
class Item:
    """One manifest item (docs/api.md "Agent protocol")."""

    id: str
    broadcast: int | None
    title: str
    kind: str
    priority: str
    start: datetime
    end: datetime
    scheduled_start: datetime
    offset_ms: int
    media: tuple[Media, ...]
    stream_url: str | None
    # Alerts air "as soon as received", from the top, until ``expires`` (their latest start).
    alert: int | None = None
    on_receipt: bool = False
    expires: datetime | None = None

    @property
    def rank(self) -> int:
        return RANK.get(self.priority, 0)

    @property
    def urgent(self) -> bool:
        """Emergencies never wait behind other downloads (docs/architecture.md "Pull first")."""
        return self.priority == "emergency"


def parse_items(body: Mapping[str, Any]) -> list[Item]:
    """The items of a manifest body, ordered by start; raises ManifestError if malformed.

    Each item is read by the model the server writes it with (:mod:`scheduler.manifest_body`).
    """
    try:
        raw_items = body["items"]
        if not isinstance(raw_items, list):
            raise TypeError("items is not a list")
        items = [_item(ManifestItem.model_validate(raw)) for raw in raw_items]
    except (KeyError, TypeError, ValidationError) as exc:
        raise ManifestError(f"not a manifest: {exc!r}") from exc
    return sorted(items, key=lambda i: (i.start, -i.rank))


def _item(read: ManifestItem) -> Item:
    return Item(
        id=read.id,
        broadcast=read.broadcast,
        title=read.title,
        kind=read.kind,
        priority=read.priority,
        start=read.start,
        end=read.end,
        scheduled_start=read.scheduled_start or read.start,
        offset_ms=read.offset_ms,
        media=tuple(Media(m.sha256, m.url, m.bytes, m.duration_ms) for m in read.media),
        stream_url=read.stream_url,
        alert=read.alert,
        on_receipt=read.on_receipt,
        expires=read.expires,
    )


def cue_for(
    item: Item, now: datetime, media_path: Any = None, not_before: datetime | None = None
) -> Cue | None:
    """The cue that airs ``item`` from ``now`` (or ``not_before``, when a higher item holds
    it back until then) on, or None when too little of it is left.

    A late start joins in progress — it seeks by the lateness rather than playing from the
    top into the next slot — unless a higher item held it back (:func:`moved`): then it
    starts from its top when that one is over. Emergencies are the other exception: a
    warning heard from its second sentence is worse than one that ends a little late, so
    they always start at the top —
    an alert that arrives late is cued :data:`ON_RECEIPT_LEAD` from ``now`` — until their
    ``expires``; after that, None.
    """
    if not_before is not None:
        now = max(now, not_before)
    late = max(now - item.start, timedelta(0))
    if item.urgent:
        if item.expires is not None and now >= item.expires:
            return None
        start = max(item.start, now + ON_RECEIPT_LEAD) if late else item.start
        end = start + (item.end - item.start) + URGENT_SLACK
        offset = item.offset_ms / 1000
    elif moved(item, not_before):
        # Held back by a higher item before it began: it was moved, not late — heard from
        # its first word the moment the higher one is over, for its whole length.
        start = max(now, item.start)
        end = start + (item.end - item.start)
        offset = item.offset_ms / 1000
    else:
        if _too_late(item, now):
            return None
        start, end = item.start + late, item.end
        offset = item.offset_ms / 1000 + late.total_seconds()
    return Cue(
        item_id=item.id,
        title=item.title,
        start=start,
        end=end,
        media=media_path,
        stream_url=item.stream_url,
        offset_s=offset,
        priority=item.priority,
        from_top=item.urgent,
    )


EXPIRED = "the alert expired before this station could air it"
NOT_AIRED = "not aired here: the agent was not running or did not have the media in time"
TOO_LITTLE_LEFT = "too little of it was left to join"


def missed_reason(item: Item, now: datetime) -> str:
    """Why ``item`` did not air here, as its play log says: an alert that came (or could
    only start) after its ``expires`` expired; anything else had too little left."""
    if item.urgent and item.expires is not None and now >= item.expires:
        return EXPIRED
    return TOO_LITTLE_LEFT


def missed(items: Iterable[Item], now: datetime, logged: set[str]) -> list[Item]:
    """Items whose time is over (or too nearly over to join) with no play log: they did not
    air here — the agent was not running, or could not get their media in time."""
    return [i for i in items if i.id not in logged and _too_late(i, now)]


# A file held back longer than this by a higher item joins in progress instead of starting
# from its top: most of its slot has gone, and what follows it is due.
MOVE_LIMIT = timedelta(minutes=15)


def moved(item: Item, not_before: datetime | None) -> bool:
    """A file (not a live relay, which cannot start over) held back by a higher item from
    its start for a while it can make up."""
    return (
        not_before is not None
        and not item.urgent
        and item.stream_url is None
        and item.start < not_before <= item.start + MOVE_LIMIT
    )


def _too_late(item: Item, now: datetime) -> bool:
    """Started already, with less than MIN_JOIN (or half of a short item) left to air; an
    emergency only once its ``expires`` has passed (it airs from the top whenever it comes)."""
    if now <= item.start:
        return False
    if item.urgent:
        return now >= (item.expires or item.end)
    return item.end - now < min(MIN_JOIN, (item.end - item.start) / 2)


def downloads(items: Iterable[Item], now: datetime, have: set[str]) -> list[Media]:
    """Media still to fetch: emergencies first, then nearest start first; each file once."""
    wanted: list[Media] = []
    seen = set(have)
    for item in sorted(items, key=lambda i: (not i.urgent, i.start)):
        if item.end <= now and not still_due(item, now):
            continue
        for media in item.media:
            if media.sha256 not in seen:
                seen.add(media.sha256)
                wanted.append(media)
    return wanted


def needed(items: Iterable[Item], now: datetime) -> set[str]:
    """Every file an item still to come (or on air) names: the rest of the cache can go."""
    return {m.sha256 for i in items if i.end > now or still_due(i, now) for m in i.media}


def still_due(item: Item, now: datetime) -> bool:
    """An emergency past its scheduled end that may still start (it came late)."""
    return item.urgent and item.expires is not None and now < item.expires

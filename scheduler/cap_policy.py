"""What a CAP 1.2 alert's urgency, severity, certainty and times ask of the air: pure.

:func:`decide` takes the message's values and the clock and returns an :class:`Decision`; the
table is README "CAP: from urgency and severity to the air". In order:

1. ``sent`` older than ``max_age`` (a replay, a queue flushed days late) → recorded.
2. ``urgency`` Past (the event is over) or ``certainty`` Unlikely → recorded.
3. The start: ``effective`` or, without it, ``onset``; when that is ahead of ``now`` the
   alert is scheduled then (still within :data:`~scheduler.alerts.MAX_SPAN`, before expiry).
4. ``severity`` Extreme/Severe with ``urgency`` Immediate/Expected → an ``emergency``
   broadcast (interrupts, now or at the start).
5. Anything else (Moderate, Minor, Unknown severity; Future or Unknown urgency) → by
   ``minor_policy``: ``priority`` — a priority broadcast that takes the next slot free of
   emergencies and earlier priority bulletins (normal programmes give way by their own
   policy) — or ``record``: recorded, not aired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.errors import Invalid
from scheduler.models import Priority

URGENT = {"Immediate", "Expected"}
SEVERE = {"Extreme", "Severe"}
MINOR_POLICIES = ("priority", "record")


@dataclass(frozen=True)
class Facts:
    """The CAP values the decision reads (``info`` of the chosen language)."""

    sent: datetime
    urgency: str = "Unknown"
    severity: str = "Unknown"
    certainty: str = "Unknown"
    effective: datetime | None = None
    onset: datetime | None = None


@dataclass(frozen=True)
class Decision:
    """``emergency`` (now), ``scheduled`` (at ``starts_at``), ``priority`` (next free slot)
    or ``recorded`` (with ``reason``)."""

    outcome: str
    priority: Priority | None = None
    starts_at: datetime | None = None
    reason: str | None = None

    @property
    def airs(self) -> bool:
        return self.outcome != "recorded"


def instant(text: str | None, name: str) -> datetime | None:
    """A CAP date-time (with its UTC offset) as an aware instant; :class:`Invalid` names it."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"{name}: {text!r} is not a CAP date-time (2026-04-20T08:00:00+07:00)", name
        ) from None
    if moment.tzinfo is None:
        raise Invalid(f"{name}: {text!r} has no UTC offset; CAP requires one", name)
    return moment


def stale(sent: datetime, now: datetime, max_age: timedelta) -> str | None:
    """Why a message sent this long ago is not aired, or None."""
    if now - sent <= max_age:
        return None
    hours = (now - sent).total_seconds() / 3600
    return (
        f"sent: the message was sent {_age(hours)} ago ({sent.isoformat()}), more than "
        f"cap_max_age_s ({max_age.total_seconds():.0f} s) allows; it is recorded, not aired"
    )


def _age(hours: float) -> str:
    return f"{hours / 24:.0f} days" if hours >= 48 else f"{hours:.1f} h"


def decide(facts: Facts, now: datetime, max_age: timedelta, minor_policy: str) -> Decision:
    """The outcome of one CAP alert (see the module docstring)."""
    why = stale(facts.sent, now, max_age)
    if why is not None:
        return Decision("recorded", reason=why)
    if facts.urgency == "Past":
        return Decision(
            "recorded",
            reason="urgency: Past — the event is over; the message is recorded, not aired",
        )
    if facts.certainty == "Unlikely":
        return Decision(
            "recorded",
            reason="certainty: Unlikely — not expected to happen; the "
            "message is recorded, not aired",
        )
    start = facts.effective or facts.onset
    later = start if start is not None and start > now else None
    if facts.severity in SEVERE and facts.urgency in URGENT:
        return Decision("scheduled" if later else "emergency", Priority.emergency, later)
    if minor_policy == "record":
        return Decision(
            "recorded",
            reason=f"severity: a {facts.severity}/{facts.urgency} message is recorded, not "
            "aired (cap_minor_policy = record); only Extreme or Severe with Immediate or "
            "Expected urgency go on air",
        )
    return Decision("scheduled" if later else "priority", Priority.priority, later)

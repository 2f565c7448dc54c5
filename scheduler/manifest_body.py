"""The manifest's JSON (``GET /api/v1/agent/manifest``), one model for both halves.

The server writes it (:mod:`scheduler.dispatch`), the agent reads it
(:mod:`scheduler.agent.plan`) and the OpenAPI spec publishes it, all from these classes, so
a field added or renamed on one side cannot go unnoticed on the other. Reading is lenient
where an older server may leave a field out (the agent must keep airing through an upgrade)
and strict where a wrong value would air something at the wrong time: every instant carries
its UTC offset.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Priority = Literal["normal", "priority", "emergency"]


class ManifestMedia(BaseModel):
    """A file an item plays, fetched once by its SHA-256 and kept in the agent's cache."""

    model_config = ConfigDict(extra="ignore")

    sha256: str
    url: str
    duration_ms: int | None = None
    bytes: int | None = None


class ManifestItem(BaseModel):
    """One airing at this station: what to play (a file or a relay), from when to when."""

    model_config = ConfigDict(extra="ignore")

    id: str
    broadcast: int | None = None
    title: str = ""
    kind: str = "program"  # program or relay
    # normal, priority or emergency; read as text so that a level a newer server adds is
    # aired (at the lowest rank) rather than the whole manifest refused.
    priority: str = "normal"
    origin: str | None = None  # the station that scheduled it
    start: AwareDatetime
    end: AwareDatetime
    # When it was planned; ``start`` differs when a higher broadcast shifted it.
    scheduled_start: AwareDatetime | None = None
    outcome: str = "scheduled"
    offset_ms: int = 0  # where in the file to begin (the tail of a truncated airing)
    media: list[ManifestMedia] = Field(default_factory=list)
    stream_url: str | None = None
    # Alerts air "as soon as received", from the top, until ``expires`` (their latest start).
    alert: int | None = None
    on_receipt: bool = False
    expires: AwareDatetime | None = None


class ManifestBody(BaseModel):
    """A station's next 48 hours, in its own zone (docs/architecture.md "Dispatch")."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    station: str
    revision: int
    server_time: AwareDatetime
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime
    timezone: str
    mqtt_topics: list[str] = Field(default_factory=list)
    items: list[ManifestItem]

"""What each operation answers, as pydantic models, for the OpenAPI spec.

The serializers (:mod:`web.api.serialize` and each API module) write plain dicts for speed;
these classes describe those dicts, and ``tests/test_api_fuzz.py`` checks every answer the
fuzzer provokes against them, so a key renamed or a type changed fails the suite rather
than a client. Objects allow keys beyond the ones named: the API is extended, never renamed.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from scheduler.manifest_body import ManifestBody, Priority


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(Answer):
    """Every error: a sentence for a person, and the field it is about when there is one."""

    error: str
    field: str | None = None


class Health(Answer):
    status: Literal["ok", "degraded"]
    version: str
    database: Literal["ok", "unavailable"]


class Station(Answer):
    code: str
    name: str
    station_name: str
    level: str
    parent: str | None
    stream_url: str | None
    timezone: str
    online: bool
    last_seen: AwareDatetime | None
    schedule_revision: int
    allowed_windows: str | None
    max_sessions_per_day: int | None
    max_minutes_per_session: int | None
    map: str | None
    active_from: date | None
    retired_on: date | None


class Predecessor(Answer):
    code: str
    former_code: str
    former_name: str
    effective: date


class Successor(Answer):
    code: str
    name: str
    default: bool
    effective: date


class StationDetail(Station):
    children: list[str]
    predecessors: list[Predecessor]
    successors: list[Successor]


class TimelineEntry(Answer):
    start: AwareDatetime
    end: AwareDatetime
    title: str
    kind: str
    priority: Priority
    origin: str | None
    broadcast: int | None
    outcome: str
    by: int | None
    scheduled_start: AwareDatetime
    offset_ms: int
    source: str | None
    stream_url: str | None
    program: int | None


class Play(Answer):
    id: str
    item: str
    broadcast: int | None
    scheduled_start: AwareDatetime
    started_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    status: str
    detail: str | None
    received_at: AwareDatetime
    alert_received_at: AwareDatetime | None
    fingerprint_source: str | None
    verified: bool | None
    similarity: float | None


class Broadcast(Answer):
    id: int
    title: str
    owner: str
    kind: str
    program: int | None
    source: str | None
    stream_url: str | None
    start: str = Field(description="the first start, local time as entered (no offset)")
    timezone: str
    duration_s: int | None = Field(description="null: the programme's own length")
    rrule: str | None
    until: str | None
    exdates: list[str]
    targets: list[str]
    priority: Priority
    conflict: str
    max_delay_s: int
    repeat_every_s: int | None
    repeat_count: int | None
    expires_at: AwareDatetime | None
    status: str
    created_at: AwareDatetime
    updated_at: AwareDatetime
    approved_at: AwareDatetime | None
    cancelled_at: AwareDatetime | None
    revision: dict[str, Any] | None
    revision_at: AwareDatetime | None


class Segment(Answer):
    id: int
    title: str
    owner: str
    source: str
    status: str
    progress: int
    error: str | None
    approval: str
    rejected_reason: str | None
    duration_ms: int | None
    loudness_lufs: float | None
    sha256: str | None
    audio_url: str | None
    campaign: str | None
    topic: str | None
    original_name: str | None
    text: str | None
    spoken_text: str | None
    engine: str | None
    voice: str | None
    speed: float | None
    analysis: dict[str, Any]
    created_at: AwareDatetime
    approved_at: AwareDatetime | None
    published_at: AwareDatetime | None


class Program(Answer):
    id: int
    title: str
    owner: str
    status: str
    error: str | None
    duration_ms: int | None
    sha256: str | None
    audio_url: str | None
    crossfade_ms: int
    items: list[dict[str, int | None]]
    approved: bool
    created_at: AwareDatetime


class CapFields(Answer):
    identifier: str | None
    sender: str | None
    sent: AwareDatetime | None
    references: str | None
    status: str | None
    msgType: str | None  # CAP's own element name, as the alert JSON writes it
    scope: str | None
    language: str | None
    urgency: str | None
    severity: str | None
    certainty: str | None


class Resource(Answer):
    uri: str | None = Field(description="null when the audio came embedded (derefUri)")
    embedded: bool
    mime: str | None
    digest: str | None


class Alert(Answer):
    id: int
    status: Literal["preparing", "ready", "failed", "recorded", "cancelled"]
    aired: bool
    reason: str | None
    title: str
    text: str | None
    targets: list[str]
    area: str | None
    owner: str
    priority: Priority
    outcome: str | None
    starts_at: AwareDatetime | None
    note: str | None
    resource: Resource | None
    created_by: str | None
    created_at: AwareDatetime | None
    ready_at: AwareDatetime | None
    cancelled_at: AwareDatetime | None
    expires_at: AwareDatetime | None
    repeat_every_s: int | None
    repeat_count: int | None
    broadcast: int | None
    segment: int | None
    duration_ms: int | None
    sha256: str | None
    airings: list[AwareDatetime]
    cap: CapFields
    source: str | None


class IssuedAlert(Alert):
    duplicate: bool
    cancelled: list[int] = Field(description="alerts a CAP Update or Cancel cancelled")


class AlertAiring(Answer):
    start: AwareDatetime | None
    expires: AwareDatetime | None
    status: str
    received_at: AwareDatetime | None
    started_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    reason: str | None


class AlertStation(Answer):
    station: str
    name: str
    online: bool
    status: str
    reason: str | None
    aired: int = Field(description="how many of its airings it aired")
    airings: list[AlertAiring]


class AlertWithStatus(Alert):
    progress: str
    total: int
    counts: dict[str, int]
    stations: list[AlertStation]
    listed: int


class Tally(Answer):
    planned: int
    played: int
    partial: int
    missed: int
    interrupted: int
    failed: int
    upcoming: int
    planned_minutes: float
    aired_minutes: float
    rate_count: float | None
    rate_minutes: float | None
    verified: int
    verified_minutes: float


class ComplianceRow(Tally):
    station: str
    name: str
    level: str
    airs: bool


class Compliance(Answer):
    from_: date = Field(alias="from")
    to: date
    station: str
    kind: str | None
    origin: str | None
    campaign: str | None
    rows: list[ComplianceRow]
    totals: Tally


class Campaign(Answer):
    campaign: dict[str, Any]
    from_: date = Field(alias="from")
    to: date
    key_dates: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


class AiringLog(Answer):
    status: str
    started_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    detail: str | None
    verified: bool | None
    fingerprint_source: str | None


class PlannedAiring(Answer):
    broadcast: int | None
    title: str
    kind: str
    origin: str | None
    scheduled_start: AwareDatetime | None
    start: AwareDatetime | None
    end: AwareDatetime | None
    planned_minutes: float
    status: str
    aired_minutes: float
    reason: str | None
    verified: bool | None
    logs: list[AiringLog]


class Airings(Answer):
    station: str
    name: str
    from_: date = Field(alias="from")
    to: date
    airings: list[PlannedAiring]


class Voice(Answer):
    id: str
    label: str


class Engine(Answer):
    name: str
    available: bool
    voices: list[Voice]
    default_voice: str | None


class Text(Answer):
    text: str


class PlaysAccepted(Answer):
    accepted: int
    duplicates: int


class HeartbeatAnswer(Answer):
    server_time: AwareDatetime
    clock_offset_ms: int | None


# Request bodies with no model elsewhere.


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="the words (the bulletin text, or an alert's translation)")


class RejectBody(BaseModel):
    reason: str = Field(min_length=1, description="why, for the editor who uploaded it")


ANSWERS: tuple[type[BaseModel], ...] = (
    Error,
    Health,
    Station,
    StationDetail,
    TimelineEntry,
    Play,
    Broadcast,
    Segment,
    Program,
    Alert,
    IssuedAlert,
    AlertWithStatus,
    Compliance,
    Campaign,
    Airings,
    Engine,
    Text,
    PlaysAccepted,
    HeartbeatAnswer,
    ManifestBody,
)

"""CAP 1.2 messages acted on as broadcasters do (anchor: OpenBroadcaster's alert processor).

:func:`receive_cap` decides, in this order:

1. **A resend** — a message whose (sender, identifier) is already recorded — answers with the
   alert recorded for it; nothing airs twice.
2. **Not for the air** — ``status`` other than ``Actual`` (Test, Exercise, System, Draft) or
   ``scope`` other than ``Public`` — is recorded with the reason and not aired.
3. **Update / Cancel** name what they replace in ``references``; those alerts are cancelled
   (expired) first. A Cancel is recorded too, so its resend is recognised.
4. **Alert / Update** become an :class:`~scheduler.alerts.AlertSpec`: the Vietnamese ``info``
   (``language`` vi / vi-VN) or the first; headline → title; description and instruction →
   the words spoken; ``area/geocode`` values named ``loaxa``, ``station``, ``gso``, ``vn-gso``
   or ``madvhc`` → station codes; ``expires``; ``loaxa:repeat_every_s`` / ``loaxa:repeat_count``
   / ``loaxa:segment`` parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from config import Settings
from scheduler import alerts, audit, cap_audio, cap_policy
from scheduler.alerts import AlertSpec, Handling, Identity
from scheduler.cap import CapMessage
from scheduler.errors import Invalid, NotFound, Unprocessable
from scheduler.models import Alert, AlertState, User
from scheduler.stations import stations_by_code

# AlertSpec field → the CAP element it comes from, so errors name what the sender wrote.
CAP_FIELDS = {
    "title": "headline",
    "text": "description",
    "segment": "loaxa:segment",
    "targets": "area",
    "expires": "expires",
    "repeat_every_s": "loaxa:repeat_every_s",
    "repeat_count": "loaxa:repeat_count",
}


@dataclass
class Received:
    """What a CAP message led to."""

    alert: Alert  # the alert issued, recorded, or found again (a resend)
    duplicate: bool = False
    cancelled: list[Alert] = field(default_factory=list)

    @property
    def aired(self) -> bool:
        return self.alert.aired or self.alert.state == "preparing"


def identity_of(message: CapMessage) -> Identity:
    references = " ".join(f"{r.sender},{r.identifier},{r.sent}" for r in message.references)
    return Identity(
        identifier=message.identifier[:200],
        sender=message.sender[:200],
        sent=_sent(message.sent),
        source="cap",
        status=message.status[:20],
        msg_type=message.msg_type[:20],
        scope=message.scope[:20],
        references=references or None,
        language=(message.language or None) and message.language[:20],
        area=message.area_desc,
    )


def _sent(text: str) -> datetime:
    try:
        sent = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"sent: {text!r} is not a CAP date-time (2026-04-20T08:00:00+07:00)", "sent"
        ) from None
    if sent.tzinfo is None:
        raise Invalid(f"sent: {text!r} has no UTC offset; CAP requires one", "sent")
    return sent


def spec_from_cap(message: CapMessage) -> AlertSpec:
    """The alert a CAP message asks for; a refusal names the CAP element."""
    if not message.has_info:
        raise Invalid(
            "info: the CAP alert has no <info>; it needs one with a headline, a description "
            "and an area",
            "info",
        )
    title = message.headline or message.event
    if not title:
        raise Invalid(
            "headline: the CAP <info> has no <headline> (nor <event>) for a title", "headline"
        )
    segment = message.parameters.get("loaxa:segment")
    text = "\n".join(p for p in (message.description, message.instruction) if p) or None
    if segment is None and text is None:
        raise Invalid(
            "description: the CAP <info> has no <description> or <instruction> to read out "
            "(nor a loaxa:segment parameter naming a recording)",
            "description",
        )
    if not message.targets:
        raise Invalid(
            "area: no <area><geocode> names a station; use <geocode><valueName>gso"
            "</valueName><value>STATION CODE</value></geocode> (also: loaxa, station, vn-gso, "
            "madvhc)",
            "area",
        )
    body: dict[str, Any] = {
        "title": title[:300],
        "segment": segment,
        "text": None if segment is not None else text,
        "targets": list(message.targets),
        "expires": message.expires,
        "repeat_every_s": message.parameters.get("loaxa:repeat_every_s"),
        "repeat_count": message.parameters.get("loaxa:repeat_count"),
    }
    try:
        return AlertSpec.model_validate(body)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = CAP_FIELDS.get(str(error["loc"][0]), "body") if error["loc"] else "body"
        raise Invalid(f"{name}: {error['msg']}", name) from None


def find(session: Session, pairs: list[tuple[str, str]]) -> list[Alert]:
    """Alerts recorded for these (sender, identifier) pairs."""
    if not pairs:
        return []
    wanted = or_(*[and_(Alert.sender == s, Alert.identifier == i) for s, i in pairs])
    return list(session.scalars(select(Alert).where(wanted).order_by(Alert.id)))


def receive_cap(
    session: Session, settings: Settings, actor: User, message: CapMessage, now: datetime
) -> Received:
    """Act on a CAP message (see the module docstring); rolled back on any refusal."""
    try:
        return _receive(session, settings, actor, message, now)
    except Exception:
        session.rollback()
        raise


def _receive(
    session: Session, settings: Settings, actor: User, message: CapMessage, now: datetime
) -> Received:
    alerts.require_issuer(actor)
    kind = message.msg_type
    if kind not in {"Alert", "Update", "Cancel"}:
        raise Unprocessable(
            f"msgType: {kind} messages are not aired; send Alert, Update or Cancel", "msgType"
        )
    again = find(session, [(message.sender[:200], message.identifier[:200])])
    if again:
        return Received(again[0], duplicate=True)
    identity = identity_of(message)
    title = message.headline or message.event or message.identifier
    text = "\n".join(p for p in (message.description, message.instruction) if p) or None
    why = _not_for_air(message)
    if why is not None:
        recorded = alerts.record_only(
            session, actor, now, identity, title, text, list(message.targets), why
        )
        return Received(recorded)
    cancelled = _cancel_referenced(session, actor, message, now) if kind != "Alert" else []
    if kind == "Cancel":
        named = ", ".join(f"#{a.id}" for a in cancelled)
        recorded = alerts.record_only(
            session, actor, now, identity, title, text, list(message.targets), f"cancels {named}"
        )
        return Received(recorded, cancelled=cancelled)
    spec = spec_from_cap(message)  # what is missing is refused first, whatever the outcome
    decided = cap_policy.decide(
        _facts(message, identity.sent),
        now,
        timedelta(seconds=settings.cap_max_age_s),
        settings.cap_minor_policy,
    )
    handling = _handling(message)
    if decided.airs:
        handling = replace(
            handling,
            outcome=decided.outcome,
            starts_at=decided.starts_at,
            priority=decided.priority or handling.priority,
        )
    why = decided.reason if not decided.airs else _not_in_vietnamese(message, settings)
    if why is not None:
        awaiting = decided.airs and settings.cap_no_vietnamese == "translate"
        recorded = alerts.record_only(
            session,
            actor,
            now,
            identity,
            title,
            text,
            list(message.targets),
            why,
            handling,
            outcome="awaiting_translation" if awaiting else "recorded",
            expires_at=cap_policy.instant(message.expires, "expires"),
        )
        return Received(recorded, cancelled=cancelled)
    try:
        alert = alerts.accept_alert(session, settings, actor, spec, now, identity, handling)
    except Invalid as exc:
        if exc.field == "targets":  # an unknown station code: name the CAP element
            raise Invalid(f"area: {exc.message}", "area") from None
        raise
    return Received(alert, cancelled=cancelled)


def _facts(message: CapMessage, sent: datetime) -> cap_policy.Facts:
    return cap_policy.Facts(
        sent=sent,
        urgency=message.urgency,
        severity=message.severity,
        certainty=message.certainty,
        effective=cap_policy.instant(message.effective, "effective"),
        onset=cap_policy.instant(message.onset, "onset"),
    )


def _handling(message: CapMessage) -> Handling:
    """The CAP values kept on the alert, and the sender's audio: the first ``audio/*``
    resource with a ``uri`` or an embedded ``derefUri`` (embedded first: nothing to fetch)."""
    sounds = [r for r in message.resources if r.mime.lower().startswith("audio/")]
    sounds.sort(key=lambda r: r.deref is None)
    chosen = next((r for r in sounds if r.deref or r.uri), None)
    uri = None
    if chosen is not None:
        uri = cap_audio.data_uri(chosen.mime, chosen.deref) if chosen.deref else chosen.uri
    return Handling(
        urgency=message.urgency[:20],
        severity=message.severity[:20],
        certainty=message.certainty[:20],
        resource_uri=uri,
        resource_mime=chosen.mime[:100] if chosen is not None else None,
        resource_digest=chosen.digest[:64] if chosen is not None and chosen.digest else None,
    )


def _not_in_vietnamese(message: CapMessage, settings: Settings) -> str | None:
    """Why the words cannot be read out: no Vietnamese ``info`` (never read another language
    with the Vietnamese voice). None when there is one, or the recording named is aired."""
    if message.vietnamese or "loaxa:segment" in message.parameters:
        return None
    offered = ", ".join(message.languages)
    if settings.cap_no_vietnamese == "refuse":
        return (
            f"language: the message has no Vietnamese <info> (it offers {offered}); it is "
            "recorded, not aired (cap_no_vietnamese = refuse)"
        )
    return (
        f"language: the message has no Vietnamese <info> (it offers {offered}); it airs "
        "once an approver enters the Vietnamese words (cap_no_vietnamese = translate)"
    )


def _not_for_air(message: CapMessage) -> str | None:
    if message.status != "Actual":
        return (
            f"status: a {message.status} message is recorded, not aired; only Actual "
            "messages go on air"
        )
    if message.scope != "Public":
        return (
            f"scope: a {message.scope} message is recorded, not aired; only Public "
            "messages go on air"
        )
    return None


def _cancel_referenced(
    session: Session, actor: User, message: CapMessage, now: datetime
) -> list[Alert]:
    if not message.references:
        verb = "cancels" if message.msg_type == "Cancel" else "replaces"
        raise Invalid(
            f"references: a CAP {message.msg_type} must name the alert it {verb} in "
            "<references> (sender,identifier,sent)",
            "references",
        )
    found = find(session, [(r.sender, r.identifier) for r in message.references])
    if message.msg_type == "Cancel" and not found:
        named = " ".join(f"{r.sender},{r.identifier}" for r in message.references)
        raise NotFound(f"references: no alert recorded here matches {named}", "references")
    cancelled = []
    for alert in found:
        if alerts.cancel_alert(session, actor, alert, now, via=f"cap:{message.identifier}"):
            cancelled.append(alert)
    return cancelled


def translate(
    session: Session, settings: Settings, actor: User, alert: Alert, words: str, now: datetime
) -> Alert:
    """Air a CAP alert that came without Vietnamese words (``awaiting_translation``) with the
    words an approver entered: it becomes ``preparing`` with the outcome CAP decided, as if it
    had come in Vietnamese. Refused (rolled back) when it no longer waits, or has expired."""
    try:
        return _translate(session, settings, actor, alert, words, now)
    except Exception:
        session.rollback()
        raise


def _held_for_words(alert: Alert) -> bool:
    return alert.outcome == "awaiting_translation" and alert.state == AlertState.recorded


def awaits_translation(alert: Alert, now: datetime) -> bool:
    """Whether :func:`translate` can still put this alert on the air: it came without
    Vietnamese words, is held for them, and has not expired."""
    return _held_for_words(alert) and (alert.expires_at is None or alert.expires_at > now)


def _translate(
    session: Session, settings: Settings, actor: User, alert: Alert, words: str, now: datetime
) -> Alert:
    alerts.require_issuer(actor, alert.owner)
    if not _held_for_words(alert):
        raise Unprocessable(
            f"alert {alert.id} is not waiting for a translation (it is {alert.state.value})",
            "text",
        )
    body = {"title": alert.title, "text": words, "targets": alert.codes}
    try:
        spec = AlertSpec.model_validate(body)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = str(error["loc"][0]) if error["loc"] else "text"
        raise Invalid(f"{name}: {error['msg']}", name) from None
    for target in stations_by_code(session, spec.targets, "targets"):
        alerts.require_issuer(actor, target)
    zone = ZoneInfo(alert.owner.timezone)
    if alert.expires_at is not None and alert.expires_at <= now:
        shown = alert.expires_at.astimezone(zone).isoformat()
        raise Unprocessable(f"expires: the alert expired at {shown}; it is not aired", "expires")
    first = alerts.check_start(alert.starts_at, alert.expires_at, zone, now)
    alerts.plan(None, None, alert.expires_at, first)
    later = alert.starts_at is not None and alert.starts_at > now
    if later:
        alert.outcome = "scheduled"
    else:
        alert.outcome = "emergency" if alert.priority == "emergency" else "priority"
    offered = alert.language or "another language"
    alert.note = f"translated by {actor.username}: the sender's words ({offered}) were not read out"
    original = alert.text  # replaced by the words read out; the audit event keeps it
    alert.text, alert.spoken, alert.error = spec.text, True, None
    alert.state = AlertState.preparing
    session.flush()
    audit.record(
        session,
        now,
        actor,
        "alert.translate",
        alert,
        alert.owner.id,
        title=alert.title,
        outcome=alert.outcome,
        language=alert.language,
        original=original,
    )
    return alert

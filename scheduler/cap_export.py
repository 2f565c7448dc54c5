"""An alert written out as a CAP 1.2 message, for upstream and neighbouring systems.

:func:`to_cap` gives what :func:`scheduler.cap.parse_cap` reads back: the identity as the
sender wrote it (a JSON or panel alert has its own ``loaxa-…`` identifier), one ``info`` in
Vietnamese (the words aired — an operator's translation included — or, for a message kept
without airing, as it came), the CAP values it came with (an alert issued here is
Immediate/Severe/Observed, as it interrupts), ``effective`` when it was scheduled, the expiry,
``loaxa:outcome`` / ``loaxa:reason`` parameters saying what Loa Xã did, and one ``area`` whose
``loaxa`` geocodes are the target stations. Times are in the owner's zone, to the second.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

from scheduler.cap import CAP_NAMESPACES
from scheduler.models import Alert, AlertState

CONTENT_TYPE = "application/cap+xml"
ET.register_namespace("", CAP_NAMESPACES[0])  # the default namespace, not "ns0:"


def to_cap(alert: Alert) -> bytes:
    """The alert as a CAP 1.2 ``<alert>`` document (UTF-8, with its XML declaration)."""
    zone = ZoneInfo(alert.owner.timezone)
    root = ET.Element(_tag("alert"))
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", alert.sender)
    _add(root, "sent", _when(alert.sent, zone))
    _add(root, "status", alert.status or "Actual")
    _add(root, "msgType", alert.msg_type or "Alert")
    _add(root, "scope", alert.scope or "Public")
    if alert.references:
        _add(root, "references", alert.references)
    info = ET.SubElement(root, _tag("info"))
    as_sent = alert.language if alert.state == AlertState.recorded else None
    _add(info, "language", as_sent or "vi-VN")
    _add(info, "category", "Safety")
    _add(info, "event", alert.title)
    _add(info, "urgency", alert.urgency or "Immediate")
    _add(info, "severity", alert.severity or "Severe")
    _add(info, "certainty", alert.certainty or "Observed")
    if alert.starts_at is not None:
        _add(info, "effective", _when(alert.starts_at, zone))
    if alert.expires_at is not None:
        _add(info, "expires", _when(alert.expires_at, zone))
    _add(info, "senderName", alert.owner.name)
    _add(info, "headline", alert.title)
    if alert.text:
        _add(info, "description", alert.text)
    _parameter(info, "loaxa:outcome", alert.outcome)
    _parameter(info, "loaxa:status", alert.state.value)
    if alert.error:
        _parameter(info, "loaxa:reason", alert.error)
    if alert.repeat_every_s:
        _parameter(info, "loaxa:repeat_every_s", str(alert.repeat_every_s))
    if alert.repeat_count:
        _parameter(info, "loaxa:repeat_count", str(alert.repeat_count))
    area = ET.SubElement(info, _tag("area"))
    _add(area, "areaDesc", alert.area or ", ".join(alert.codes) or "-")
    for code in alert.codes:
        geocode = ET.SubElement(area, _tag("geocode"))
        _add(geocode, "valueName", "loaxa")
        _add(geocode, "value", code)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _tag(name: str) -> str:
    return f"{{{CAP_NAMESPACES[0]}}}{name}"


def _add(parent: ET.Element, name: str, text: str) -> None:
    ET.SubElement(parent, _tag(name)).text = text


def _parameter(info: ET.Element, name: str, value: str) -> None:
    parameter = ET.SubElement(info, _tag("parameter"))
    _add(parameter, "valueName", name)
    _add(parameter, "value", value)


def _when(moment: datetime, zone: ZoneInfo) -> str:
    """CAP's date-time: the offset always written, never ``Z`` (CAP 1.2 §3.3.2)."""
    return moment.astimezone(zone).replace(microsecond=0).isoformat()

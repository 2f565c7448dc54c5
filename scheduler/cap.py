"""CAP 1.2 (OASIS Common Alerting Protocol) messages, read safely into plain values.

The parser is expat driven by hand into an ElementTree builder, with the document type
refused outright: a CAP message never needs a DOCTYPE, and refusing it closes the doors to
entity expansion ("billion laughs"), external entities and DTD fetching in one place, with
no dependency. Namespaces are dropped after the root is checked (CAP 1.1 and 1.2 are read
alike). Every refusal is an :class:`~scheduler.errors.Invalid` naming the CAP element.

Only what Loa Xã acts on is kept: identity (sender, identifier, sent), status, message type
and scope, references, and of one ``info`` block — the Vietnamese one (``language`` vi or
vi-VN), else the first, with :attr:`CapMessage.vietnamese` false and the languages offered
listed — the headline, event, description, instruction, urgency, severity, certainty,
effective, onset, expiry, the ``resource`` files (by ``uri`` or embedded ``derefUri``),
``loaxa:*`` parameters and the station codes of the area geocodes. An ``info`` without
``language`` is ``en-US``, as CAP 1.2 §3.2.2 says.

:func:`scheduler.cap_export.to_cap` writes an alert back as a CAP 1.2 message this parser
reads again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

from scheduler.errors import Invalid

CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
# <geocode><valueName>…</valueName> whose value is a station code. Station codes are the
# General Statistics Office's administrative unit codes (mã đơn vị hành chính: province 2
# digits, district 3, commune 5), so the names senders use for those codes are read too.
STATION_GEOCODES = {"loaxa", "loaxa:station", "station", "gso", "vn-gso", "madvhc", "ma_dvhc"}
# Room for a sender's recording embedded in <derefUri> (base64: a 2-minute 64 kbit/s MP3).
MAX_BYTES = 2 * 1024 * 1024


class _Refused(Exception):
    """Raised inside an expat handler to stop the parse."""


@dataclass(frozen=True)
class CapResource:
    """A ``resource``: a file by ``uri``, or embedded base64 (``derefUri``)."""

    desc: str
    mime: str
    uri: str | None = None
    deref: str | None = None  # base64, as sent
    size: int | None = None
    digest: str | None = None  # SHA-1, hex


@dataclass(frozen=True)
class CapReference:
    sender: str
    identifier: str
    sent: str = ""


@dataclass(frozen=True)
class CapMessage:
    identifier: str
    sender: str
    sent: str
    status: str  # Actual | Exercise | System | Test | Draft
    msg_type: str  # Alert | Update | Cancel | Ack | Error
    scope: str = "Public"  # Public | Restricted | Private
    references: tuple[CapReference, ...] = ()
    language: str = ""
    headline: str | None = None
    event: str | None = None
    description: str | None = None
    instruction: str | None = None
    expires: str | None = None
    urgency: str = "Unknown"  # Immediate | Expected | Future | Past | Unknown
    severity: str = "Unknown"  # Extreme | Severe | Moderate | Minor | Unknown
    certainty: str = "Unknown"  # Observed | Likely | Possible | Unlikely | Unknown
    effective: str | None = None
    onset: str | None = None
    resources: tuple[CapResource, ...] = ()
    vietnamese: bool = True  # the info read is in Vietnamese (or there is no info)
    languages: tuple[str, ...] = ()  # every info's language, as sent
    targets: tuple[str, ...] = ()
    area_desc: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    has_info: bool = False


def parse_xml(data: bytes) -> ET.Element:
    """A safe parse: well-formed XML without any DOCTYPE, else :class:`Invalid` on ``body``."""
    if len(data) > MAX_BYTES:
        raise Invalid(f"body: a CAP message is at most {MAX_BYTES // 1024} KB", "body")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")

    def refuse(*_args: object) -> None:
        raise _Refused

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = lambda name, attrs: builder.start(_clark(name), attrs)
    parser.EndElementHandler = lambda name: builder.end(_clark(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except _Refused:
        raise Invalid(
            "body: the XML declares a DOCTYPE or entities; CAP messages never need them, "
            "so they are refused (no entity expansion here)",
            "body",
        ) from None
    except expat.ExpatError as exc:
        raise Invalid(f"body: the body is not well-formed XML ({exc})", "body") from None
    return builder.close()


def _clark(name: str) -> str:
    """expat's ``ns}local`` → ElementTree's ``{ns}local``."""
    return "{" + name if "}" in name else name


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if _local(c.tag) == name]


def _text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def _required(element: ET.Element, name: str) -> str:
    value = _text(element, name)
    if value is None:
        raise Invalid(f"{name}: the CAP message has no <{name}>; CAP 1.2 requires it", name)
    return value


def parse_cap(data: bytes) -> CapMessage:
    """Read a CAP alert; what is missing or not CAP is named in the error."""
    root = parse_xml(data)
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "alert" or namespace not in CAP_NAMESPACES:
        raise Invalid(
            f"body: this is not a CAP 1.2 alert (root <{_local(root.tag)}> in namespace "
            f'{namespace or "none"}; expected <alert xmlns="{CAP_NAMESPACES[0]}">)',
            "body",
        )
    infos = _children(root, "info")
    languages = tuple(_text(i, "language") or "en-US" for i in infos)
    chosen = next((n for n, lang in enumerate(languages) if _is_vietnamese(lang)), None)
    info = infos[0 if chosen is None else chosen] if infos else None
    common: dict[str, Any] = {
        "identifier": _required(root, "identifier"),
        "sender": _required(root, "sender"),
        "sent": _required(root, "sent"),
        "status": _required(root, "status"),
        "msg_type": _required(root, "msgType"),
        "scope": _required(root, "scope"),
        "references": _references(_text(root, "references")),
    }
    if info is None:
        return CapMessage(**common)
    return CapMessage(
        **common,
        language=_text(info, "language") or "en-US",
        headline=_text(info, "headline"),
        event=_text(info, "event"),
        description=_text(info, "description"),
        instruction=_text(info, "instruction"),
        expires=_text(info, "expires"),
        urgency=_text(info, "urgency") or "Unknown",
        severity=_text(info, "severity") or "Unknown",
        certainty=_text(info, "certainty") or "Unknown",
        effective=_text(info, "effective"),
        onset=_text(info, "onset"),
        resources=tuple(_resource(r) for r in _children(info, "resource")),
        vietnamese=chosen is not None,
        languages=languages,
        targets=_targets(info),
        area_desc="; ".join(
            d for a in _children(info, "area") if (d := _text(a, "areaDesc")) is not None
        )
        or None,
        parameters=_values(info, "parameter"),
        has_info=True,
    )


def _is_vietnamese(language: str) -> bool:
    """``vi`` or ``vi-VN`` (any case), as RFC 3066 tags Vietnamese."""
    return language.lower() == "vi" or language.lower().startswith("vi-")


def _resource(element: ET.Element) -> CapResource:
    size = _text(element, "size")
    if size is not None and not size.isdigit():
        raise Invalid(f"resource: size {size!r} is not a number of bytes", "resource")
    return CapResource(
        desc=_text(element, "resourceDesc") or "",
        mime=_text(element, "mimeType") or "",
        uri=_text(element, "uri"),
        deref=_text(element, "derefUri"),
        size=int(size) if size is not None else None,
        digest=(_text(element, "digest") or "").lower() or None,
    )


def _references(text: str | None) -> tuple[CapReference, ...]:
    """``"sender,identifier,sent sender,identifier,sent"`` (CAP 1.2 §3.2.1)."""
    found = []
    for item in (text or "").split():
        parts = item.split(",")
        if len(parts) < 2:
            raise Invalid(f"references: {item!r} is not sender,identifier,sent", "references")
        found.append(CapReference(parts[0], parts[1], ",".join(parts[2:])))
    return tuple(found)


def _values(element: ET.Element, name: str) -> dict[str, str]:
    """``<parameter><valueName>k</valueName><value>v</value></parameter>`` → ``{k: v}``."""
    values: dict[str, str] = {}
    for item in _children(element, name):
        key, value = _text(item, "valueName"), _text(item, "value")
        if key and value is not None:
            values[key.lower()] = value
    return values


def _targets(info: ET.Element) -> tuple[str, ...]:
    codes: list[str] = []
    for area in _children(info, "area"):
        for geocode in _children(area, "geocode"):
            name, value = _text(geocode, "valueName"), _text(geocode, "value")
            if name and value and name.lower() in STATION_GEOCODES:
                codes.extend(c for c in re.split(r"[\s,;]+", value) if c)
    return tuple(dict.fromkeys(codes))

"""Station directories: administrative trees as plain data.

A directory is the JSON shape of the national administrative register (a list of provinces,
each with ``districts``, each with ``wards``) or any tree like it: children may sit under
``districts``, ``wards``, ``communes`` or ``children``, so the 2024 three-level tree and the
2025 two-level tree (provinces → communes) read the same way. YAML is accepted too.

Codes follow the General Statistics Office widths — 2 digits for a province, 3 for a district,
5 for a commune — so numeric codes, which repeat across levels in the source (province 1,
district 1 and ward 1 all exist), become unique strings: ``"01"``, ``"001"``, ``"00001"``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

BUNDLED = {"ha-nam-2024": "ha-nam-2024.json"}
# Directories built from a maintained package rather than a copied file: the 2025 two-level
# map (34 provinces, 3,321 communes) as the ``vietnam-provinces`` package publishes it.
PACKAGED = ("vn-2025",)
# Which administrative map a directory draws, and from when to when it is in force.
MAPS = {"ha-nam-2024": "2024", "vn-2025": "2025"}
MAP_DATES: dict[str, tuple[date | None, date | None]] = {
    "2024": (None, date(2025, 6, 30)),
    "2025": (date(2025, 7, 1), None),  # Resolution 202/2025/QH15: two levels from 1/7/2025
}
CHILD_KEYS = ("districts", "wards", "communes", "children")
# What the key a list sits under says about its entries' level ("children": nothing).
KEY_LEVEL = {"districts": "district", "wards": "commune", "communes": "commune"}
LEVELS = ("province", "district", "commune")
CODE_WIDTH = {"province": 2, "district": 3, "commune": 5}
# Vietnamese division types → our levels. Source files say "tỉnh"/"huyện"/"xã" for whole
# levels; finer names (quận, thị xã, phường, thị trấn…) appear in other exports.
DIVISION_LEVEL = {
    "tỉnh": "province",
    "thành phố trung ương": "province",
    "huyện": "district",
    "quận": "district",
    "thị xã": "district",
    "thành phố thuộc tỉnh": "district",
    "xã": "commune",
    "phường": "commune",
    "thị trấn": "commune",
    "đặc khu": "commune",
}


class DirectoryError(ValueError):
    """The station directory cannot be read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class StationNode:
    code: str
    name: str
    level: str
    parent: str | None


def read_directory(source: str | Path, province: str | None = None) -> list[StationNode]:
    """Read a bundled directory by name (``ha-nam-2024``, ``vn-2025``) or a JSON/YAML file,
    parents first; ``province`` keeps one top-level division and what lies below it."""
    data = _load(source)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise DirectoryError(f"{source}: expected a list of top-level divisions")
    if province is not None:
        data = _one_province(data, province, str(source))
    nodes = list(_walk(data, parent=None, depth=0, where=str(source), hint=None))
    seen: set[str] = set()
    for node in nodes:
        if node.code in seen:
            raise DirectoryError(f"{source}: station code {node.code} appears twice")
        seen.add(node.code)
    return nodes


def _one_province(data: list[Any], wanted: str, where: str) -> list[Any]:
    code = wanted.strip()
    code = code.zfill(CODE_WIDTH["province"]) if code.isdigit() else code
    for item in data:
        if isinstance(item, dict) and "code" in item and _code(item["code"], "province") == code:
            return [item]
    known = ", ".join(
        _code(i["code"], "province") for i in data if isinstance(i, dict) and "code" in i
    )
    raise DirectoryError(f"{where}: no province {wanted!r} (provinces: {known})")


def _packaged(name: str) -> list[dict[str, Any]]:
    """The 2025 map from ``vietnam-provinces``: provinces with their communes (wards)."""
    from vietnam_provinces import Province, Ward

    communes: dict[int, list[dict[str, Any]]] = {}
    for ward in Ward.iter_all():
        communes.setdefault(int(ward.province_code), []).append(
            {"code": int(ward.code), "name": ward.name, "level": "commune"}
        )
    provinces = []
    for province in sorted(Province.iter_all(), key=lambda p: int(p.code)):
        name_ = province.name
        if province.division_type.value == "tỉnh" and not name_.startswith("Tỉnh "):
            name_ = f"Tỉnh {name_}"  # as the 2024 register names them: "Tỉnh Hà Nam"
        wards = sorted(communes.get(int(province.code), []), key=lambda w: int(w["code"]))
        provinces.append(
            {"code": int(province.code), "name": name_, "level": "province", "wards": wards}
        )
    return provinces


def _load(source: str | Path) -> Any:
    name = str(source)
    if name in PACKAGED:
        return _packaged(name)
    if name in BUNDLED:
        text = resources.files("config").joinpath("stations", BUNDLED[name]).read_text("utf-8")
        return json.loads(text)
    path = Path(name)
    if not path.is_file():
        known = ", ".join(sorted((*BUNDLED, *PACKAGED)))
        raise DirectoryError(f"{name}: no such file or bundled directory (bundled: {known})")
    text = path.read_text("utf-8")
    try:
        if path.suffix.lower() in {".yaml", ".yml"}:
            return yaml.safe_load(text)
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DirectoryError(f"{name}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DirectoryError(f"{name}: not valid YAML ({where}{problem})") from exc


def _walk(
    items: list[Any], parent: str | None, depth: int, where: str, hint: str | None
) -> Iterator[StationNode]:
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "name" not in item or "code" not in item:
            raise DirectoryError(
                f"{where}: entry {index} under {parent or 'top'} needs name and code"
            )
        level = _level(item, depth, hint)
        code = _code(item["code"], level)
        yield StationNode(code=code, name=str(item["name"]).strip(), level=level, parent=parent)
        for key in CHILD_KEYS:
            children = item.get(key)
            if children:
                if not isinstance(children, list):
                    raise DirectoryError(f"{where}: {key} of {code} must be a list")
                yield from _walk(
                    children, parent=code, depth=depth + 1, where=where, hint=KEY_LEVEL.get(key)
                )


def _level(item: dict[str, Any], depth: int, hint: str | None) -> str:
    """An explicit ``level``, else the division type, else the key the entry sits under
    (``wards`` of a province are communes in the 2025 tree), else the depth."""
    explicit = item.get("level")
    if explicit in LEVELS:
        return str(explicit)
    division = str(item.get("division_type", "")).strip().lower()
    if division in DIVISION_LEVEL:
        return DIVISION_LEVEL[division]
    if hint is not None:
        return hint
    return LEVELS[min(depth, len(LEVELS) - 1)]


def _code(raw: Any, level: str) -> str:
    if isinstance(raw, bool):
        raise DirectoryError(f"code {raw!r} is not a code")
    if isinstance(raw, int):
        return str(raw).zfill(CODE_WIDTH[level])
    code = str(raw).strip()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_." for c in code):
        raise DirectoryError(f"code {raw!r} must be 1–32 letters, digits, '-', '_' or '.'")
    return code.zfill(CODE_WIDTH[level]) if code.isdigit() else code

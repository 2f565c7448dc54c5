"""The official move from the 2024 map (63 provinces, districts, 10,051 communes) to the 2025
two-level map (34 provinces, 3,321 communes), as data: which 2025 unit each 2024 unit became.

The decision tables come from ``vietnamadminunits`` (its converter data: every 2025 commune
with the 2024 communes merged into it, and the 2024 communes split between several, with the
default one); the 2025 codes and names from ``vietnam-provinces``, which the rest of Loa Xã
uses for the 2025 map. The two packages name units the same way but do not always give them
the same code, so they are joined by province and name (tone marks placed either way: "Hòa"
and "Hoà" are one name). A department with its own decision can give a mapping file instead.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from config.directory import DirectoryError

TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
# Typographic apostrophes and dashes in one source, plain ones in the other ("Ea M’Droh").
PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "`": "'", "–": "-", "—": "-"})


@dataclass(frozen=True)
class Unit:
    """A 2025 unit: its official code, name, level and province."""

    code: str
    name: str
    level: str  # province | commune
    province: str | None  # the province's code, for a commune


@dataclass
class Mapping:
    """2024 code → the 2025 units it became. ``communes`` lists (code, default) pairs: one for
    a commune kept whole, several for one split (exactly one of them the default)."""

    provinces: dict[str, str] = field(default_factory=dict)
    communes: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    source: str = "vietnamadminunits"


def name_key(name: str) -> str:
    """A name compared as people read it: case, spacing, typographic apostrophes and dashes,
    and where the tone mark sits on a syllable do not matter ("Xã Thuận Hoà" is "Xã Thuận
    Hòa", "Xã Ea M’Droh" is "Xã Ea M'Droh")."""
    syllables = []
    text = name.strip().lower().translate(PUNCTUATION).replace(" - ", "-")
    for word in unicodedata.normalize("NFD", text).split():
        tones = "".join(c for c in word if c in TONES)
        bare = "".join(c for c in word if c not in TONES)
        syllables.append(unicodedata.normalize("NFC", bare) + tones)
    return " ".join(syllables)


def _code(value: object, width: int) -> str:
    text = str(value).strip()
    return text.zfill(width) if text.isdigit() else text


@cache
def units_2025() -> dict[str, Unit]:
    """Every 2025 unit by code, from ``vietnam-provinces``."""
    from vietnam_provinces import Province, Ward

    units: dict[str, Unit] = {}
    for province in Province.iter_all():
        code = _code(int(province.code), 2)
        name = province.name
        if province.division_type.value == "tỉnh" and not name.startswith("Tỉnh "):
            name = f"Tỉnh {name}"
        units[code] = Unit(code, name, "province", None)
    for ward in Ward.iter_all():
        code = _code(int(ward.code), 5)
        units[code] = Unit(code, ward.name, "commune", _code(int(ward.province_code), 2))
    return units


@cache
def official() -> Mapping:
    """The decision tables as the packages publish them."""
    from vietnamadminunits.converter.converter_2025 import (
        DICT_PROVINCE,
        DICT_PROVINCE_WARD_DIVIDED,
        DICT_PROVINCE_WARD_NO_DIVIDED,
    )
    from vietnamadminunits.database import get_data

    units = units_2025()
    by_name = {
        (u.province, name_key(u.name)): u.code for u in units.values() if u.level == "commune"
    }
    new_wards: dict[tuple[str, str], str] = {}  # (province key, ward key) → 2025 code
    new_provinces: dict[str, str] = {}  # province key → 2025 code
    for row in get_data(["provinceKey", "provinceCode", "wardKey", "ward"], "admin_units"):
        province = _code(row["provinceCode"], 2)
        new_provinces[row["provinceKey"]] = province
        code = by_name.get((province, name_key(row["ward"])))
        if code is not None:
            new_wards[(row["provinceKey"], row["wardKey"])] = code
    old: dict[str, str] = {}  # "province_district_ward" key → 2024 code
    old_provinces: dict[str, str] = {}
    columns = ["provinceKey", "districtKey", "wardKey", "provinceCode", "wardCode"]
    for row in get_data(columns, "admin_units_legacy"):
        old[f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}"] = _code(
            row["wardCode"], 5
        )
        old_provinces[row["provinceKey"]] = _code(row["provinceCode"], 2)

    mapping = Mapping(units=units)
    for new_key, old_keys in DICT_PROVINCE.items():
        for old_key in old_keys:
            if old_key in old_provinces and new_key in new_provinces:
                mapping.provinces[old_provinces[old_key]] = new_provinces[new_key]
    for province_key, wards in DICT_PROVINCE_WARD_NO_DIVIDED.items():
        for ward_key, old_keys in wards.items():
            new = new_wards.get((province_key, ward_key))
            for old_key in old_keys:
                if new is not None and old_key in old:
                    mapping.communes.setdefault(old[old_key], []).append((new, True))
    for province_key, splits in DICT_PROVINCE_WARD_DIVIDED.items():
        for old_key, targets in splits.items():
            if old_key not in old:
                continue
            pieces = [
                (new_wards[(province_key, t["newWardKey"])], bool(t["isDefaultNewWard"]))
                for t in targets
                if (province_key, t["newWardKey"]) in new_wards
            ]
            if pieces:
                mapping.communes[old[old_key]] = pieces
    return mapping


def read_mapping(path: Path) -> Mapping:
    """A department's own decision: CSV or JSON rows of ``old``, ``new`` and optionally
    ``default`` (for a split: which successor takes the schedules). Provinces map by their
    two-digit codes, communes by their five-digit ones; every new code must be a 2025 unit."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot read the mapping file ({exc.strerror})") from exc
    try:
        if path.suffix.lower() == ".json":
            rows = json.loads(text)
        else:
            rows = list(csv.DictReader(text.splitlines()))
    except json.JSONDecodeError as exc:
        raise DirectoryError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(rows, list) or not rows:
        raise DirectoryError(f"{path}: expected rows of old, new (and default)")
    units = units_2025()
    known = official()
    mapping = Mapping(units=units, source=str(path))
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not row.get("old") or not row.get("new"):
            raise DirectoryError(f"{path}: row {number} needs old and new codes")
        old_code, new_code = str(row["old"]).strip(), str(row["new"]).strip()
        unit = units.get(_code(new_code, 2 if len(new_code) <= 2 else 5))
        if unit is None:
            raise DirectoryError(f"{path}: row {number}: {new_code} is not a unit of the 2025 map")
        default = str(row.get("default", "1")).strip().lower() not in ("0", "false", "no", "")
        old_code = _code(old_code, 2 if unit.level == "province" else 5)
        if old_code not in (known.provinces if unit.level == "province" else known.communes):
            raise DirectoryError(
                f"{path}: row {number}: {old_code} is not a {unit.level} of the 2024 map"
            )
        if unit.level == "province":
            mapping.provinces[old_code] = unit.code
        else:
            mapping.communes.setdefault(old_code, []).append((unit.code, default))
    return mapping

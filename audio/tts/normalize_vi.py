"""Vietnamese text normaliser for TTS: what the voice must say instead of what is written.

Engines read digits, abbreviations and symbols badly (or in another dialect), so a bulletin
goes through :func:`normalize` first. It is a pure function: a chain of small regex steps,
each turning one written form into words. Steps run from the most specific form to the most
generic — a phone number is spelled digit by digit before the number step could read it as
millions, a date before its day and month become two numbers. The output holds no digits,
abbreviations or symbols any rule reads, so a second pass changes nothing.

Reading conventions (northern standard); where usage varies, the choice made here:

- ``1.000`` groups thousands; ``5,3`` is a decimal comma ("phẩy"); a dot that does not group
  thousands reads "chấm" (``4.0`` → "bốn chấm không").
- "nghìn" (not "ngàn"), "tỷ", "linh" (not "lẻ"); after a tens digit ≥ 2, 1 → "mốt" and
  4 → "tư"; 5 → "lăm" after any tens digit; a group after a higher group keeps
  "không trăm" (2024 → "hai nghìn không trăm hai mươi tư").
- Dates never *add* "ngày", so "ngày 21/4" cannot become "ngày ngày"; no "mùng"; leading
  zeros dropped (01/10 → "một tháng mười"); months "một" … "tư" … "mười hai".
- ``d-m`` is a date only after "ngày" (``ngày 21-4``); otherwise ``a-b`` is a range ("đến").
- Times: ``17h30`` → "mười bảy giờ ba mươi phút"; zero minutes are not read.
- Ordinals: "thứ 1" → "thứ nhất", "thứ 4" → "thứ tư"; "hạng"/"giải" 2 → "nhì".
- ``d/m`` is a count, read "trên", before a counted noun or after "tỷ lệ" ("12/12 thôn" →
  "mười hai trên mười hai thôn"); after "số" it is left alone (house/document numbers);
  after "ngày" it is always a date. "quý 1/2024" → "quý một năm …".
- Phone numbers (10–11 digits from 0), +84, hotlines 1800/1900, and 3–5 digit numbers
  after "gọi"/"tổng đài"/"đường dây nóng" (113, 1022) are read digit by digit; so are other
  integers with a leading zero and three or more digits (codes).
- URLs and e-mails are spelled out ("chấm", "a còng", "gạch chéo"); the scheme is dropped.
- "/" reads "trên" before a unit (km/h, đồng/kg) and "mỗi" before a counted noun
  (đồng/người/tháng → "đồng mỗi người mỗi tháng"); other slashes are left alone.
- Document references (``58/KH-UBND``, ``100/2019/NĐ-CP``, ``05-CT/TW``) read the number,
  "năm" and the year, the type unless the words before just said it, then "của" and the
  issuers: "Kế hoạch số 58/KH-UBND" → "Kế hoạch số năm mươi tám của Ủy ban nhân dân".
  Types and issuers: ``config/tts/documents.json`` (Nghị định 30/2020/NĐ-CP, Appendix III).
- "số nhà 45/12", "ngõ 12/3" read "trên"; roads "QL21A" → "quốc lộ hai mươi mốt a";
  emergency numbers 111–115 in a list or after their service are spelled ("một một ba").
- Capitals still left at the end (an acronym no table knows) are spelled by Vietnamese
  letter names ("HTK" → "hát tê ca"), unless they make one Vietnamese syllable (a shouted
  headline word: "THI") or a Roman numeral. Editors add readings in the panel.
- Line breaks survive (one per break) so sentence splitting still sees paragraphs; other
  whitespace collapses to one space.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from audio.tts.numbers_vi import (
    digits_to_words,
    month_to_words,
    number_to_words,
    ordinal_to_words,
    roman_to_int,
)

__all__ = [
    "AbbreviationFileError",
    "load_abbreviations",
    "normalize",
]


class AbbreviationFileError(ValueError):
    """An abbreviation file is not a JSON object mapping abbreviations to spoken text."""


# --- abbreviation dictionary ----------------------------------------------------------------


def load_abbreviations(extra_path: Path | None = None) -> dict[str, str]:
    """The bundled dictionary, merged with a user JSON file whose entries win."""
    merged = dict(_bundled_abbreviations())
    if extra_path is not None:
        merged.update(_parse_abbreviations(extra_path.read_text("utf-8"), str(extra_path)))
    return merged


@lru_cache(maxsize=1)
def _bundled_abbreviations() -> Mapping[str, str]:
    """Read ``config/tts/abbreviations.json`` once; read-only so the cache cannot be edited."""
    text = resources.files("config.tts").joinpath("abbreviations.json").read_text("utf-8")
    return MappingProxyType(_parse_abbreviations(text, "config/tts/abbreviations.json"))


def _parse_abbreviations(text: str, source: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AbbreviationFileError(f"{source}: not valid JSON (line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise AbbreviationFileError(f"{source}: expected an object of abbreviation → text")
    table: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(value, str) or not key.strip() or not value.strip():
            raise AbbreviationFileError(f"{source}: {key!r} needs a non-empty spoken text")
        table[_nfc(key.strip())] = _nfc(value.strip())
    return table


@lru_cache(maxsize=1)
def _documents() -> Mapping[str, Mapping[str, str]]:
    """``config/tts/documents.json``: document types and issuers of references, letters."""
    text = resources.files("config.tts").joinpath("documents.json").read_text("utf-8")
    data = json.loads(text)
    return MappingProxyType({k: MappingProxyType(v) for k, v in data.items()})


def _nfc(text: str) -> str:
    """Composed Unicode, so "Đ" + combining marks typed on any keyboard match the keys."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=16)
def _abbreviation_pattern(keys: frozenset[str]) -> re.Pattern[str]:
    """Whole-token alternation, longest key first so "Sở TT&TT" beats "TT&TT".

    A token boundary excludes letters, digits, "&" and "-", so UBND inside "KH-UBND" is left
    for the compound step. A dot after a key is captured so "TP. Phủ Lý" can drop it.
    """
    body = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in sorted(keys, key=len)[::-1])
    return re.compile(rf"(?<![\w&-])(?P<key>{body})(?![\w&-])(?P<dot>\.(?=\s*\w))?")


_TITLE_ABBREVIATIONS = frozenset({"TP", "TX"})  # "TP. Phủ Lý": that dot is not a full stop
# Upper-case compounds such as "QĐ-UBND" or "HĐND-UBND" that are not keys themselves.
_COMPOUND_RE = re.compile(r"(?<![\w&-])[A-ZĐ][A-ZĐ0-9&]*(?:-[A-ZĐ][A-ZĐ0-9&]*)+(?![\w&-])")


def _expand_abbreviations(text: str, table: Mapping[str, str]) -> str:
    if not table:
        return text

    def expand(m: re.Match[str]) -> str:
        key = " ".join(m["key"].split())
        dot = m["dot"] or ""
        if dot and key in _TITLE_ABBREVIATIONS and m.string[m.end() :].lstrip()[:1].isupper():
            dot = ""
        return table[key] + dot

    def expand_parts(m: re.Match[str]) -> str:
        parts = m[0].split("-")
        if not any(p in table for p in parts):
            return m[0]
        return " ".join(table.get(p, p) for p in parts)

    text = _abbreviation_pattern(frozenset(table)).sub(expand, text)
    return _COMPOUND_RE.sub(expand_parts, text)


# --- shared helpers -------------------------------------------------------------------------


def _pad(m: re.Match[str], words: str) -> str:
    """Words for a match, with a space where a letter or digit touches it ("5G" → "năm G")."""
    s = m.string
    left = " " if m.start() > 0 and s[m.start() - 1].isalnum() else ""
    right = " " if m.end() < len(s) and s[m.end()].isalnum() else ""
    return f"{left}{words}{right}"


def _after(m: re.Match[str], pattern: re.Pattern[str]) -> bool:
    """Whether the text just before the match ends with ``pattern`` (context words)."""
    return pattern.search(m.string, max(0, m.start() - 40), m.start()) is not None


_AFTER_NGAY = re.compile(r"(?<!\w)(?i:ngày)\s+$")
_AFTER_THANG = re.compile(r"(?<!\w)(?i:tháng)\s+$")
_AFTER_QUY = re.compile(r"(?<!\w)(?i:quý)\s+$")
_AFTER_SO = re.compile(r"(?<!\w)(?i:số)\s+$")
_AFTER_NUMBER = re.compile(r"\d\s+$")
_AFTER_RATIO_WORD = re.compile(r"(?<!\w)(?i:tỷ\s+lệ|tỉ\s+lệ)\s+$")
# Nouns that make "12/12" a count ("12/12 thôn" = twelve of twelve), not 12 December.
_COUNTED_NOUN_RE = re.compile(
    r"\s+(?:thôn|xóm|làng|tổ|khu|xã|phường|thị\s+trấn|huyện|tỉnh|hộ|người|trường|lớp|học\s+sinh"
    r"|em|gia\s+đình|đơn\s+vị|cơ\s+quan|tiêu\s+chí|chỉ\s+tiêu|cán\s+bộ|đảng\s+viên|hội\s+viên"
    r"|đoàn\s+viên|thành\s+viên|chi\s+bộ|chi\s+hội|câu\s+lạc\s+bộ|điểm|trạm|công\s+trình"
    r"|dự\s+án|doanh\s+nghiệp|nhà\s+văn\s+hóa|hợp\s+tác\s+xã)(?!\w)"
)


# --- URLs, e-mails, phone numbers -----------------------------------------------------------

_EMAIL_RE = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL_RE = re.compile(
    r"""(?<![\w@.])
    (?:https?://)?                                  # scheme: not read
    (?:[a-z0-9-]+\.)+(?:vn|com|net|org|gov|edu|info)\b  # known TLDs only: "TP.HCM" is no URL
    (?:/\S*)?                                       # path, trailing punctuation given back
    """,
    re.IGNORECASE | re.VERBOSE,
)
_SCHEME_RE = re.compile(r"^https?://", re.IGNORECASE)
_TRAILING_PUNCTUATION_RE = re.compile(r"[.,;:!?)]*$")  # the sentence's, not the address's
_ADDRESS_SPLIT = re.compile(r"([.@/_:?=-]|\d+)")  # symbols and digit runs, each read aloud
_ADDRESS_SYMBOLS = {
    ".": "chấm",
    "@": "a còng",
    "/": "gạch chéo",
    "-": "gạch ngang",
    "_": "gạch dưới",
    ":": "hai chấm",
    "?": "chấm hỏi",
    "=": "bằng",
}


def _read_address(m: re.Match[str]) -> str:
    """Spell a URL or e-mail so a listener can type it; the sentence's full stop stays."""
    trailing = _TRAILING_PUNCTUATION_RE.search(m[0])
    tail = trailing[0] if trailing else ""
    address = _SCHEME_RE.sub("", m[0][: len(m[0]) - len(tail)])
    words = []
    for part in _ADDRESS_SPLIT.split(address):
        if part.isdigit():
            words.append(digits_to_words(part))
        elif part.lower() == "www":
            words.append("vê kép vê kép vê kép")
        elif part:
            words.append(_ADDRESS_SYMBOLS.get(part, part))
    return " ".join(words) + tail


# Mobile/landline: 0 + 9–10 more digits, grouped by spaces, dots or hyphens (0912 345 678).
_PHONE_RE = re.compile(r"(?<![\w.,/+])0\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?!\w|[.,]\d)")
# International form of a Vietnamese number: +84 912 345 678.
_INTL_PHONE_RE = re.compile(r"\+84[ .]?\d{2,3}(?:[ .-]?\d{2,4}){1,3}(?!\w|[.,]\d)")
# Hotlines 1800/1900 followed by more digits ("1900 1234"); a lone 1900 stays a year.
_HOTLINE_RE = re.compile(r"(?<![\w.,])1[89]00(?:[ .]?\d{2,4}){1,2}(?!\w|[.,]\d)")
# Short numbers right after "gọi", "tổng đài", "đường dây nóng": 113, 1022, "113 hoặc 114".
_HOTLINE_CONTEXT_RE = re.compile(
    r"(?<!\w)(?P<ctx>(?i:gọi(?:\s+(?:ngay|điện|đến|tới|số))*|tổng\s+đài|đường\s+dây\s+nóng"
    r"|hotline))(?P<sep>\s*:\s*|\s+)"
    r"(?P<nums>\d{3,5}(?:(?:\s*,\s*|\s+(?:hoặc|và)\s+)\d{3,5})*)(?!\w|[.,]\d)"
)
# Emergency numbers in a list ("113/114/115"): each spelled, never a date or a fraction.
_EMERGENCY_LIST_RE = re.compile(r"(?<![\w.,/])11[1-5](?:\s*/\s*11[1-5])+(?![\w/]|[.,]\d)")
# …and alone after the service they call ("Cảnh sát 113", "cấp cứu 115", "số 114").
_EMERGENCY_CONTEXT_RE = re.compile(
    r"(?<!\w)(?P<ctx>(?i:cảnh\s+sát|công\s+an|cứu\s+hỏa|cứu\s+hộ|cứu\s+nạn|cấp\s+cứu"
    r"|chữa\s+cháy|số|bảo\s+vệ\s+trẻ\s+em))(?P<sep>\s*:?\s*)(?P<num>11[1-5])(?![\w/]|[.,]\d)"
)
_DIGIT_RUN_RE = re.compile(r"\d+")
_PHONE_SEPARATOR_RE = re.compile(r"[ .-]")


def _read_phone(m: re.Match[str]) -> str:
    """Digit by digit if 10–11 digits; extra trailing groups (a second number) are left."""
    groups = _PHONE_SEPARATOR_RE.split(m[0])
    for count in range(len(groups), 0, -1):
        digits = "".join(groups[:count])
        if 10 <= len(digits) <= 11:
            rest = m[0][len(" ".join(groups[:count])) :]
            return _pad(m, digits_to_words(digits)) + rest
    return m[0]


def _read_intl_phone(m: re.Match[str]) -> str:
    return _pad(m, f"cộng {digits_to_words(m[0])}")


def _read_digits(m: re.Match[str]) -> str:
    return _pad(m, digits_to_words(m[0]))


def _read_emergency_list(m: re.Match[str]) -> str:
    return _pad(m, ", ".join(digits_to_words(n) for n in _DIGIT_RUN_RE.findall(m[0])))


def _read_emergency(m: re.Match[str]) -> str:
    return f"{m['ctx']}{m['sep']}{digits_to_words(m['num'])}"


def _read_hotline_list(m: re.Match[str]) -> str:
    nums = _DIGIT_RUN_RE.sub(_read_digits, m["nums"])
    return f"{m['ctx']}{m['sep']}{nums}"


# --- document references, house numbers, roads, unknown acronyms -----------------------------

# "58/KH-UBND", "100/2019/NĐ-CP", "05-CT/TW", "312/UBND-VP": a number, maybe a year, then a
# symbol of upper-case parts (types and issuers as Nghị định 30/2020/NĐ-CP lists them).
_DOCUMENT_RE = re.compile(
    r"(?<![\w/.,-])(?P<num>\d{1,6})(?:/(?P<year>(?:19|20)\d{2}))?"
    r"(?P<symbol>(?:[/-][A-ZĐ][A-Za-zĐđ0-9&]*)+)(?![\w/-])"
)
# The document word before the number ("số" or not), to say the type once: "Kế hoạch số 58/KH-…".
_DOCUMENT_WORD_RE = re.compile(r"(?P<word>[^\W\d_]+(?:\s+[^\W\d_]+)?)\s+(?:(?i:số)\s+)?$")
# "số nhà 45/12", "ngõ 12/3": a number on a number, read "trên" (never a date).
_HOUSE_RE = re.compile(
    r"(?<!\w)(?P<ctx>(?i:số\s+nhà|nhà\s+số|ngõ|ngách|hẻm|kiệt|kiốt|số))\s+"
    r"(?P<nums>\d{1,5}(?:/\d{1,5})+)(?P<tail>[A-Z]?)(?![\w/]|[.,]\d)"
)
# "QL21A", "QL 1A", "ĐT.491", "TL 62": national, provincial, district roads.
_ROAD_RE = re.compile(
    r"(?<![\w.])(?P<kind>QL|ĐT|TL|ĐH|ĐX|ĐL)\.?\s?(?P<num>\d{1,4})(?P<suffix>[A-Z]?)(?![\w])"
)
# An acronym still unknown: 2–7 capitals (Đ included) that cannot be one Vietnamese
# syllable shouted in a headline ("THI", "HOA" are words; "BCH", "LHPN" are not).
_ACRONYM_RE = re.compile(r"(?<![\w&/-])[A-ZĐ]{2,7}(?![\w&/-])")
_SYLLABLE_RE = re.compile(
    r"(?:NGH|NG|GH|GI|KH|NH|PH|QU|TH|TR|CH|[BCDĐGHKLMNPRSTVX])?[AEIOUY]{1,3}(?:NG|NH|CH|[CMNPT])?"
)
_ROMAN_LETTERS_RE = re.compile(r"[IVXLCDM]+")


def spell(letters: str) -> str:
    """Letters by their Vietnamese names: "BCH" → "bê xê hát"."""
    names = _documents()["letters"]
    return " ".join(names.get(c, c) for c in letters)


def _symbol_part(part: str) -> str:
    docs = _documents()
    return docs["types"].get(part) or docs["issuers"].get(part) or spell(part)


def _read_document(m: re.Match[str]) -> str:
    docs = _documents()
    parts = [p for p in re.split(r"[/-]", m["symbol"]) if p]
    if not any(p in docs["types"] or p in docs["issuers"] for p in parts):
        return m[0]  # "12/A-B": not a reference this table knows
    words = [number_to_words(int(m["num"]))]
    if m["year"]:
        words.append(f"năm {number_to_words(int(m['year']))}")
    said = _DOCUMENT_WORD_RE.search(m.string, 0, m.start())
    before = said["word"].lower() if said else ""
    types = [docs["types"][p] for p in parts if p in docs["types"]]
    others = [_symbol_part(p) for p in parts if p not in docs["types"]]
    words += [t for t in types if not before.endswith(t)]  # said once: "Kế hoạch số 58"
    if others:
        words.append("của " + ", ".join(others))
    return _pad(m, " ".join(words))


def _read_house(m: re.Match[str]) -> str:
    numbers = " trên ".join(number_to_words(int(n)) for n in m["nums"].split("/"))
    tail = f" {spell(m['tail'])}" if m["tail"] else ""
    return f"{m['ctx']} {numbers}{tail}"


def _read_road(m: re.Match[str]) -> str:
    kind = _documents()["roads"][m["kind"]]
    suffix = f" {spell(m['suffix'])}" if m["suffix"] else ""
    return _pad(m, f"{kind} {number_to_words(int(m['num']))}{suffix}")


def _read_acronym(m: re.Match[str]) -> str:
    token = m[0]
    if _SYLLABLE_RE.fullmatch(token) or _ROMAN_LETTERS_RE.fullmatch(token):
        return token  # a shouted word, or a Roman numeral the Roman rule did not claim
    return spell(token)


# --- Roman numerals and ordinals ------------------------------------------------------------

# Words after which an upper-case Roman numeral is a number ("khóa XIII", "thế kỷ XXI").
_ROMAN_CONTEXT = (
    r"khóa|khoá|quý|đại\s+hội|nhiệm\s+kỳ|kỳ|kì|chương|phần|mục|điều|tập|thế\s+kỷ|thế\s+kỉ"
    r"|lần\s+thứ|lần|thứ|hạng|giải|cấp|loại|giai\s+đoạn|vòng|quân\s+khu|khu\s+vực|phụ\s+lục"
    r"|hội\s+nghị\s+trung\s+ương|trung\s+ương|hội\s+nghị"
)
_ROMAN_IN_CONTEXT_RE = re.compile(
    rf"(?<!\w)(?P<ctx>(?i:{_ROMAN_CONTEXT}))\s+(?P<roman>[IVXLCDM]+)"
    r"(?:/(?P<year>\d{4}))?(?!\w)"  # "quý I/2024": the year of the quarter
)
_RANK_WORDS = ("hạng", "giải")
# "thứ 2", "lần thứ 3", "hạng 1", "giải 2", and "thứ 2-6" (Monday to Saturday).
_ORDINAL_RE = re.compile(
    r"(?<!\w)(?P<ctx>[Tt]hứ|[Hh]ạng|[Gg]iải)\s+(?P<n>\d{1,3})"
    r"(?:\s*[-–]\s*(?P<m>\d{1,3}))?(?!\w|[.,:/]\d)"
)


def _read_roman(m: re.Match[str]) -> str:
    """A numeral after a context word; single C, D, L, M are letters ("phần C"), not numbers."""
    roman, ctx = m["roman"], m["ctx"]
    value = roman_to_int(roman)
    if value is None or (len(roman) == 1 and roman not in "IVX"):
        return m[0]
    last = ctx.split()[-1].lower()
    if last == "thứ" or last in _RANK_WORDS:
        words = ordinal_to_words(value, rank=last in _RANK_WORDS)
    else:
        words = number_to_words(value)
    year = f" năm {number_to_words(int(m['year']))}" if m["year"] else ""
    return f"{ctx} {words}{year}"


def _read_ordinal(m: re.Match[str]) -> str:
    ctx = m["ctx"]
    rank = ctx.lower() in _RANK_WORDS
    words = f"{ctx} {ordinal_to_words(int(m['n']), rank)}"
    if m["m"]:
        words += f" đến {ctx.lower()} {ordinal_to_words(int(m['m']), rank)}"
    return words


# --- units ----------------------------------------------------------------------------------

_UNITS = {
    "km/h": "ki-lô-mét trên giờ",
    "km²": "ki-lô-mét vuông",
    "km2": "ki-lô-mét vuông",
    "km": "ki-lô-mét",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "cm": "xen-ti-mét",
    "mm": "mi-li-mét",
    "m": "mét",
    "ha": "héc-ta",
    "kg": "ki-lô-gam",
    "mg": "mi-li-gam",
    "ml": "mi-li-lít",
    "kWh": "ki-lô-oát giờ",
    "kW": "ki-lô-oát",
    "MW": "mê-ga-oát",
    "°C": "độ C",
    "oC": "độ C",
    "%": "phần trăm",
    "đ": "đồng",
    "VNĐ": "đồng",
    "VND": "đồng",
}
# Units that are words only after a number: "m", "đ", "oC" alone are letters.
_NUMBER_ONLY_UNITS = frozenset({"m", "đ", "oC", "%", "°C"})
_PER_UNITS = {**{k: v for k, v in _UNITS.items() if k not in _NUMBER_ONLY_UNITS}, "h": "giờ"}


def _alternation(words: Mapping[str, str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# A unit right after a number, with or without a space: "5km", "50.000đ", "25 %".
_UNIT_AFTER_NUMBER_RE = re.compile(rf"(?<=\d)\s?(?P<unit>{_alternation(_UNITS)})(?![\w²³])")
# "/" between a word and a unit reads "trên": "người/km²", "đồng/kg".
_PER_UNIT_RE = re.compile(rf"(?<=[^\W\d_])/(?P<unit>{_alternation(_PER_UNITS)})(?![\w²³])")
# "/" before a counted noun reads "mỗi": "50.000 đồng/người/tháng" → "đồng mỗi người mỗi tháng".
_PER_NOUN_RE = re.compile(
    r"(?<=[^\W\d_])/(?P<noun>ngày|tuần|tháng|năm|người|hộ|lượt|buổi|lần|suất|lớp|khóa)(?!\w)"
)
_STANDALONE_UNITS = {k: v for k, v in _UNITS.items() if k not in _NUMBER_ONLY_UNITS}
# Units that cannot be anything else, even without a number: "vài km", "giá đất/m2".
_STANDALONE_UNIT_RE = re.compile(rf"(?<![\w/])(?:{_alternation(_STANDALONE_UNITS)})(?![\w²³])")


def _read_unit_after_number(m: re.Match[str]) -> str:
    return _pad(m, f" {_UNITS[m['unit']]}")


def _read_per_unit(m: re.Match[str]) -> str:
    return _pad(m, f" trên {_PER_UNITS[m['unit']]}")


def _read_per_noun(m: re.Match[str]) -> str:
    return _pad(m, f" mỗi {m['noun']}")


def _read_standalone_unit(m: re.Match[str]) -> str:
    return _pad(m, _STANDALONE_UNITS[m[0]])


# --- dates, times, ranges -------------------------------------------------------------------

_DAY = r"(?:3[01]|[12]\d|0?[1-9])"
_MONTH = r"(?:1[0-2]|0?[1-9])"
_DMY = rf"{_DAY}(?:/{_MONTH}/|-{_MONTH}-|\.{_MONTH}\.)\d{{4}}"  # 21/4/2024, 21-4-2024
_MY = rf"{_MONTH}/\d{{4}}"  # 4/2024
_DM = rf"{_DAY}/{_MONTH}"  # 21/4
_TIME = r"\d{1,2}(?:[hH](?:\d{2}'?)?|:\d{2}(?::\d{2})?)"  # 17h, 17h30, 6h30', 05:30
_NUM = r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"  # 1.500, 12,75
_ATOM = rf"(?:{_DMY}|{_MY}|{_DM}|{_TIME}|{_NUM})"

_DMY_PARTS = re.compile(r"(\d+)[/.-](\d+)[/.-](\d{4})")
_MY_PARTS = re.compile(r"(\d+)/(\d{4})")
_DM_PARTS = re.compile(r"(\d+)[/-](\d+)")
_TIME_PARTS = re.compile(r"(\d{1,2})(?:[hH](?:(\d{2})'?)?|:(\d{2})(?::(\d{2}))?)")

# Two dates, times or numbers joined by a dash: "2023–2030", "15/4–1/5", "7h-11h", "7-10".
_RANGE_RE = re.compile(
    rf"(?<![\w.,:/-])(?P<a>{_ATOM})(?P<sep>\s*[–—]\s*|-|\s+-\s+)(?P<b>{_ATOM})"
    r"(?!\w|[.,:/-]?\d)"
)
# A single date; not followed by "/" (document numbers such as 06/2022/NQ-HĐND).
_DATE_RE = re.compile(rf"(?<![\w.,:/-])(?:{_DMY}|{_MY}|{_DM})(?![\w/]|[.,:-]?\d)")
# "tháng 4" → "tháng tư"; not "3 tháng 4 ngày" (a duration).
_MONTH_NAME_RE = re.compile(r"(?<!\w)(?P<ctx>[Tt]háng)\s+(?P<m>1[0-2]|0?[1-9])(?!\w|[.,:/-]?\d)")
_TIME_RE = re.compile(rf"(?<![\w.,:/])(?:{_TIME})(?!\w|[.,:]?\d)")


def _read_date(text: str, after_thang: bool = False) -> str | None:
    """A date as words, or None if ``text`` is no valid date (32/1, 4/13…)."""
    if m := _DMY_PARTS.fullmatch(text):
        day, month, year = (int(g) for g in m.groups())
        if 1 <= day <= 31 and 1 <= month <= 12:
            return f"{_day_month(day, month)} năm {number_to_words(year)}"
    elif m := _MY_PARTS.fullmatch(text):
        month, year = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            prefix = "" if after_thang else "tháng "
            return f"{prefix}{month_to_words(month)} năm {number_to_words(year)}"
    elif m := _DM_PARTS.fullmatch(text):
        day, month = int(m[1]), int(m[2])
        if 1 <= day <= 31 and 1 <= month <= 12:
            return _day_month(day, month)
    return None


def _day_month(day: int, month: int) -> str:
    return f"{number_to_words(day)} tháng {month_to_words(month)}"


def _read_time(text: str) -> str | None:
    """17h30 / 05:30 → "… giờ … phút"; None if the hour or minutes are out of range."""
    m = _TIME_PARTS.fullmatch(text)
    if m is None:
        return None
    hour, minute, second = int(m[1]), int(m[2] or m[3] or 0), int(m[4] or 0)
    if hour > 24 or minute > 59 or second > 59:
        return None
    words = f"{number_to_words(hour)} giờ"
    if minute:
        words += f" {number_to_words(minute)} phút"
    if second:
        words += f" {number_to_words(second)} giây"
    return words


def _read_atom(text: str) -> str | None:
    return _read_date(text) or _read_time(text) or _number_words(text)


def _read_range(m: re.Match[str]) -> str:
    """Read "a–b" as "a đến b"; after "ngày", "21-4" is a date; after "tháng", months are named."""
    a, b = m["a"], m["b"]
    if m["sep"] == "-" and _after(m, _AFTER_NGAY) and (date := _read_date(f"{a}/{b}")):
        return date
    if _after(m, _AFTER_THANG) and a.isdigit() and b.isdigit() and 0 < int(a) < int(b) <= 12:
        return f"{month_to_words(int(a))} đến tháng {month_to_words(int(b))}"
    first, second = _read_atom(a), _read_atom(b)
    if first is None or second is None:
        return m[0]
    return _pad(m, f"{first} đến {second}")


def _read_single_date(m: re.Match[str]) -> str:
    if _after(m, _AFTER_SO):  # "số 12/3": a house or document number, not a date
        return m[0]
    if _is_ratio(m) and (ratio := _DM_PARTS.fullmatch(m[0])):
        return _pad(m, f"{number_to_words(int(ratio[1]))} trên {number_to_words(int(ratio[2]))}")
    if _after(m, _AFTER_QUY) and (quarter := _MY_PARTS.fullmatch(m[0])):
        return f"{number_to_words(int(quarter[1]))} năm {number_to_words(int(quarter[2]))}"
    words = _read_date(m[0], after_thang=_after(m, _AFTER_THANG))
    return m[0] if words is None else _pad(m, words)


def _is_ratio(m: re.Match[str]) -> bool:
    """ "12/12 thôn", "tỷ lệ 3/4": a count or share, read "… trên …"."""
    if _after(m, _AFTER_NGAY):  # "ngày 12/12 thôn…" is still a date
        return False
    return _after(m, _AFTER_RATIO_WORD) or _COUNTED_NOUN_RE.match(m.string, m.end()) is not None


def _read_month_name(m: re.Match[str]) -> str:
    if _after(m, _AFTER_NUMBER):
        return m[0]
    return f"{m['ctx']} {month_to_words(int(m['m']))}"


def _read_single_time(m: re.Match[str]) -> str:
    words = _read_time(m[0])
    return m[0] if words is None else _pad(m, words)


# --- plain numbers and symbols --------------------------------------------------------------

_NUMBER_RE = re.compile(
    r"""(?P<sign>(?<![^\s(\[])[-−])?   # a minus only where a word starts: "-5 độ C"
    (?P<int>\d{1,3}(?:\.\d{3})+(?!\d)  # 1.000.000: dots group thousands
      |\d+)
    (?:,(?P<frac>\d+)                  # 5,3: the comma is the decimal mark
      |\.(?P<dot>\d+)(?!\d))?          # 4.0: a dot not grouping thousands reads "chấm"
    """,
    re.VERBOSE,
)
_MAX_READ_DIGITS = 15  # longer runs are identifiers, spelled digit by digit


def _number_words(text: str) -> str | None:
    m = _NUMBER_RE.fullmatch(text)
    return None if m is None else _read_number(m)


def _read_plain_number(m: re.Match[str]) -> str:
    return _pad(m, _read_number(m))


def _read_number(m: re.Match[str]) -> str:
    digits = m["int"].replace(".", "")
    is_code = (digits.startswith("0") and len(digits) >= 3) or len(digits) > _MAX_READ_DIGITS
    words = digits_to_words(digits) if is_code else number_to_words(int(digits))
    if m["frac"]:
        words += f" phẩy {_fraction_words(m['frac'])}"
    elif m["dot"]:
        words += f" chấm {_fraction_words(m['dot'])}"
    return f"âm {words}" if m["sign"] else words


def _fraction_words(digits: str) -> str:
    """Decimals after "phẩy": leading zeros one by one, then a short tail as a number."""
    tail = digits.lstrip("0")
    words = ["không"] * (len(digits) - len(tail))
    if tail:
        words.append(number_to_words(int(tail)) if len(tail) <= 3 else digits_to_words(tail))
    return " ".join(words)


_SYMBOLS = {"&": "và", "+": "cộng", "=": "bằng", "%": "phần trăm", "°": "độ"}
_SYMBOL_RE = re.compile(r"[&+=%°]")


def _read_symbol(m: re.Match[str]) -> str:
    return f" {_SYMBOLS[m[0]]} "


_SPACES_RE = re.compile(r"[^\S\n]+")  # whitespace other than line breaks
_BREAKS_RE = re.compile(r"\s*\n\s*")  # a line break with the space around it


# --- the pipeline ---------------------------------------------------------------------------

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
# Forms whose digits and dots must not reach the abbreviation or number rules.
_EARLY_RULES: tuple[_Rule, ...] = (
    (_EMAIL_RE, _read_address),
    (_URL_RE, _read_address),
    (_INTL_PHONE_RE, _read_intl_phone),
    (_PHONE_RE, _read_phone),
    (_HOTLINE_RE, _read_digits),
    (_EMERGENCY_LIST_RE, _read_emergency_list),  # before "gọi 113" takes the first alone
    (_HOTLINE_CONTEXT_RE, _read_hotline_list),
    (_EMERGENCY_CONTEXT_RE, _read_emergency),
    (_DOCUMENT_RE, _read_document),  # before abbreviations: "KH-UBND" is one symbol
    (_ROAD_RE, _read_road),
    (_HOUSE_RE, _read_house),
)
# After the abbreviations, from the most specific form to plain numbers and symbols.
_RULES: tuple[_Rule, ...] = (
    (_ROMAN_IN_CONTEXT_RE, _read_roman),
    (_ORDINAL_RE, _read_ordinal),
    (_UNIT_AFTER_NUMBER_RE, _read_unit_after_number),  # before ranges: "5-10 m"
    (_PER_UNIT_RE, _read_per_unit),
    (_PER_NOUN_RE, _read_per_noun),
    (_STANDALONE_UNIT_RE, _read_standalone_unit),
    (_RANGE_RE, _read_range),  # before dates and times, which it reads itself
    (_DATE_RE, _read_single_date),
    (_MONTH_NAME_RE, _read_month_name),
    (_TIME_RE, _read_single_time),
    (_NUMBER_RE, _read_plain_number),
    (_SYMBOL_RE, _read_symbol),
    (_ACRONYM_RE, _read_acronym),  # last: whatever capitals are still left are spelled
)


def _apply(rules: tuple[_Rule, ...], text: str) -> str:
    for pattern, reader in rules:
        text = pattern.sub(reader, text)
    return text


def normalize(text: str, abbreviations: Mapping[str, str] | None = None) -> str:
    """What the voice should say for ``text``: same sentences and punctuation, all words.

    ``abbreviations`` defaults to the bundled dictionary (:func:`load_abbreviations`).
    """
    table = _bundled_abbreviations() if abbreviations is None else abbreviations
    table = {_nfc(k): v for k, v in table.items()}
    text = _apply(_EARLY_RULES, _tidy(_nfc(text)))
    text = _expand_abbreviations(text, table)
    return _tidy(_apply(_RULES, text))


def _tidy(text: str) -> str:
    """One space between words, one line break between paragraphs, no edges."""
    return _BREAKS_RE.sub("\n", _SPACES_RE.sub(" ", text)).strip()

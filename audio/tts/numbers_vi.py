"""Vietnamese numbers as words, the way a northern announcer reads them.

The building blocks of :mod:`audio.tts.normalize_vi`, kept apart because they are plain
integer → text functions with no regex context: cardinals (:func:`number_to_words`),
digit-by-digit spelling for phone numbers and codes (:func:`digits_to_words`), the word
after "thứ" / "hạng" (:func:`ordinal_to_words`), month names (:func:`month_to_words`) and
Roman numerals (:func:`roman_to_int`). The reading conventions ("nghìn", "linh", "mốt",
"tư", "lăm", "không trăm" after a higher group) are listed in that module's docstring.
"""

from __future__ import annotations

import re

__all__ = [
    "digits_to_words",
    "month_to_words",
    "number_to_words",
    "ordinal_to_words",
    "roman_to_int",
]

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_MONTHS = ("", "một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười")
_BILLION = 1_000_000_000


def number_to_words(n: int) -> str:
    """Read an integer the northern way: 21 → "hai mươi mốt", 105 → "một trăm linh năm"."""
    if n < 0:
        return f"âm {number_to_words(-n)}"
    if n == 0:
        return "không"
    billions, rest = divmod(n, _BILLION)
    parts = [f"{number_to_words(billions)} tỷ"] if billions else []
    if rest:
        parts.append(_below_billion(rest, padded=bool(billions)))
    return " ".join(parts)


def _below_billion(n: int, padded: bool) -> str:
    """Millions, thousands, units; a group after a non-zero higher group says "không trăm"."""
    parts: list[str] = []
    for value, scale in ((n // 1_000_000, " triệu"), (n // 1000 % 1000, " nghìn"), (n % 1000, "")):
        if value:
            parts.append(_below_thousand(value, padded or bool(parts)) + scale)
    return " ".join(parts)


def _below_thousand(n: int, padded: bool) -> str:
    hundreds, rest = divmod(n, 100)
    words = [_DIGITS[hundreds], "trăm"] if hundreds or padded else []
    if rest and rest < 10 and words:
        words += ["linh", _DIGITS[rest]]
    elif rest:
        words.append(_below_hundred(rest))
    return " ".join(words)


def _below_hundred(n: int) -> str:
    tens, unit = divmod(n, 10)
    if tens == 0:
        return _DIGITS[unit]
    head = "mười" if tens == 1 else f"{_DIGITS[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        return f"{head} lăm"
    if tens > 1 and unit in (1, 4):
        return f"{head} {'mốt' if unit == 1 else 'tư'}"
    return f"{head} {_DIGITS[unit]}"


def digits_to_words(digits: str) -> str:
    """Spell every digit (phone numbers, codes): "0912" → "không chín một hai"."""
    return " ".join(_DIGITS[int(c)] for c in digits if c.isdigit())


def ordinal_to_words(n: int, rank: bool = False) -> str:
    """The word after "thứ" (1 → "nhất", 4 → "tư"); ``rank`` ("hạng", "giải") also 2 → "nhì"."""
    special = {1: "nhất", 4: "tư"} | ({2: "nhì"} if rank else {})
    return special.get(n) or number_to_words(n)


def month_to_words(month: int) -> str:
    """The word after "tháng": 1 → "một", 4 → "tư", 12 → "mười hai"."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1–12, not {month}")
    return _MONTHS[month] if month <= 10 else f"mười {_DIGITS[month - 10]}"


# A well-formed Roman numeral up to 3999 ("IIII" or "VX" are not numerals but words).
_ROMAN_RE = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(numeral: str) -> int | None:
    """The value of an upper-case Roman numeral, or None when it is not one."""
    if not numeral or not _ROMAN_RE.fullmatch(numeral):
        return None
    values = [_ROMAN_VALUES[c] for c in numeral]
    return sum(-v if v < nxt else v for v, nxt in zip(values, [*values[1:], 0], strict=True))

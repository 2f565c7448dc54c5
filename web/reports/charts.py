"""Charts drawn on the server as SVG (no script, no CDN): they print as they show.

A rate is a share (0–1) or None when nothing was planned; a bar for None is left out and its
label says "—". Colours follow the panel's tones: under half is bad, under 90 % a warning."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR_H, GAP, LABEL_W, WIDTH = 18, 6, 190, 560


def tone(rate: float | None) -> str:
    if rate is None:
        return "muted"
    return "ok" if rate >= 0.9 else "warn" if rate >= 0.5 else "bad"


def bars(items: Sequence[tuple[str, float | None]], title: str) -> Markup:
    """Horizontal bars, one per (label, rate), with the percentage written at the end."""
    height = max(1, len(items)) * (BAR_H + GAP) + GAP
    span = WIDTH - LABEL_W - 60
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    for n, (label, rate) in enumerate(items):
        y = GAP + n * (BAR_H + GAP)
        text_y = y + BAR_H - 5
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{text_y}" text-anchor="end">{escape(label)}</text>'
        )
        if rate is not None:
            w = round(span * max(0.0, min(rate, 1.0)), 1)
            parts.append(
                f'<rect class="{tone(rate)}" x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}"/>'
            )
        shown = f"{rate * 100:.1f}%" if rate is not None else "—"
        x = LABEL_W + (span * min(rate, 1.0) if rate is not None else 0) + 6
        parts.append(f'<text x="{x:.1f}" y="{text_y}">{shown}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(items: Sequence[tuple[str, float | None]], title: str) -> Markup:
    """Vertical columns, one per (label, rate): the days of a period."""
    count = max(1, len(items))
    step = max(14, min(48, 520 // count))
    chart_h, base = 140, 160
    width = 52 + count * step
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} 190" width="{width}" '
        f'height="190" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<line x1="48" y1="{base}" x2="{width}" y2="{base}" class="axis"/>'
        f'<text x="44" y="{base - chart_h + 4}" text-anchor="end">100%</text>'
        f'<text x="44" y="{base}" text-anchor="end">0</text>'
    ]
    for n, (label, rate) in enumerate(items):
        x = 52 + n * step
        if rate is not None:
            h = round(chart_h * max(0.0, min(rate, 1.0)), 1)
            parts.append(
                f'<rect class="{tone(rate)}" x="{x}" y="{base - h}" '
                f'width="{step - 4}" height="{h}"><title>{escape(label)}: '
                f"{rate * 100:.1f}%</title></rect>"
            )
        if count <= 16 or n % max(1, count // 10) == 0:
            parts.append(
                f'<text x="{x + (step - 4) / 2}" y="{base + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))

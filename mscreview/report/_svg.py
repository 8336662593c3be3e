"""Small helpers shared by the SVG figures: escaping, text measurement and wrapping.

Figures are built as strings so that the report needs no plotting library and the SVG
is byte-for-byte reproducible. Every piece of text goes through :func:`esc`.
"""

from __future__ import annotations

import math
import re

from markupsafe import escape

__all__ = ["FONT", "Svg", "esc", "text_of", "text_width", "wrap"]

#: RevMan draws its plots in Arial; fall back to metric-compatible faces.
FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"

_NARROW = set("iljtfI.,;:'|!()[] -/")
_WIDE = set("mwMW@%")


_SPECIAL = re.compile(r"[&<>\"']")


def esc(value: object) -> str:
    """Escape ``value`` for SVG/HTML text or attribute content."""
    text = "" if value is None else str(value)
    if _SPECIAL.search(text) is None:  # nothing to escape (most labels and every number)
        return text
    return str(escape(text))


def text_of(*values: object, fallback: str = "\u2014") -> str:
    """The first of ``values`` worth printing (a non-empty string or a finite number), as text.

    A missing label shows as ``fallback``, never as Python's ``None`` or ``nan``.
    """
    for value in values:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return f"{value:g}"
    return fallback


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimate the rendered width of ``text`` in Arial at ``size`` px."""
    total = 0.0
    for char in text:
        if char in _NARROW:
            total += 0.28
        elif char in _WIDE:
            total += 0.86
        elif char.isupper():
            total += 0.68
        else:
            total += 0.56
    return total * size * (1.07 if bold else 1.0)


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` px (words longer are kept whole)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        current = ""
        for word in re.split(r"\s+", paragraph.strip()):
            candidate = f"{current} {word}".strip()
            if current and text_width(candidate, size, bold) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines


def slug(value: object) -> str:
    """Return an id-safe version of ``value``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(value)).strip("-") or "x"


class Svg:
    """Accumulate SVG elements and emit a self-describing ``<svg role="img">`` string."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, markup: str) -> None:
        """Append raw, already escaped markup."""
        self.parts.append(markup)

    def text(
        self,
        x: float,
        y: float,
        content: object,
        size: float = 12,
        anchor: str = "start",
        weight: str | None = None,
        fill: str | None = None,
        cls: str | None = None,
        italic: bool = False,
        extra: str = "",
    ) -> None:
        """Add a text element (``content`` is escaped)."""
        attrs = f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if weight:
            attrs += f' font-weight="{weight}"'
        if italic:
            attrs += ' font-style="italic"'
        if fill:
            attrs += f' fill="{fill}"'
        if cls:
            attrs += f' class="{cls}"'
        if extra:
            attrs += " " + extra
        self.parts.append(f"{attrs}>{esc(content)}</text>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#000",
             width: float = 1, extra: str = "") -> None:
        """Add a line."""
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}" stroke-width="{width:g}"{" " + extra if extra else ""}/>'
        )

    def rect(self, x: float, y: float, w: float, h: float, fill: str = "none",
             stroke: str | None = None, extra: str = "") -> None:
        """Add a rectangle."""
        stroke_attr = f' stroke="{stroke}"' if stroke else ""
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'fill="{fill}"{stroke_attr}{" " + extra if extra else ""}/>'
        )

    def polygon(self, points: list[tuple[float, float]], fill: str = "#000",
                extra: str = "") -> None:
        """Add a polygon."""
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.parts.append(f'<polygon points="{pts}" fill="{fill}"{" " + extra if extra else ""}/>')

    def render(self, width: float, height: float, title: str, desc: str, id_prefix: str,
               css_class: str, inline: bool = True, min_width: float | None = None,
               max_scale: float = 1.0) -> str:
        """Return the finished ``<svg>`` with ``role="img"``, ``<title>`` and ``<desc>``."""
        tid, did = f"{id_prefix}-title", f"{id_prefix}-desc"
        if inline:
            style = f"max-width:{width * max_scale:.0f}px"
            if min_width:
                style += f";min-width:{min(min_width, width * max_scale):.0f}px"
            size = f'width="100%" style="{style}"'
        else:
            size = f'width="{width:.0f}" height="{height:.0f}"'
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'{size} role="img" aria-labelledby="{tid} {did}" class="{css_class}" '
            f'font-family="{FONT}">'
            f'<title id="{tid}">{esc(title)}</title><desc id="{did}">{esc(desc)}</desc>'
        )
        return head + "".join(self.parts) + "</svg>"

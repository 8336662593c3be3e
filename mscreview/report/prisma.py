"""PRISMA 2020 flow diagram as inline SVG.

With more than one search round (or studies from a previous version) the diagram follows the
PRISMA 2020 template for *updated* reviews: a "Previous studies" column feeding the total,
beside the identification of new studies for the latest round. Counts come from
``context["prisma"]``; the only arithmetic here is adding up exclusion reasons for a box.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._format import fmt_count, is_number
from ._svg import Svg, text_of, wrap

__all__ = ["latest_round", "prisma_svg"]

FS = 12.0
LINE = 15.0
INK = "#1a1a1a"
BOX_FILL = "#ffffff"
HEAD_NEW = "#f4dfa0"
HEAD_PREV = "#dcdcdc"
PHASE = "#c9dcef"


def latest_round(prisma: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the last search round (the one whose new studies the diagram shows)."""
    rounds = list(prisma.get("rounds") or [])
    return rounds[-1] if rounds else None


def _n(value: Any) -> str:
    return f"(n = {fmt_count(value)})" if is_number(value) else "(n = not reported)"


def _sum(mapping: Any) -> Any:
    if not isinstance(mapping, Mapping):
        return None
    values = [v for v in mapping.values() if is_number(v)]
    return sum(values) if values else None


class _Diagram:
    def __init__(self) -> None:
        self.svg = Svg()

    def box(self, x: float, y: float, w: float, lines: list[tuple[str, bool]],
            min_h: float = 0) -> float:
        """Draw a box with ``(text, bold)`` lines wrapped to ``w``; return its height."""
        wrapped: list[tuple[str, bool]] = []
        for text, bold in lines:
            wrapped.extend((part, bold) for part in wrap(text, w - 18, FS, bold))
        h = max(min_h, 14 + LINE * len(wrapped))
        self.svg.rect(x, y, w, h, fill=BOX_FILL, stroke=INK, extra='class="prisma-box"')
        for i, (text, bold) in enumerate(wrapped):
            self.svg.text(x + 9, y + 7 + LINE * (i + 0.8), text, size=FS,
                          weight="bold" if bold else None)
        return h

    @staticmethod
    def height(w: float, lines: list[tuple[str, bool]]) -> float:
        count = sum(len(wrap(text, w - 18, FS, bold)) for text, bold in lines)
        return 14 + LINE * count

    def arrow(self, points: list[tuple[float, float]]) -> None:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.svg.add(f'<polyline points="{pts}" fill="none" stroke="{INK}" stroke-width="1.3"/>')
        (x1, y1), (x2, y2) = points[-2], points[-1]
        if x1 == x2:
            d = 1 if y2 > y1 else -1
            tri = [(x2, y2), (x2 - 5, y2 - 9 * d), (x2 + 5, y2 - 9 * d)]
        else:
            d = 1 if x2 > x1 else -1
            tri = [(x2, y2), (x2 - 9 * d, y2 - 5), (x2 - 9 * d, y2 + 5)]
        self.svg.polygon(tri, fill=INK)

    def band(self, x: float, y: float, w: float, h: float, text: str, fill: str) -> None:
        self.svg.rect(x, y, w, h, fill=fill, extra='rx="4"')
        self.svg.text(x + w / 2, y + h / 2 + 4.5, text, size=FS + 1, anchor="middle",
                      weight="bold")

    def phase(self, x: float, y: float, h: float, text: str) -> None:
        self.svg.rect(x, y, 26, h, fill=PHASE, extra='rx="4"')
        cx, cy = x + 13, y + h / 2
        self.svg.text(cx, cy + 4.5, text, size=FS + 0.5, anchor="middle", weight="bold",
                      extra=f'transform="rotate(-90 {cx:.1f} {cy:.1f})"')


def prisma_svg(prisma: Mapping[str, Any], inline: bool = True) -> str:
    """Return the PRISMA 2020 flow diagram for the latest search round."""
    rnd = latest_round(prisma) or {}
    rounds = list(prisma.get("rounds") or [])
    previous = prisma.get("included_previous")
    updated = len(rounds) > 1 or (is_number(previous) and float(previous) > 0)
    d = _Diagram()
    width = 960.0
    gap = 30.0
    if updated:
        prev_x, prev_w = 46.0, 190.0
        main_x, main_w = 266.0, 330.0
    else:
        prev_x, prev_w = 0.0, 0.0
        main_x, main_w = 56.0, 420.0
    side_x = main_x + main_w + 40
    side_w = width - 10 - side_x

    identified = rnd.get("identified") or {}
    detail = rnd.get("identified_detail") or {}
    r1_main = [("Records identified from:", True)]
    for kind, n in identified.items():
        named = detail.get(kind) or {}
        if len(named) == 1 and next(iter(named.values())) == n:  # one line, not kind then name
            r1_main.append((f"{next(iter(named))} {_n(n)}", False))
            continue
        r1_main.append((f"{kind} {_n(n)}", False))
        if named:
            r1_main.append(("\u2003" + "; ".join(f"{name} {fmt_count(c)}"
                                                 for name, c in named.items()), False))
    if not identified:
        r1_main.append(("(no sources listed)", False))
    r1_side = [("Records removed before screening:", True),
               (f"Duplicate records removed {_n(rnd.get('duplicates_removed'))}", False)]
    scr_reasons = rnd.get("excluded_screening") or {}
    r2_main = [(f"Records screened {_n(rnd.get('screened'))}", False)]
    r2_side = [(f"Records excluded {_n(_sum(scr_reasons))}", False)]
    if len(scr_reasons) > 1:
        r2_side += [(f"{reason} {_n(n)}", False) for reason, n in scr_reasons.items()]
    sought_rows = []
    if "sought" in rnd or "not_retrieved" in rnd:
        sought_rows = [([(f"Reports sought for retrieval {_n(rnd.get('sought'))}", False)],
                        [(f"Reports not retrieved {_n(rnd.get('not_retrieved'))}", False)])]
    ft_reasons = rnd.get("excluded_full_text") or {}
    r3_main = [(f"Reports assessed for eligibility {_n(rnd.get('assessed'))}", False)]
    r3_side = [(f"Reports excluded {_n(_sum(ft_reasons))}:", False)] + [
        (f"{reason} {_n(n)}", False) for reason, n in ft_reasons.items()]
    new_label = "New studies included in review" if updated else "Studies included in review"
    r4_main = [(f"{new_label} {_n(rnd.get('included_new'))}", True)]
    if rnd.get("reports_included") is not None:
        reports_label = "Reports of new included studies" if updated else "Reports of included studies"
        r4_main.append((f"{reports_label} {_n(rnd.get('reports_included'))}", False))
    r4_side = ([(f"Ongoing studies, awaiting results {_n(rnd.get('awaiting'))}", False)]
               if rnd.get("awaiting") else None)
    r5_main = [(f"Total studies included in review {_n(prisma.get('included_total'))}", True)]

    rows: list[tuple[str, list[tuple[str, bool]], list[tuple[str, bool]] | None]] = [
        ("id", r1_main, r1_side), ("scr", r2_main, r2_side)]
    rows += [("scr", m, s) for m, s in sought_rows]
    rows += [("scr", r3_main, r3_side), ("inc", r4_main, r4_side)]
    if updated:
        rows.append(("inc", r5_main, None))

    y = 10.0
    round_name = text_of(rnd.get("round"), fallback="")
    other_methods = set(identified) - {"Bibliographic databases", "Trial registries"}
    new_head = "Identification of new studies via databases and registers" + (
        " and other methods" if other_methods else "")
    if updated and round_name:
        new_head += f" (search round {round_name})"
    d.band(main_x, y, width - 10 - main_x, 30, new_head, HEAD_NEW)
    if updated:
        d.band(prev_x, y, prev_w, 30, "Previous studies", HEAD_PREV)
    y += 30 + 22
    positions = []
    for index, (_phase, main, side) in enumerate(rows):
        h = max(d.height(main_w, main), d.height(side_w, side) if side else 0)
        if index == 0:  # the "Identification" band needs room for its rotated label
            h = max(h, 112.0)
        positions.append((y, h))
        y += h + gap
    bottom = y - gap
    # phase bands
    spans: dict[str, list[float]] = {}
    for (phase, _m, _s), (py, ph) in zip(rows, positions, strict=True):
        lo, hi = spans.get(phase, [py, py + ph])
        spans[phase] = [min(lo, py), max(hi, py + ph)]
    names = {"id": "Identification", "scr": "Screening", "inc": "Included"}
    for key, (lo, hi) in spans.items():
        d.phase(10, lo, hi - lo, names[key])
    # boxes and arrows
    prev_total_y = None
    for i, ((_phase, main, side), (py, ph)) in enumerate(zip(rows, positions, strict=True)):
        mh = d.box(main_x, py, main_w, main, min_h=ph if side else 0)
        if side:
            d.box(side_x, py, side_w, side, min_h=ph)
            if side is not r4_side:  # ongoing studies sit beside the included ones: no flow
                d.arrow([(main_x + main_w, py + mh / 2), (side_x, py + mh / 2)])
        if i + 1 < len(rows):
            d.arrow([(main_x + main_w / 2, py + mh), (main_x + main_w / 2, positions[i + 1][0])])
        prev_total_y = py + mh / 2
    if updated:
        py0, _ = positions[0]
        prev_lines = [(f"Studies included in previous version of review {_n(previous)}", False)]
        ph0 = d.box(prev_x, py0, prev_w, prev_lines)
        assert prev_total_y is not None
        d.arrow([(prev_x + prev_w / 2, py0 + ph0), (prev_x + prev_w / 2, prev_total_y),
                 (main_x, prev_total_y)])
    height = bottom + 12
    desc_bits = ["Records identified: " + ", ".join(f"{db} {fmt_count(n)}"
                                                      for db, n in identified.items()),
                 f"duplicates removed {fmt_count(rnd.get('duplicates_removed'))}",
                 f"records screened {fmt_count(rnd.get('screened'))}",
                 f"records excluded {fmt_count(_sum(scr_reasons))}",
                 f"reports assessed {fmt_count(rnd.get('assessed'))}",
                 f"reports excluded {fmt_count(_sum(ft_reasons))}",
                 f"new studies included {fmt_count(rnd.get('included_new'))}"]
    if rnd.get("reports_included") is not None:
        desc_bits.append(f"reports of new included studies {fmt_count(rnd['reports_included'])}")
    if rnd.get("awaiting"):
        desc_bits.append(f"ongoing studies awaiting results {fmt_count(rnd['awaiting'])}")
    if updated:
        desc_bits += [f"studies from previous version {fmt_count(previous)}",
                      f"total studies included {fmt_count(prisma.get('included_total'))}"]
    desc = "PRISMA 2020 flow of records for the latest search round. " + "; ".join(
        desc_bits) + "."
    title = "PRISMA 2020 flow diagram" + (" (updated review)" if updated else "")
    return d.svg.render(width, height, title, desc, "prisma-svg", "prisma-svg", inline,
                        min_width=620)

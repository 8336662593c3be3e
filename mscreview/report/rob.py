"""Risk-of-bias figures after robvis: the traffic-light plot and the summary bar chart.

Judgements carry both a colour and a symbol so that the plot survives greyscale printing
and colour blindness; a second, colour-blind-safe palette (robvis's ``colourblind``) is
available through the ``palette`` argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._svg import Svg, slug, text_of, text_width, wrap

__all__ = ["JUDGEMENTS", "PALETTES", "normalise_judgement", "rob_summary_svg",
           "rob_traffic_light_svg"]

#: Ordered judgement levels: key, legend label, symbol.
JUDGEMENTS: list[tuple[str, str, str]] = [
    ("low", "Low risk of bias", "+"),
    ("unclear", "Unclear risk / some concerns", "\u2212"),
    ("high", "High risk of bias", "\u00d7"),
    ("none", "No information", "?"),
    ("not_assessed", "Not assessed", "\u00b7"),
]

#: Fill colours per palette. ``cochrane`` is the Cochrane/robvis default; ``colourblind``
#: is robvis's colour-blind-safe sequential palette (McGuinness & Higgins 2021).
PALETTES: dict[str, dict[str, str]] = {
    "cochrane": {"low": "#02C100", "unclear": "#E2DF07", "high": "#BF0000", "none": "#4EA1F7",
                 "not_assessed": "#E6E6E6"},
    "colourblind": {"low": "#FED98E", "unclear": "#FE9929", "high": "#D95F0E", "none": "#FFFFFF",
                    "not_assessed": "#E6E6E6"},
}

#: Symbol ink per palette and judgement (dark on light fills, white on dark fills).
_SYMBOL_INK: dict[str, dict[str, str]] = {
    "cochrane": {"low": "#000", "unclear": "#000", "high": "#fff", "none": "#000",
                 "not_assessed": "#000"},
    "colourblind": {"low": "#000", "unclear": "#000", "high": "#000", "none": "#000",
                    "not_assessed": "#000"},
}

_ALIASES = {
    "low": "low", "low risk": "low", "+": "low",
    "unclear": "unclear", "some concerns": "unclear", "some_concerns": "unclear",
    "moderate": "unclear", "-": "unclear",
    "high": "high", "high risk": "high", "serious": "high", "critical": "high", "x": "high",
    "no information": "none", "no_information": "none", "ni": "none", "none": "none", "?": "none",
    "not assessed": "not_assessed", "not_assessed": "not_assessed",
}

FS = 12.0


def normalise_judgement(value: Any) -> str:
    """Map a judgement to ``low``/``unclear``/``high``/``none``/``not_assessed``.

    A missing judgement (None, empty, or a word we do not know) is ``not_assessed``: missing is
    never low, and never robvis's "No information", which is a judgement somebody made.
    """
    if value is None:
        return "not_assessed"
    return _ALIASES.get(str(value).strip().lower(), "not_assessed")


def _palette(name: str) -> tuple[dict[str, str], dict[str, str]]:
    if name not in PALETTES:
        raise ValueError(f"unknown palette {name!r}; choose from {sorted(PALETTES)}")
    return PALETTES[name], _SYMBOL_INK[name]


def _legend(svg: Svg, x: float, y: float, fills: Mapping[str, str],
            ink: Mapping[str, str], max_width: float, shown: set[str]) -> float:
    """Draw the legend of the judgements in ``shown`` (the four robvis levels always) at (x, y).

    Returns the y below it.
    """
    shown = shown | {"low", "unclear", "high", "none"}
    svg.text(x, y, "Judgement", size=FS, weight="bold")
    cx = x + text_width("Judgement", FS, True) + 16
    row_y = y
    for key, label, symbol in JUDGEMENTS:
        if key not in shown:
            continue
        item_w = 22 + text_width(label, FS) + 18
        if cx + item_w > x + max_width:
            cx = x + text_width("Judgement", FS, True) + 16
            row_y += 22
        _dot(svg, cx + 8, row_y - 4, 8, fills[key], ink[key], symbol)
        svg.text(cx + 21, row_y, label, size=FS)
        cx += item_w
    return row_y + 16


def _dot(svg: Svg, cx: float, cy: float, r: float, fill: str, ink: str, symbol: str,
         cls: str = "") -> None:
    extra = f' class="{cls}"' if cls else ""
    svg.add(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{fill}" '
            f'stroke="#333" stroke-width="0.8"{extra}/>')
    svg.text(cx, cy + r * 0.45, symbol, size=r * 1.3, anchor="middle", weight="bold", fill=ink,
             extra='aria-hidden="true"')


def rob_traffic_light_svg(rob: Mapping[str, Any], palette: str = "cochrane",
                          inline: bool = True, id_prefix: str = "rob-tl") -> str:
    """Return the robvis-style traffic-light plot (studies x domains).

    Parameters
    ----------
    rob : mapping
        ``context["risk_of_bias"]``: ``domains`` ``[{id, label}]`` and ``studies``
        ``[{study_id, label, judgements: {domain_id: judgement}}]``.
    palette : {"cochrane", "colourblind"}
        Fill colours; symbols are the same in both.
    """
    fills, ink = _palette(palette)
    domains: Sequence[Mapping[str, Any]] = rob.get("domains") or []
    studies: Sequence[Mapping[str, Any]] = rob.get("studies") or []
    labels = [text_of(s.get("label"), s.get("study_id")) for s in studies]
    label_w = max([text_width(t, FS) for t in labels] + [80.0]) + 20
    cell = 34.0
    left = 10 + label_w
    head_h = 26.0
    grid_w = cell * max(len(domains), 1)
    width = max(left + grid_w + 20, 520.0)
    svg = Svg()
    # column headers D1..Dn, with the domain key below the plot
    for j in range(len(domains)):
        svg.text(left + cell * j + cell / 2, head_h - 8, f"D{j + 1}", size=FS, anchor="middle",
                 weight="bold")
    svg.rect(left, head_h, grid_w, cell * len(studies), fill="#fafafa", stroke="#bbb")
    symbols = {key: symbol for key, _, symbol in JUDGEMENTS}
    used: set[str] = set()
    for i, (study, label) in enumerate(zip(studies, labels, strict=True)):
        y = head_h + cell * i + cell / 2
        svg.text(left - 10, y + 4, label, size=FS, anchor="end")
        judgements = study.get("judgements") or {}
        for j, dom in enumerate(domains):
            key = normalise_judgement(judgements.get(dom.get("id")))
            used.add(key)
            _dot(svg, left + cell * j + cell / 2, y, 11, fills[key], ink[key],
                 symbols[key], cls=f"rob-dot rob-{key}")
    y = head_h + cell * len(studies) + 24
    key_lines = []
    for j, dom in enumerate(domains):
        key_lines.extend(wrap(f"D{j + 1}: {text_of(dom.get('label'), dom.get('id'))}", width - 20,
                              FS - 1))
    for line in key_lines:
        svg.text(10, y, line, size=FS - 1, fill="#333")
        y += 15
    y = _legend(svg, 10, y + 10, fills, ink, width - 20, used)
    names = {key: name for key, name, _ in JUDGEMENTS}
    desc_rows = []
    for study, label in zip(studies, labels, strict=True):
        judgements = study.get("judgements") or {}
        cells = ", ".join(
            f"{text_of(dom.get('label'), dom.get('id'))}: "
            f"{names[normalise_judgement(judgements.get(dom.get('id')))]}"
            for dom in domains)
        desc_rows.append(f"{label} \u2014 {cells}")
    desc = "Risk-of-bias judgements per study and domain. " + "; ".join(desc_rows) + "."
    assessor = text_of(rob.get("assessor"), fallback="")
    title = "Risk of bias: traffic-light plot" + (f" ({assessor} assessment)" if assessor else "")
    return svg.render(width, y + 4, title, desc, f"{id_prefix}-{slug(palette)}",
                      f"rob-svg rob-{palette}", inline, min_width=min(width, 480),
                      max_scale=1.2)


def rob_summary_svg(rob: Mapping[str, Any], palette: str = "cochrane", inline: bool = True,
                    id_prefix: str = "rob-sum") -> str:
    """Return the robvis-style summary: per domain, the percentage of studies per judgement."""
    fills, ink = _palette(palette)
    domains: Sequence[Mapping[str, Any]] = rob.get("domains") or []
    studies: Sequence[Mapping[str, Any]] = rob.get("studies") or []
    n = len(studies)
    labels = [text_of(d.get("label"), d.get("id")) for d in domains]
    label_w = min(max([text_width(t, FS) for t in labels] + [100.0]) + 20, 230.0)
    bar_w = 420.0
    left = 10 + label_w
    bar_h, pitch = 20.0, 28.0
    width = left + bar_w + 20
    svg = Svg()
    y = 10.0
    desc_parts = []
    used: set[str] = set()
    for dom, label in zip(domains, labels, strict=True):
        lines = wrap(label, label_w - 14, FS)
        for k, line in enumerate(lines[:2]):
            svg.text(left - 10, y + bar_h / 2 + 4 + (k - (len(lines[:2]) - 1) / 2) * 13, line,
                     size=FS, anchor="end")
        counts = {key: 0 for key, _, _ in JUDGEMENTS}
        for study in studies:
            counts[normalise_judgement((study.get("judgements") or {}).get(dom.get("id")))] += 1
        x = left
        shares = []
        for key, name, _symbol in JUDGEMENTS:
            if not n or not counts[key]:
                continue
            used.add(key)
            share = counts[key] / n
            w = bar_w * share
            svg.rect(x, y, w, bar_h, fill=fills[key], stroke="#333",
                     extra=f'stroke-width="0.6" class="rob-bar rob-{key}"')
            if w > 34:
                svg.text(x + w / 2, y + bar_h / 2 + 4, f"{share * 100:.0f}%", size=FS - 1,
                         anchor="middle", fill=ink[key])
            shares.append(f"{name} {share * 100:.0f}%")
            x += w
        desc_parts.append(f"{label}: " + ", ".join(shares))
        y += pitch
    for pct in (0, 25, 50, 75, 100):
        xt = left + bar_w * pct / 100
        svg.line(xt, y - 4, xt, y, stroke="#333")
        svg.text(xt, y + 12, f"{pct}%", size=FS - 2, anchor="middle")
    y = _legend(svg, 10, y + 36, fills, ink, width - 20, used)
    desc = (f"Percentage of the {n} studies with each judgement, per domain (unweighted). "
            + "; ".join(desc_parts) + ".")
    return svg.render(width, y + 4, "Risk of bias: summary across studies", desc,
                      f"{id_prefix}-{slug(palette)}", f"rob-svg rob-{palette}", inline,
                      min_width=min(width, 480), max_scale=1.2)

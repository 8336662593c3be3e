"""Forest plots in the layout of RevMan 5, as inline SVG.

The pipeline hands over one ``analyses[]`` record (see ``RESULTS_SPEC.md``): study rows with
per-arm data, weights and effects, plus the pooled totals. This module only lays them out:
columns of per-arm data, weight and effect text on the left, the plot on the right, a pooled
diamond, the heterogeneity and overall-effect lines, and the favours labels under the axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._format import (
    fmt_ci,
    fmt_count,
    fmt_effect,
    fmt_flag,
    fmt_i2,
    fmt_num,
    fmt_p,
    fmt_stat,
    fmt_weight,
    is_number,
    measure_name,
    num,
)
from ._svg import Svg, esc, slug, text_of, text_width, wrap

#: The label of an analysis with one trial (``status == "single_study"``); the same words as
#: ``mscreview.models.SINGLE_LABEL`` (the report imports nothing of ours; a test keeps them equal).
SINGLE_LABEL = "1 trial \u2014 not pooled"

__all__ = ["footnote_letters", "forest_svg", "heterogeneity_text", "overall_effect_text",
           "subgroup_test_text"]

FS = 11.0  # body font size (px in viewBox units)
ROW = 19.0  # row pitch
PAD = 10.0
PLOT_W = 280.0
MAX_SQUARE = 13.0
MIN_SQUARE = 3.0
SQUARE_COLOURS = {"continuous": "#2f7d32", "dichotomous": "#1f5aa6", "generic": "#2f7d32"}
INK = "#1a1a1a"
MUTED = "#555"

_LOG_TICKS: list[tuple[float, list[float]]] = [
    (2.0, [0.5, 0.7, 1, 1.5, 2]),
    (5.0, [0.2, 0.5, 1, 2, 5]),
    (10.0, [0.1, 0.2, 0.5, 1, 2, 5, 10]),
    (20.0, [0.05, 0.2, 1, 5, 20]),
    (50.0, [0.02, 0.1, 1, 10, 50]),
    (100.0, [0.01, 0.1, 1, 10, 100]),
    (1000.0, [0.001, 0.1, 1, 10, 1000]),
]


# --------------------------------------------------------------------------- text lines
def heterogeneity_text(total: Mapping[str, Any] | None, model: str = "random") -> str:
    """Return RevMan's heterogeneity line for a pooled ``total`` record."""
    if not total or not is_number(total.get("q")) or not total.get("q_df"):
        return "Heterogeneity: Not applicable"
    parts = []
    if model == "random" and is_number(total.get("tau2")):
        parts.append(f"Tau\u00b2 = {fmt_stat(total['tau2'])}; ")
    chi = (f"Chi\u00b2 = {fmt_stat(total['q'])}, df = {fmt_count(total['q_df'])} "
           f"({fmt_p(total.get('q_p'))}); I\u00b2 = {fmt_i2(total.get('i2'))}")
    return "Heterogeneity: " + "".join(parts) + chi


def overall_effect_text(total: Mapping[str, Any] | None) -> str:
    """Return RevMan's "Test for overall effect" line."""
    if not total or not is_number(total.get("z")):
        return "Test for overall effect: Not applicable"
    return f"Test for overall effect: Z = {fmt_stat(abs(total['z']))} ({fmt_p(total.get('p'))})"


def subgroup_test_text(test: Mapping[str, Any] | None) -> str:
    """Return RevMan's "Test for subgroup differences" line."""
    if not test or not is_number(test.get("q")):
        return "Test for subgroup differences: Not applicable"
    i2 = f"{test['i2']:.1f}%" if is_number(test.get("i2")) else "\u2014"
    return (f"Test for subgroup differences: Chi\u00b2 = {fmt_stat(test['q'])}, "
            f"df = {fmt_count(test.get('df'))} ({fmt_p(test.get('p'))}), I\u00b2 = {i2}")


def footnote_letters(analysis: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``[(letter, flag text), ...]`` for the distinct row flags, in order of appearance."""
    seen: dict[str, str] = {}
    for row in analysis.get("rows") or []:
        for flag in row.get("flags") or []:
            if flag not in seen:
                seen[flag] = _letter(len(seen))
    return [(letter, flag) for flag, letter in seen.items()]


def _letter(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < 26 else f"{letters[index // 26 - 1]}{letters[index % 26]}"


# --------------------------------------------------------------------------- axis
def _nice_linear(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10.0**exponent
        if candidate >= value * (1 - 1e-9):
            return candidate
    return 10.0 ** (exponent + 1)


class _Axis:
    """Map effect values to x positions on a linear or log axis centred on the null."""

    def __init__(self, values_core: list[float], values_all: list[float], log: bool,
                 left: float, right: float) -> None:
        self.log = log
        self.left, self.right = left, right
        if log:
            core = max([abs(math.log(v)) for v in values_core if v > 0] or [math.log(2)])
            full = max([abs(math.log(v)) for v in values_all if v > 0] or [core])
            target = min(full, max(2 * core, core))
            target = max(target, core)
            for limit, ticks in _LOG_TICKS:
                if math.log(limit) >= target * (1 - 1e-9):
                    self.limit, self.ticks = limit, ticks
                    break
            else:
                exp = math.ceil(target / math.log(10))
                self.limit = 10.0**exp
                self.ticks = [10.0**-exp, 1, 10.0**exp]
            self.span = math.log(self.limit)
        else:
            core = max([abs(v) for v in values_core] or [1.0])
            full = max([abs(v) for v in values_all] or [core])
            self.limit = _nice_linear(max(core, min(full, 2 * core)))
            half = self.limit / 2
            self.ticks = [-self.limit, -half, 0, half, self.limit]
            self.span = self.limit
        self.null = 1.0 if log else 0.0

    def pos(self, value: float) -> float:
        """Return the x position of ``value`` (may fall outside the axis)."""
        if self.log:
            t = math.log(value) if value > 0 else -math.inf
        else:
            t = value
        centre = (self.left + self.right) / 2
        half = (self.right - self.left) / 2
        if t == -math.inf:
            return -math.inf
        return centre + t / self.span * half

    def clip(self, value: float) -> tuple[float, bool]:
        """Return the clipped position and whether it was clipped."""
        x = self.pos(value)
        if x < self.left:
            return self.left, True
        if x > self.right:
            return self.right, True
        return x, False

    def tick_label(self, value: float) -> str:
        return fmt_num(value, 3)


# --------------------------------------------------------------------------- columns
def _arm_fields(analysis: Mapping[str, Any]) -> list[tuple[str, str]]:
    kind = analysis.get("data_kind")
    rows = analysis.get("rows") or []
    if kind == "continuous":
        return [("mean", "Mean"), ("sd", "SD"), ("n", "Total")]
    if kind == "dichotomous":
        return [("events", "Events"), ("n", "Total")]
    has_n = any(isinstance(r.get(a), Mapping) and is_number(r[a].get("n"))
                for r in rows for a in ("exp", "ctl"))
    return [("n", "Total")] if has_n else []


def _arm_value(arm: Any, key: str) -> str:
    if not isinstance(arm, Mapping):
        return ""
    value = arm.get(key)
    if key in ("n", "events"):
        return fmt_count(value) if is_number(value) else ""
    return fmt_num(value) if is_number(value) else ""


def _method_line(analysis: Mapping[str, Any]) -> str:
    model = "Fixed" if analysis.get("model") == "fixed" else "Random"
    method = analysis.get("method")
    if not method and analysis.get("data_kind") in ("continuous", "generic", None):
        method = "IV"
    return f"{method}, {model}, 95% CI" if method else f"{model}, 95% CI"


# --------------------------------------------------------------------------- body model
def _blocks(analysis: Mapping[str, Any]) -> list[tuple[Mapping[str, Any] | None, list[Any]]]:
    """Split rows into ``(subgroup record or None, rows)`` blocks."""
    rows = list(analysis.get("rows") or [])
    subgroups = list(analysis.get("subgroups") or [])
    if not subgroups:
        return [(None, rows)]
    blocks: list[tuple[Mapping[str, Any] | None, list[Any]]] = []
    names = []
    for sub in subgroups:
        name = sub.get("name")
        names.append(name)
        blocks.append((sub, [r for r in rows if r.get("group") == name]))
    leftover = [r for r in rows if r.get("group") not in names]
    if leftover:
        blocks.append(({"name": "Other", "total": None}, leftover))
    return blocks


def _plot_values(analysis: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    core: list[float] = []
    full: list[float] = []
    for row in analysis.get("rows") or []:
        if is_number(row.get("effect")):
            core.append(row["effect"])
        full.extend(v for v in (row.get("ci_low"), row.get("ci_high")) if is_number(v))
    totals = [analysis.get("total")] + [s.get("total") for s in analysis.get("subgroups") or []]
    for total in totals:
        if not total:
            continue
        for key in ("estimate", "ci_low", "ci_high"):
            if is_number(total.get(key)):
                core.append(total[key])
        full.extend(total[k] for k in ("pi_low", "pi_high") if is_number(total.get(k)))
    return core, full + core


# --------------------------------------------------------------------------- drawing
def forest_svg(analysis: Mapping[str, Any], inline: bool = True,
               max_rows: int | None = None) -> str:
    """Return the forest plot of one analysis as an ``<svg role="img">`` string.

    Parameters
    ----------
    analysis : mapping
        One ``context["analyses"][i]`` record.
    inline : bool
        True for the HTML page (``width="100%"``, scales with its container); False for a
        standalone ``.svg`` download with explicit pixel size.
    max_rows : int, optional
        Draw at most this many study rows (the first ones, in the analysis's order); a row in
        their place says how many more there are and that the plot file
        (``plots/forest-<id>.svg``, drawn without a limit) and ``results.json`` have them all.
        Totals, heterogeneity and the axis are those of every trial. None: every row.
    """
    status = analysis.get("status")
    rows = list(analysis.get("rows") or [])
    if status == "no_data" or (status != "pooled" and not rows):
        return _message_svg(analysis, inline)
    return _Forest(analysis, max_rows).draw(inline)


def _message_svg(analysis: Mapping[str, Any], inline: bool) -> str:
    width = 720.0
    title = text_of(analysis.get("title"), analysis.get("id"), fallback="Analysis")
    head = "No data to pool" if analysis.get("status") == "no_data" else "Not pooled"
    reason = text_of(analysis.get("reason"),
                     fallback="No study reports this outcome in a usable form.")
    lines = wrap(reason, width - 80, 13)
    height = 60 + 18 * len(lines) + 20
    svg = Svg()
    svg.rect(10, 10, width - 20, height - 20, fill="#f6f7f9", stroke="#9aa3ad",
             extra='rx="6" stroke-width="1"')
    svg.text(30, 38, f"{head}: {title}", size=14, weight="bold", fill=INK)
    for i, line in enumerate(lines):
        svg.text(30, 62 + 18 * i, line, size=13, fill=MUTED)
    pid = f"forest-{slug(analysis.get('id'))}-svg"
    return svg.render(width, height, f"Forest plot: {title} ({head.lower()})",
                      f"{head}. {reason}", pid, "forest-svg forest-empty", inline)


class _Forest:
    def __init__(self, analysis: Mapping[str, Any], max_rows: int | None = None) -> None:
        self.a = analysis
        rows = analysis.get("rows") or []
        self.cap = len(rows) if max_rows is None else max(0, min(max_rows, len(rows)))
        self.drawn = [r for _, block in _blocks(analysis) for r in block][: self.cap]
        self.kind = analysis.get("data_kind") or "generic"
        self.model = analysis.get("model") or "random"
        self.log = analysis.get("scale") == "log" or analysis.get("measure") in ("RR", "OR", "HR")
        self.fields = _arm_fields(analysis)
        self.notes = dict((flag, letter) for letter, flag in footnote_letters(analysis))
        self.colour = SQUARE_COLOURS.get(self.kind, SQUARE_COLOURS["generic"])
        weights = [r.get("weight") for r in analysis.get("rows") or []]
        self.wmax = max([w for w in weights if is_number(w) and w > 0] or [1.0])
        self.svg = Svg()
        self._layout()

    # ---- geometry
    def _cells(self, row: Mapping[str, Any]) -> tuple[dict[str, list[str]], str]:
        """The row's arm values (per arm, in column order) and effect text, formatted once."""
        key = id(row)
        done = self._cell_cache.get(key)
        if done is None:
            arms = {arm: [_arm_value(row.get(arm), k) for k, _ in self.fields]
                    for arm in ("exp", "ctl")}
            done = (arms, self._effect_text(row.get("effect"), row.get("ci_low"),
                                            row.get("ci_high")))
            self._cell_cache[key] = done
        return done

    def _layout(self) -> None:
        self._cell_cache: dict[int, tuple[dict[str, list[str]], str]] = {}
        rows = self.drawn
        cells = [self._cells(r) for r in rows]
        labels = [self._label(r) for r in rows] + ["Study or Subgroup", "Subtotal (95% CI)"]
        labels += [str(s.get("name") or "") for s in self.a.get("subgroups") or []]
        label_w = max(150.0, max(text_width(t, FS, bold=True) for t in labels) + 16)
        x = PAD
        self.x_label = x
        x += label_w
        self.arm_cols: dict[str, list[tuple[str, float]]] = {"exp": [], "ctl": []}
        self.arm_span: dict[str, tuple[float, float]] = {}
        for arm in ("exp", "ctl"):
            start = x
            for j, (key, header) in enumerate(self.fields):
                values = [c[0][arm][j] for c in cells] + [header, "9999"]
                col_w = max(42.0, max(text_width(v, FS) for v in values) + 14)
                x += col_w
                self.arm_cols[arm].append((key, x - 6))
            self.arm_span[arm] = (start, x)
        self.x_weight = x + 56  # right edge of weight column
        x += 62
        effects = [c[1] for c in cells]
        effect_w = max(160.0, max([text_width(e, FS) for e in effects] or [0]) + 24,
                       text_width(_method_line(self.a), FS, True) + 16)
        self.x_effect = x + effect_w / 2
        x += effect_w
        self.plot_left, self.plot_right = x + 14, x + PLOT_W - 14
        self.plot_mid = x + PLOT_W / 2
        x += PLOT_W
        self.width = x + PAD
        core, full = _plot_values(self.a)
        self.axis = _Axis(core, full, self.log, self.plot_left, self.plot_right)

    def _label(self, row: Mapping[str, Any]) -> str:
        marks = "".join(self.notes.get(f, "") for f in row.get("flags") or [])
        base = text_of(row.get("label"), row.get("study_id"), fallback="")
        return f"{base} {marks}" if marks else base

    def _effect_text(self, est: Any, low: Any, high: Any) -> str:
        if not is_number(est):
            return "Not estimable"
        return f"{fmt_effect(est)} {fmt_ci(low, high)}".strip()

    # ---- drawing primitives
    def _square(self, row: Mapping[str, Any], y: float) -> None:
        est, low, high = num(row, "effect"), num(row, "ci_low"), num(row, "ci_high")
        if est is None or (self.log and est <= 0):
            return
        if low is not None and high is not None and not (self.log and min(low, high) <= 0):
            x1, clip1 = self.axis.clip(low)
            x2, clip2 = self.axis.clip(high)
            self.svg.line(x1, y, x2, y, stroke=INK, width=1.1)
            if clip1:
                self._arrow(x1, y, -1)
            if clip2:
                self._arrow(x2, y, 1)
        weight = num(row, "weight")
        frac = (weight / self.wmax) if weight is not None and weight > 0 else 0.0
        side = max(MIN_SQUARE, MAX_SQUARE * math.sqrt(frac))
        cx, _ = self.axis.clip(est)
        self.svg.rect(cx - side / 2, y - side / 2, side, side, fill=self.colour,
                      extra=f'class="study-square" data-study="{esc(row.get("study_id"))}"')

    def _arrow(self, x: float, y: float, direction: int) -> None:
        self.svg.polygon([(x + direction * 6, y), (x, y - 4), (x, y + 4)], fill=INK,
                         extra='class="ci-arrow"')

    def _diamond(self, total: Mapping[str, Any], y: float, cls: str) -> None:
        est, low, high = num(total, "estimate"), num(total, "ci_low"), num(total, "ci_high")
        if est is None or low is None or high is None:
            return
        if self.log and min(est, low, high) <= 0:
            return
        xl, _ = self.axis.clip(low)
        xr, _ = self.axis.clip(high)
        xc, _ = self.axis.clip(est)
        h = 6.0
        self.svg.polygon([(xl, y), (xc, y - h), (xr, y), (xc, y + h)], fill=INK,
                         extra=f'class="{cls}"')

    def _pi_bar(self, total: Mapping[str, Any], y: float) -> None:
        low, high = num(total, "pi_low"), num(total, "pi_high")
        if low is None or high is None or (self.log and min(low, high) <= 0):
            return
        xl, cl = self.axis.clip(low)
        xr, cr = self.axis.clip(high)
        self.svg.rect(xl, y - 2.5, xr - xl, 5, fill="#8c1d18", extra='class="pi-bar"')
        for xx, clipped, d in ((xl, cl, -1), (xr, cr, 1)):
            if clipped:
                self._arrow(xx, y, d)
            else:
                self.svg.line(xx, y - 5, xx, y + 5, stroke="#8c1d18", width=1.2)

    def _arm_texts(self, row: Mapping[str, Any], y: float, bold: bool = False) -> None:
        values = self._cells(row)[0]
        for arm in ("exp", "ctl"):
            for (_key, right), value in zip(self.arm_cols[arm], values[arm], strict=True):
                if value:
                    self.svg.text(right, y, value, size=FS, anchor="end",
                                  weight="bold" if bold else None)

    # ---- page
    def draw(self, inline: bool) -> str:
        s = self.svg
        a = self.a
        y = 18.0
        exp_name, ctl_name = (a.get("arm_labels") or ["MSC", "Control"])[:2]
        mname = measure_name(a.get("measure"))
        method = _method_line(a)
        for arm, name in (("exp", exp_name), ("ctl", ctl_name)):
            if self.fields:
                left, right = self.arm_span[arm]
                s.text((left + right) / 2, y, name, size=FS, anchor="middle", weight="bold")
        s.text(self.x_effect, y, mname, size=FS, anchor="middle", weight="bold")
        s.text(self.plot_mid, y, mname, size=FS, anchor="middle", weight="bold")
        y += 15
        s.text(self.x_label, y, "Study or Subgroup", size=FS, weight="bold")
        for arm in ("exp", "ctl"):
            for (_key, right), (_, header) in zip(self.arm_cols[arm], self.fields, strict=True):
                s.text(right, y, header, size=FS, anchor="end", weight="bold")
        s.text(self.x_weight, y, "Weight", size=FS, anchor="end", weight="bold")
        s.text(self.x_effect, y, method, size=FS, anchor="middle", weight="bold")
        s.text(self.plot_mid, y, method, size=FS, anchor="middle", weight="bold")
        y += 7
        s.line(PAD, y, self.width - PAD, y, stroke="#999", width=0.8)
        body_top = y
        y += ROW - 4
        pooled = a.get("status") == "pooled"
        blocks = _blocks(a)
        grouped = blocks[0][0] is not None
        budget = self.cap
        for sub, rows in blocks:
            if grouped and sub is not None:
                s.text(self.x_label, y, sub.get("name") or "", size=FS, weight="bold")
                y += ROW
            for row in rows[:budget]:
                self._study_row(row, y)
                y += ROW
            if len(rows) > budget:
                y = self._not_drawn(len(rows) - budget, y)
            budget = max(0, budget - len(rows))
            if grouped and sub is not None:
                y = self._total_block(sub.get("total"), rows, y, "Subtotal (95% CI)",
                                      "subtotal-diamond", pooled)
                y += ROW * 0.5
        if pooled:
            y = self._total_block(a.get("total"), a.get("rows") or [], y, "Total (95% CI)",
                                  "total-diamond", True, overall=True)
            if grouped:
                s.text(self.x_label, y, subgroup_test_text(a.get("subgroup_test")), size=FS)
                y += ROW
        else:
            y = self._not_pooled_box(y)
        body_bottom = y - ROW * 0.6
        # null line and axis
        xn = self.axis.pos(self.axis.null)
        s.line(xn, body_top, xn, body_bottom + 6, stroke="#777", width=0.9)
        y_axis = body_bottom + 6
        s.line(self.plot_left, y_axis, self.plot_right, y_axis, stroke=INK, width=1)
        for tick in self.axis.ticks:
            xt = self.axis.pos(tick)
            s.line(xt, y_axis, xt, y_axis + 4, stroke=INK, width=1)
            s.text(xt, y_axis + 15, self.axis.tick_label(tick), size=FS - 1, anchor="middle")
        fav = a.get("favours") or ["", ""]
        fav_left = str(fav[0]) if len(fav) > 0 else ""
        fav_right = str(fav[1]) if len(fav) > 1 else ""
        s.text(xn - 6, y_axis + 30, fav_left, size=FS - 0.5, anchor="end", cls="favours")
        s.text(xn + 6, y_axis + 30, fav_right, size=FS - 0.5, anchor="start", cls="favours")
        y = y_axis + 34
        notes = footnote_letters(a)
        if notes:
            y += 8
            s.text(self.x_label, y, "Footnotes", size=FS - 1, weight="bold")
            for letter, flag in notes:
                y += 14
                s.text(self.x_label, y, f"({letter}) {fmt_flag(flag)}", size=FS - 1, fill=MUTED)
        height = y + 10
        title = f"Forest plot: {a.get('title') or a.get('id')}"
        pid = f"forest-{slug(a.get('id'))}-svg"
        return s.render(self.width, height, title, self._desc(), pid, "forest-svg", inline,
                        min_width=self.width * 0.85, max_scale=1.15)

    def _study_row(self, row: Mapping[str, Any], y: float) -> None:
        s = self.svg
        base = text_of(row.get("label"), row.get("study_id"), fallback="")
        s.text(self.x_label, y, base, size=FS)
        marks = "".join(self.notes.get(f, "") for f in row.get("flags") or [])
        if marks:
            s.text(self.x_label + text_width(base, FS) + 3, y - 4, marks, size=FS - 3,
                   fill=MUTED)
        self._arm_texts(row, y)
        s.text(self.x_weight, y, fmt_weight(row.get("weight")), size=FS, anchor="end")
        s.text(self.x_effect, y, self._cells(row)[1], size=FS, anchor="middle")
        self._square(row, y - 4)

    def _not_drawn(self, more: int, y: float) -> float:
        """The row in place of ``more`` study rows beyond the limit of the page."""
        total = len(self.a.get("rows") or [])
        self.svg.text(self.x_label, y, f"\u2026 {more:,} more trial{'s' if more != 1 else ''} "
                      f"not drawn here (the page draws the first {self.cap:,} of {total:,}): "
                      f"plots/forest-{self.a.get('id')}.svg draws every trial; results.json "
                      "has every value", size=FS, italic=True, fill=MUTED, cls="rows-not-drawn")
        return y + ROW

    def _total_block(self, total: Mapping[str, Any] | None, rows: Sequence[Any], y: float,
                     label: str, cls: str, pooled: bool, overall: bool = False) -> float:
        s = self.svg
        total = total or {}
        s.text(self.x_label, y, label, size=FS, weight="bold")
        for arm, key in (("exp", "n_exp"), ("ctl", "n_ctl")):
            cols = dict(self.arm_cols[arm])
            if "n" in cols and is_number(total.get(key)):
                s.text(cols["n"], y, fmt_count(total[key]), size=FS, anchor="end", weight="bold")
        weights = [r.get("weight") for r in rows if is_number(r.get("weight"))]
        if is_number(total.get("weight")):
            wtext = fmt_weight(total["weight"])
        elif overall and weights:
            wtext = "100.0%"
        else:
            wtext = fmt_weight(sum(weights)) if weights else ""
        s.text(self.x_weight, y, wtext, size=FS, anchor="end", weight="bold")
        s.text(self.x_effect, y, self._effect_text(total.get("estimate"), total.get("ci_low"),
                                                   total.get("ci_high")),
               size=FS, anchor="middle", weight="bold")
        self._diamond(total, y - 4, cls)
        y += ROW
        if is_number(total.get("pi_low")) and is_number(total.get("pi_high")):
            s.text(self.x_label, y, "Prediction interval", size=FS, italic=True)
            s.text(self.x_effect, y, fmt_ci(total["pi_low"], total["pi_high"]), size=FS,
                   anchor="middle", italic=True)
            self._pi_bar(total, y - 4)
            y += ROW
        if self.kind == "dichotomous":
            s.text(self.x_label, y, "Total events", size=FS)
            for arm, key in (("exp", "events_exp"), ("ctl", "events_ctl")):
                cols = dict(self.arm_cols[arm])
                if is_number(total.get(key)):
                    value = fmt_count(total[key])
                else:
                    events = [r[arm]["events"] for r in rows if isinstance(r.get(arm), Mapping)
                              and is_number(r[arm].get("events"))]
                    value = fmt_count(sum(events)) if events else ""
                if "events" in cols and value:
                    s.text(cols["events"], y, value, size=FS, anchor="end")
            y += ROW
        s.text(self.x_label, y, heterogeneity_text(total, self.model), size=FS)
        y += ROW
        s.text(self.x_label, y, overall_effect_text(total), size=FS)
        return y + ROW

    def _not_pooled_box(self, y: float) -> float:
        reason = str(self.a.get("reason") or "Only one study; nothing to pool.")
        single = self.a.get("status") == "single_study"
        head = "" if single and reason.startswith(SINGLE_LABEL) else (
            f"{SINGLE_LABEL}: " if single else "Not pooled: ")
        width = self.x_weight - self.x_label + 40
        lines = wrap(head + reason, width - 20, FS)
        height = 10 + 15 * len(lines)
        self.svg.rect(self.x_label, y - 8, width, height, fill="#f6f7f9", stroke="#9aa3ad",
                      extra='rx="4" class="not-pooled"')
        for i, line in enumerate(lines):
            self.svg.text(self.x_label + 10, y + 6 + 15 * i, line, size=FS, fill=INK)
        return y + height + ROW * 0.6

    def _desc(self) -> str:
        a = self.a
        mname = measure_name(a.get("measure"))
        parts = []
        for row in self.drawn:
            effect = self._cells(row)[1]
            parts.append(f"{row.get('label') or row.get('study_id')}: {effect}, "
                         f"weight {fmt_weight(row.get('weight'))}")
        more = len(a.get("rows") or []) - len(self.drawn)
        if more:
            parts.append(f"{more:,} more trials not drawn here (plots/forest-{a.get('id')}.svg "
                         "draws them)")
        total = a.get("total") or {}
        if a.get("status") == "pooled" and is_number(total.get("estimate")):
            model = "fixed-effect" if self.model == "fixed" else "random-effects"
            effect = self._effect_text(total["estimate"], total.get("ci_low"),
                                       total.get("ci_high"))
            pooled = (f"Pooled {mname} ({model}): {effect}"
                      f"; {heterogeneity_text(total, self.model)}; {overall_effect_text(total)}.")
        elif a.get("status") == "single_study":
            reason = str(a.get("reason") or "")
            pooled = reason if reason.startswith(SINGLE_LABEL) else f"{SINGLE_LABEL}: {reason}"
        else:
            pooled = f"Not pooled: {a.get('reason') or 'fewer than two studies'}."
        axis = "log" if self.log else "linear"
        return (f"{mname} by study ({axis} axis, null at {fmt_num(self.axis.null)}). "
                + "; ".join(parts) + ". " + pooled)

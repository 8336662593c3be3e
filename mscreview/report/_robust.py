"""Figures of the robustness section, as inline SVG: interval plots (leave-one-out, cumulative,
sensitivity subsets), the contour-enhanced funnel plot, bubble plots of meta-regressions, the
trajectory across time windows and the trial sequential monitoring plot.

The pipeline (``mscreview.pipeline.robustness``) computes every number; these functions only
map them to coordinates. Effects of ratio measures arrive on the display scale (intervals) or the
log scale (funnel and bubble points, ``scale == "log"``) and are drawn on a log axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from ._format import fmt_count, fmt_num, is_number
from ._svg import Svg, slug, text_width

__all__ = ["bubble_svg", "funnel_svg", "interval_svg", "robustness_svg", "trajectory_svg",
           "tsa_svg"]

FS = 11.0
INK = "#1a1a1a"
MUTED = "#555"
ACCENT = "#1f4e79"
WARN = "#8c1d18"
POINT = "#2f7d32"
CONTOUR_FILL = ["#ffffff", "#e3e7ec", "#c9d0d9", "#aeb8c4"]  # p > .10, .10-.05, .05-.01, < .01


class _Lin:
    """A linear map from data to pixels."""

    def __init__(self, lo: float, hi: float, a: float, b: float) -> None:
        if lo == hi or not (math.isfinite(lo) and math.isfinite(hi)):  # may run either way
            lo, hi = (lo - 1.0, hi + 1.0) if math.isfinite(lo) else (-1.0, 1.0)
        self.lo, self.hi, self.a, self.b = lo, hi, a, b

    def __call__(self, x: float) -> float:
        return self.a + (x - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = math.ceil(lo / step) * step
    return [round(start + i * step, 10) for i in range(int((hi - start) / step + 1e-9) + 1)]


def _fmt_tick(v: float, log: bool) -> str:
    return fmt_num(math.exp(v) if log else v, 2)


def _log_or_lin(v: float, log: bool) -> float:
    return math.log(v) if log else v


def interval_svg(rows: Sequence[Mapping[str, Any]], *, log: bool, title: str, pid: str,
                 pooled: Mapping[str, Any] | None = None, label_key: str = "label",
                 null: float | None = None, kind: str = "interval", inline: bool = True,
                 note: str = "") -> Markup:
    """Estimates with 95% CIs, one row each (a small forest); a dashed line at the full pool.

    ``rows`` carry ``estimate``, ``ci_low``, ``ci_high`` (display scale) and a label; ``note``
    is a line under the axis (what the figure leaves out).
    """
    null = (1.0 if log else 0.0) if null is None else null
    usable = [r for r in rows if is_number(r.get("estimate"))]
    values = [_log_or_lin(v, log) for r in usable for v in (r.get("ci_low"), r.get("ci_high"),
                                                           r.get("estimate"))
              if is_number(v) and (v > 0 or not log)]
    values.append(_log_or_lin(null, log))
    if pooled and is_number(pooled.get("estimate")):
        values.append(_log_or_lin(pooled["estimate"], log))
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or 0.5
    label_w = max([text_width(str(r.get(label_key) or ""), FS) for r in rows] + [60.0]) + 14
    left, plot_w, right_w = label_w, 300.0, 150.0
    width = left + plot_w + right_w
    row_h = 17.0
    top = 22.0
    height = top + row_h * len(rows) + 34 + (16 if note else 0)
    x = _Lin(lo - pad, hi + pad, left + 8, left + plot_w - 8)
    s = Svg()
    s.text(left + plot_w + 8, 14, "Estimate [95% CI]", size=FS - 1, weight="bold", fill=MUTED)
    xn = x(_log_or_lin(null, log))
    s.line(xn, top - 6, xn, top + row_h * len(rows), stroke="#999", width=0.8)
    if pooled and is_number(pooled.get("estimate")):
        xp = x(_log_or_lin(pooled["estimate"], log))
        s.line(xp, top - 6, xp, top + row_h * len(rows), stroke=ACCENT, width=0.8,
               extra='stroke-dasharray="4 3" class="pooled-line"')
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        s.text(6, y + 4, r.get(label_key) or "", size=FS)
        est, a, b = r.get("estimate"), r.get("ci_low"), r.get("ci_high")
        if not is_number(est) or (log and est <= 0):
            s.text(left + plot_w + 8, y + 4, "not estimable", size=FS, fill=MUTED)
            continue
        if is_number(a) and is_number(b) and (not log or min(a, b) > 0):
            s.line(x(_log_or_lin(a, log)), y, x(_log_or_lin(b, log)), y, stroke=INK, width=1.1)
            txt = f"{fmt_num(est)} [{fmt_num(a)}, {fmt_num(b)}]"
        else:
            txt = fmt_num(est)
        s.rect(x(_log_or_lin(est, log)) - 3, y - 3, 6, 6, fill=POINT,
               extra='class="interval-point"')
        s.text(left + plot_w + 8, y + 4, txt, size=FS)
    y_axis = top + row_h * len(rows) + 4
    s.line(left + 8, y_axis, left + plot_w - 8, y_axis, stroke=INK)
    for t in _ticks(lo - pad, hi + pad, 4):
        s.line(x(t), y_axis, x(t), y_axis + 4, stroke=INK)
        s.text(x(t), y_axis + 15, _fmt_tick(t, log), size=FS - 1, anchor="middle")
    if note:
        s.text(6, y_axis + 31, note, size=FS - 1, italic=True, fill=MUTED, cls="rows-not-drawn")
    desc = "; ".join(f"{r.get(label_key)}: {fmt_num(r.get('estimate'))}" for r in usable)
    if note:
        desc += f". {note}"
    return Markup(s.render(width, height, title, desc or "no estimates", pid,
                           f"robust-svg interval-svg {kind}-svg", inline, min_width=width * 0.8))


def funnel_svg(panel: Mapping[str, Any], *, title: str, pid: str, inline: bool = True
               ) -> Markup:
    """Contour-enhanced funnel plot: effect (x) against its standard error (y, 0 at the top).

    Shaded regions mark where a study's two-sided p falls (> 0.10, 0.10-0.05, 0.05-0.01,
    < 0.01) around no effect; the vertical line is the pooled estimate; trim-and-fill's imputed
    studies are open circles.
    """
    log = panel.get("scale") == "log"
    pts = panel.get("points") or []
    filled = (panel.get("trim_fill") or {}).get("filled") or []
    null = float(panel.get("null") or 0.0)
    se_max = float(panel.get("se_max") or 1.0) * 1.08
    zs = [float(c["z"]) for c in panel.get("contours") or []]
    zmax = max(zs or [2.58])
    xs = [p["yi"] for p in [*pts, *filled]] + [null - zmax * se_max, null + zmax * se_max]
    lo, hi = min(xs), max(xs)
    width, height = 520.0, 340.0
    left, right, top, bottom = 56.0, 16.0, 16.0, 46.0
    x = _Lin(lo, hi, left, width - right)
    y = _Lin(0.0, se_max, top, height - bottom)
    s = Svg()
    s.rect(left, top, width - right - left, height - bottom - top, fill=CONTOUR_FILL[-1])
    for i, z in enumerate(sorted(zs, reverse=True)):  # widest region first
        s.polygon([(x(null), top), (x(null - z * se_max), height - bottom),
                   (x(null + z * se_max), height - bottom)], fill=CONTOUR_FILL[-2 - i],
                  extra='class="contour"')
    s.line(x(null), top, x(null), height - bottom, stroke="#777", width=0.8)
    center = panel.get("center")
    if is_number(center):
        s.line(x(center), top, x(center), height - bottom, stroke=ACCENT, width=1.2,
               extra='class="funnel-centre"')
    for p in pts:
        s.add(f'<circle cx="{x(p["yi"]):.1f}" cy="{y(p["sei"]):.1f}" r="4" fill="{POINT}" '
              f'class="funnel-point"><title>{p.get("label")}</title></circle>')
    for p in filled:
        s.add(f'<circle cx="{x(p["yi"]):.1f}" cy="{y(p["sei"]):.1f}" r="4" fill="#fff" '
              f'stroke="{WARN}" stroke-width="1.3" class="funnel-filled"/>')
    s.line(left, height - bottom, width - right, height - bottom, stroke=INK)
    s.line(left, top, left, height - bottom, stroke=INK)
    for t in _ticks(lo, hi, 5):
        s.line(x(t), height - bottom, x(t), height - bottom + 4, stroke=INK)
        s.text(x(t), height - bottom + 15, _fmt_tick(t, log), size=FS - 1, anchor="middle")
    for t in _ticks(0.0, se_max, 4):
        s.line(left - 4, y(t), left, y(t), stroke=INK)
        s.text(left - 6, y(t) + 4, fmt_num(t, 2), size=FS - 1, anchor="end")
    s.text((left + width - right) / 2, height - 12, "Effect" + (" (log scale)" if log else ""),
           size=FS, anchor="middle")
    s.text(14, (top + height - bottom) / 2, "Standard error", size=FS, anchor="middle",
           extra=f'transform="rotate(-90 14 {(top + height - bottom) / 2:.1f})"')
    desc = (f"{len(pts)} studies; shading: p > 0.10 (white), 0.10-0.05, 0.05-0.01, < 0.01 "
            f"(darkest); {len(filled)} imputed by trim-and-fill (open circles).")
    return Markup(s.render(width, height, title, desc, pid, "robust-svg funnel-svg", inline,
                           min_width=320))


def bubble_svg(panel: Mapping[str, Any], *, title: str, xlabel: str, pid: str,
               inline: bool = True) -> Markup:
    """Bubble plot of a meta-regression: study effects against the moderator, area by weight,
    with the fitted line (continuous) or level means (factor) and their 95% CI."""
    bubble = panel.get("bubble") or {}
    log = bubble.get("scale") == "log"
    pts = bubble.get("points") or []
    line = bubble.get("line") or []
    factor = panel.get("kind") == "factor"
    levels = list(panel.get("levels") or [])
    ys = [p["y"] for p in pts] + [v for r in line for v in (r["ci_low"], r["ci_high"])]
    lo, hi = (min(ys), max(ys)) if ys else (-1.0, 1.0)
    pad = (hi - lo) * 0.08 or 0.5
    width, height = 480.0, 300.0
    left, right, top, bottom = 56.0, 16.0, 14.0, 46.0
    if factor:
        x = _Lin(-0.5, len(levels) - 0.5, left, width - right)
        xpos: Any = {lev: x(i) for i, lev in enumerate(levels)}
    else:
        xv = [p["x"] for p in pts]
        xpad = (max(xv) - min(xv)) * 0.06 or 0.5
        x = _Lin(min(xv) - xpad, max(xv) + xpad, left, width - right)
    y = _Lin(hi + pad, lo - pad, top, height - bottom)
    s = Svg()
    null = 0.0
    if lo - pad <= null <= hi + pad:
        s.line(left, y(null), width - right, y(null), stroke="#999", width=0.8)
    if line and not factor:
        band = [(x(r["x"]), y(r["ci_high"])) for r in line] + \
            [(x(r["x"]), y(r["ci_low"])) for r in reversed(line)]
        s.polygon(band, fill="#dbe4ee", extra='class="ci-band"')
        path = " ".join(f"{x(r['x']):.1f},{y(r['fit']):.1f}" for r in line)
        s.add(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="1.6" '
              'class="fit-line"/>')
    wmax = max([p["weight"] for p in pts] or [1.0])
    for p in pts:
        cx = xpos[str(p["x"])] if factor else x(p["x"])
        r = 2.5 + 9.0 * math.sqrt(max(p["weight"], 0.0) / wmax)
        s.add(f'<circle cx="{cx:.1f}" cy="{y(p["y"]):.1f}" r="{r:.1f}" fill="{POINT}" '
              f'fill-opacity="0.45" stroke="{POINT}" class="bubble"><title>{p.get("label")}'
              '</title></circle>')
    if factor:
        for r in line:
            cx = xpos[str(r["x"])]
            s.line(cx - 14, y(r["fit"]), cx + 14, y(r["fit"]), stroke=ACCENT, width=2)
            s.line(cx, y(r["ci_low"]), cx, y(r["ci_high"]), stroke=ACCENT, width=1)
    s.line(left, height - bottom, width - right, height - bottom, stroke=INK)
    s.line(left, top, left, height - bottom, stroke=INK)
    if factor:
        for lev, px in xpos.items():
            s.text(px, height - bottom + 15, lev.replace("_", " "), size=FS - 1, anchor="middle")
    else:
        for t in _ticks(x.lo, x.hi, 5):
            s.line(x(t), height - bottom, x(t), height - bottom + 4, stroke=INK)
            s.text(x(t), height - bottom + 15, fmt_num(t, 2), size=FS - 1, anchor="middle")
    for t in _ticks(lo - pad, hi + pad, 4):
        s.line(left - 4, y(t), left, y(t), stroke=INK)
        s.text(left - 6, y(t) + 4, _fmt_tick(t, log), size=FS - 1, anchor="end")
    s.text((left + width - right) / 2, height - 12, xlabel, size=FS, anchor="middle")  # x label
    s.text(14, (top + height - bottom) / 2, "Effect" + (" (log scale)" if log else ""),
           size=FS, anchor="middle",
           extra=f'transform="rotate(-90 14 {(top + height - bottom) / 2:.1f})"')
    desc = f"{len(pts)} studies against {xlabel}; bubble area proportional to weight."
    return Markup(s.render(width, height, title, desc, pid, "robust-svg bubble-svg", inline,
                           min_width=300))


def trajectory_svg(rows: Sequence[Mapping[str, Any]], *, log: bool, title: str,
                   pid: str, inline: bool = True) -> Markup:
    """Pooled effect and 95% CI at each time window, in time order, with k under each point."""
    pts = [r for r in rows if is_number(r.get("estimate"))]
    width, height = 560.0, 260.0
    left, right, top, bottom = 56.0, 16.0, 14.0, 58.0
    n = max(len(rows), 1)
    x = _Lin(-0.5, n - 0.5, left, width - right)
    vals = [_log_or_lin(v, log) for r in pts for v in (r.get("ci_low"), r.get("ci_high"))
            if is_number(v) and (v > 0 or not log)] + [0.0]
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.08 or 0.5
    y = _Lin(hi + pad, lo - pad, top, height - bottom)
    s = Svg()
    s.line(left, y(0.0), width - right, y(0.0), stroke="#999", width=0.8)
    prev = None
    for i, r in enumerate(rows):
        cx = x(i)
        s.text(cx, height - bottom + 15, r.get("window") or "", size=FS - 1, anchor="middle")
        s.text(cx, height - bottom + 29, f"k = {fmt_count(r.get('k'))}", size=FS - 1,
               anchor="middle", fill=MUTED)
        est = r.get("estimate")
        if not is_number(est) or (log and est <= 0):
            continue
        a, b = r.get("ci_low"), r.get("ci_high")
        if is_number(a) and is_number(b) and (not log or min(a, b) > 0):
            s.line(cx, y(_log_or_lin(a, log)), cx, y(_log_or_lin(b, log)), stroke=INK)
        cy = y(_log_or_lin(est, log))
        if prev is not None:
            s.line(prev[0], prev[1], cx, cy, stroke=ACCENT, width=1,
                   extra='stroke-dasharray="3 3"')
        s.rect(cx - 4, cy - 4, 8, 8, fill=POINT, extra='class="trajectory-point"')
        prev = (cx, cy)
    s.line(left, top, left, height - bottom, stroke=INK)
    for t in _ticks(lo - pad, hi + pad, 4):
        s.line(left - 4, y(t), left, y(t), stroke=INK)
        s.text(left - 6, y(t) + 4, _fmt_tick(t, log), size=FS - 1, anchor="end")
    s.text(14, (top + height - bottom) / 2, "Pooled effect" + (" (log scale)" if log else ""),
           size=FS, anchor="middle",
           extra=f'transform="rotate(-90 14 {(top + height - bottom) / 2:.1f})"')
    desc = "; ".join(f"{r.get('window')}: {fmt_num(r.get('estimate'))} (k = {r.get('k')})"
                     for r in pts)
    return Markup(s.render(width, height, title, desc or "no pooled windows", pid,
                           "robust-svg trajectory-svg", inline, min_width=320))


def tsa_svg(seq: Mapping[str, Any], *, title: str, pid: str, inline: bool = True) -> Markup:
    """Trial sequential monitoring plot: cumulative Z against accrued participants, with the
    O'Brien-Fleming boundaries at the looks, the conventional ±1.96 and the required
    information size."""
    looks = seq.get("looks") or []
    ris = float(seq.get("ris_adjusted") or 1.0)
    xmax = max([ris] + [float(lk["n"]) for lk in looks]) * 1.08
    zs = [abs(float(lk["z"])) for lk in looks if is_number(lk.get("z"))]
    bs = [float(lk["bound"]) for lk in looks if is_number(lk.get("bound"))]
    zlim = min(max([4.0, *zs, *bs]), 8.0) * 1.1  # boundaries above 8 are drawn cut off
    width, height = 560.0, 320.0
    left, right, top, bottom = 56.0, 16.0, 14.0, 46.0
    x = _Lin(0.0, xmax, left, width - right)
    y = _Lin(zlim, -zlim, top, height - bottom)

    def cy(v: float) -> float:
        return y(max(-zlim, min(zlim, v)))

    s = Svg()
    s.line(left, y(0), width - right, y(0), stroke="#999", width=0.8)
    for z in (1.959963984540054, -1.959963984540054):
        s.line(left, y(z), width - right, y(z), stroke="#2f6b2f", width=1,
               extra='stroke-dasharray="5 4" class="conventional"')
    s.line(x(ris), top, x(ris), height - bottom, stroke=WARN, width=1.2,
           extra='class="ris-line"')
    s.text(x(ris) - 4, top + 12, "RIS", size=FS - 1, anchor="end", fill=WARN)
    pts = [(x(float(lk["n"])), float(lk["bound"])) for lk in looks if is_number(lk.get("bound"))]
    for sign in (1, -1):
        if pts:
            path = " ".join(f"{px:.1f},{cy(sign * b):.1f}" for px, b in pts)
            s.add(f'<polyline points="{path}" fill="none" stroke="{WARN}" stroke-width="1.6" '
                  'class="boundary"/>')
    zpts = [(x(float(lk["n"])), float(lk["z"])) for lk in looks if is_number(lk.get("z"))]
    if zpts:
        path = f"{x(0):.1f},{y(0):.1f} " + " ".join(f"{px:.1f},{cy(z):.1f}" for px, z in zpts)
        s.add(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="1.8" '
              'class="z-curve"/>')
        for (px, z), lk in zip(zpts, [lk for lk in looks if is_number(lk.get("z"))],
                               strict=True):
            s.add(f'<circle cx="{px:.1f}" cy="{cy(z):.1f}" r="3.2" fill="{ACCENT}" '
                  f'class="z-point"><title>{lk.get("label")}: Z = {fmt_num(z)}</title></circle>')
    s.line(left, height - bottom, width - right, height - bottom, stroke=INK)
    s.line(left, top, left, height - bottom, stroke=INK)
    for t in _ticks(0.0, xmax, 5):
        s.line(x(t), height - bottom, x(t), height - bottom + 4, stroke=INK)
        s.text(x(t), height - bottom + 15, fmt_count(round(t)), size=FS - 1, anchor="middle")
    for t in _ticks(-zlim, zlim, 6):
        s.line(left - 4, y(t), left, y(t), stroke=INK)
        s.text(left - 6, y(t) + 4, fmt_num(t, 1), size=FS - 1, anchor="end")
    s.text((left + width - right) / 2, height - 12, "Participants accrued", size=FS,
           anchor="middle")
    s.text(14, (top + height - bottom) / 2, "Cumulative Z", size=FS, anchor="middle",
           extra=f'transform="rotate(-90 14 {(top + height - bottom) / 2:.1f})"')
    desc = (f"Z curve over {len(looks)} looks; required information size {ris:.0f}; "
            f"boundary crossed: {'yes' if seq.get('crossed') else 'no'}.")
    return Markup(s.render(width, height, title, desc, pid, "robust-svg tsa-svg", inline,
                           min_width=320))


def thinned(rows: Sequence[Any], max_rows: int | None) -> tuple[list[Any], int]:
    """At most about ``max_rows`` of ``rows``: every j-th one and the last, and j (1: all)."""
    if max_rows is None or len(rows) <= max_rows:
        return list(rows), 1
    step = -(-len(rows) // max(1, max_rows))
    kept = list(rows[::step])
    if (len(rows) - 1) % step:
        kept.append(rows[-1])
    return kept, step


def robustness_svg(kind: str, panel: Any, analysis: Mapping[str, Any], *,
                   inline: bool = True, max_rows: int | None = None) -> Markup:
    """One figure of the robustness section: ``kind`` names the plot. The page draws it inline
    (``inline=True``, scales with the page); ``plots/`` keeps it as a standalone file.

    ``max_rows``: the leave-one-out and cumulative plots then draw every j-th row and the last
    (at most about ``max_rows``), and say so under the axis; None draws every row.
    """
    aid = slug(analysis.get("analysis_id"))
    label = analysis.get("outcome_label") or aid
    log = analysis.get("scale") == "log"
    if kind in ("loo", "cumulative"):
        what = "Leave-one-out" if kind == "loo" else "Cumulative meta-analysis"
        shown, step = thinned(panel, max_rows)
        rows = [dict(r, label=(f"without {r['label']}" if kind == "loo" else
                               f"+ {r['label']} ({r.get('version') or r.get('year')})"))
                for r in shown]
        main = next((s for s in analysis.get("subsets") or [] if s["id"] == "main"), None)
        name = "leave-one-out" if kind == "loo" else "cumulative"
        note = "" if step == 1 else (
            f"One row in {step} of {len(panel):,} (and the last) drawn here: "
            f"plots/{name}-{aid}.svg draws every row; results.json has every value.")
        return interval_svg(rows, log=log, title=f"{what}: {label}", pid=f"{kind}-{aid}",
                            pooled=main, kind=kind, inline=inline, note=note)
    if kind == "subsets":
        return interval_svg([s for s in panel if s.get("k")], log=log,
                            title=f"Sensitivity analyses: {label}", pid=f"subsets-{aid}",
                            kind="subsets", inline=inline)
    if kind == "funnel":
        return funnel_svg(panel, title=f"Contour-enhanced funnel plot: {label}",
                          pid=f"funnel-{aid}", inline=inline)
    if kind == "bubble":
        return bubble_svg(panel, title=f"Meta-regression on {panel.get('label')}: {label}",
                          xlabel=str(panel.get("label")),
                          pid=f"bubble-{aid}-{slug(panel.get('moderator'))}", inline=inline)
    if kind == "trajectory":
        return trajectory_svg(panel, log=log, title=f"Effect over time: {label}",
                              pid=f"trajectory-{aid}", inline=inline)
    if kind == "tsa":
        return tsa_svg(panel, title=f"Sequential monitoring: {label}", pid=f"tsa-{aid}", inline=inline)
    raise ValueError(f"unknown robustness figure {kind!r}")

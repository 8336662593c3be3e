"""The report's figures as standalone SVG files, for the build's ``plots/`` download.

Exactly the figures the page draws, each under a stable, readable name and with the same SVG
id as on the page (so a test can match the two); sized in pixels instead of scaling with the
page. Like the page, this only lays out numbers the pipeline put in the context.

Names: ``forest-<analysis id>.svg`` (outcome and safety analyses), ``rob-traffic-light-<assessor>``
and ``rob-summary-<assessor>`` (``-colourblind`` for the second palette), ``prisma.svg``, and per
main analysis of the robustness section ``sensitivity-``, ``leave-one-out-``, ``cumulative-``,
``funnel-``, ``bubble-<analysis>-<moderator>``, ``trajectory-`` and ``tsa-<analysis>.svg``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._page import _with_defaults, drawn_forests
from ._robust import robustness_svg
from ._svg import slug
from .forest import forest_svg
from .prisma import prisma_svg
from .rob import PALETTES, rob_summary_svg, rob_traffic_light_svg

__all__ = ["plot_files"]

#: The RoB palette whose files keep the plain names (the page shows it first).
_FIRST_PALETTE = "cochrane"


def plot_files(context: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every figure of the page as ``(file name, standalone SVG)``, in page order per kind.

    Parameters
    ----------
    context : mapping
        The report context (``results.json``), as :func:`mscreview.report.render` takes it.

    Returns
    -------
    list of (str, str)
        File names are unique; figures the page leaves out (an analysis without data, a
        robustness panel that is not assessable) have no file either.
    """
    ctx = _with_defaults(context)
    files = [(f"forest-{a.get('id')}.svg", forest_svg(a, inline=False))
             for a in drawn_forests(ctx)]
    for i, rob in enumerate(ctx["risk_of_bias"]):
        who = rob.get("assessor_id")
        for palette in PALETTES:
            tail = "" if palette == _FIRST_PALETTE else f"-{palette}"
            files.append((f"rob-traffic-light-{who}{tail}.svg",
                          rob_traffic_light_svg(rob, palette, inline=False, id_prefix=f"rob{i}-tl")))
            files.append((f"rob-summary-{who}{tail}.svg",
                          rob_summary_svg(rob, palette, inline=False, id_prefix=f"rob{i}-sum")))
    if ctx["prisma"]:
        files.append(("prisma.svg", prisma_svg(ctx["prisma"], inline=False)))
    files += [(name, str(robustness_svg(kind, panel, a, inline=False)))
              for name, kind, panel, a in _robustness_figures(ctx)]
    return files


def _robustness_figures(ctx: Mapping[str, Any]
                        ) -> Iterator[tuple[str, str, Any, Mapping[str, Any]]]:
    """``(file name, kind, panel, analysis)`` of each figure of the robustness section, under
    the conditions of ``section_robustness.html.j2``."""
    for a in (ctx.get("robustness") or {}).get("analyses") or []:
        if a.get("status") != "assessed":
            continue
        aid = slug(a.get("analysis_id"))
        if a.get("main"):
            yield f"sensitivity-{aid}.svg", "subsets", a.get("subsets"), a
            yield (f"leave-one-out-{aid}.svg", "loo",
                   (a.get("leave_one_out") or {}).get("rows") or [], a)
            yield f"cumulative-{aid}.svg", "cumulative", (a.get("cumulative") or {}).get("rows"), a
            small = a.get("small_study") or {}
            if small.get("status") == "assessed":
                yield f"funnel-{aid}.svg", "funnel", small, a
        for m in a.get("meta_regression") or []:
            if m.get("status") == "assessed":
                yield f"bubble-{aid}-{slug(m.get('moderator'))}.svg", "bubble", m, a
        trajectory = a.get("trajectory") or {}
        if trajectory.get("status") == "assessed":
            yield f"trajectory-{aid}.svg", "trajectory", trajectory.get("rows"), a
        sequential = a.get("sequential") or {}
        if sequential.get("status") == "assessed":
            yield f"tsa-{aid}.svg", "tsa", sequential, a

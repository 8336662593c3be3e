"""Render the review's report: one self-contained HTML page and its SVG figures.

The pipeline computes every number and hands over a JSON-able context (see
``RESULTS_SPEC.md``); this package only lays it out. Nothing here pools, tests or rounds
before display, so the page and ``reports/results.json`` can never disagree.
"""

from ._files import plot_files
from ._page import load_templates, render
from .forest import forest_svg
from .prisma import prisma_svg
from .rob import rob_summary_svg, rob_traffic_light_svg

__all__ = ["forest_svg", "load_templates", "plot_files", "prisma_svg", "render", "rob_summary_svg",
           "rob_traffic_light_svg"]

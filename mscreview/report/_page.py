"""Assemble the HTML page: pre-render the SVG figures, then fill the jinja2 template.

The template environment autoescapes everything; only the SVG strings built (and escaped)
by this package are marked safe.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, Undefined, select_autoescape
from jinja2.bccache import Bucket
from markupsafe import Markup

from . import _format as f
from ._robust import robustness_svg
from .forest import footnote_letters, forest_svg, heterogeneity_text, overall_effect_text
from .prisma import prisma_svg
from .rob import JUDGEMENTS, PALETTES, normalise_judgement, rob_summary_svg, rob_traffic_light_svg

__all__ = ["SECTIONS", "drawn_forests", "load_templates", "render"]


@dataclass(frozen=True)
class Section:
    """One section of the page: its anchor, its name in the contents and its partial template."""

    id: str
    nav: str
    template: str


#: The page's sections in order; each is one partial ``templates/section_*.html.j2``. A new
#: section is one line here and one template file; numbers and the contents follow from the order.
SECTIONS = [
    Section("summary", "Summary of findings", "section_summary.html.j2"),
    Section("forest-plots", "Forest plots", "section_forest.html.j2"),
    Section("robustness", "Robustness and monitoring", "section_robustness.html.j2"),
    Section("safety", "Safety", "section_safety.html.j2"),
    Section("published-vs-repooled", "Published vs re-pooled", "section_published.html.j2"),
    Section("audit", "Audit of published results", "section_audit.html.j2"),
    Section("source-verification", "Source verification", "section_sources.html.j2"),
    Section("studies", "Included studies", "section_studies.html.j2"),
    Section("risk-of-bias", "Risk of bias", "section_rob.html.j2"),
    Section("prisma", "PRISMA flow", "section_prisma.html.j2"),
    Section("changes", "What\u2019s new", "section_changes.html.j2"),
    Section("downloads", "Downloads", "section_downloads.html.j2"),
]


def _estimate(value: Any, decimals: int = 2) -> str:
    """Format ``{estimate, ci_low, ci_high}`` (or a bare number/string) as ``e [l, h]``."""
    if isinstance(value, Mapping):
        est = f.fmt_effect(value.get("estimate"), decimals)
        ci = f.fmt_ci(value.get("ci_low"), value.get("ci_high"), decimals)
        return f"{est} {ci}".strip()
    if f.is_number(value):
        return f.fmt_effect(value, decimals)
    return "\u2014" if value is None or isinstance(value, Undefined) else str(value)


def _p(value: Any) -> str:
    return f.fmt_p(value)


def _yesno(value: Any) -> str:
    if isinstance(value, Undefined):
        value = None
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "\u2014" if value in (None, "") else str(value)


def _text(value: Any) -> str:
    """Display a cell value; missing values become a dash."""
    if value is None or value == "" or isinstance(value, Undefined):
        return "\u2014"
    if isinstance(value, float):
        return f.fmt_plain(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "\u2014"
    return str(value)


def _finalize(value: Any) -> Any:
    """Every ``{{ ... }}`` passes here: a missing value shows as a dash, never ``None`` or ``nan``;
    a float without binary noise."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f.DASH
    if isinstance(value, float):  # a raw float: as recorded, never 2.8000000000000003
        return f.fmt_plain(value)
    return value


def _missing_safe(name: str, standard: Any) -> Any:
    """Jinja's own ``name`` filter, except that a missing value (None, NaN) gives a dash."""
    passes = getattr(standard, "jinja_pass_arg", None)  # join wants the eval context first

    def apply(*args: Any, **kwargs: Any) -> Any:
        head, (value, *rest) = (args[:1], args[1:]) if passes else ((), args)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return f.DASH
        if name == "join":  # the items too: ["a", None] -> "a, —"
            value = [_finalize(v) for v in value]
        return standard(*head, value, *rest, **kwargs)

    apply.__name__ = name
    if passes is not None:
        apply.jinja_pass_arg = passes  # type: ignore[attr-defined]
    return apply


#: String filters that would print Python's ``None`` for a missing value.
_MISSING_SAFE = ("join", "replace", "lower", "upper", "capitalize", "title", "trim")


class _CompiledTemplates(FileSystemBytecodeCache):
    """Compiled templates kept beside the package's own bytecode, ``report/__pycache__/``.

    Compiling the templates costs about 0.4 s, a third of a whole build of the shipped package;
    a kept compilation loads in milliseconds. A kept one is used only when its template's source
    *and* :func:`_fingerprint` (Jinja's version, the environment's syntax options and filters,
    this module's source) are unchanged; otherwise it is compiled again and replaced (written to
    a temporary file and renamed, as Python writes ``.pyc`` files). An unreadable or foreign file
    is compiled again; a folder that cannot be written (a read-only install, or
    ``PYTHONDONTWRITEBYTECODE``) only means compiling each time.
    """

    def __init__(self, directory: Path, fingerprint: str) -> None:
        super().__init__(str(directory), "jinja2-%s.cache")
        self.fingerprint = fingerprint

    def get_source_checksum(self, source: str) -> str:
        return super().get_source_checksum(self.fingerprint + "\0" + source)

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # truncated or foreign: compiled again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        if sys.dont_write_bytecode:
            return
        try:
            super().dump_bytecode(bucket)
        except OSError:  # read-only or full: the next run compiles again
            pass


def _fingerprint(env: Environment) -> str:
    """What a compiled template depends on besides its source (see :class:`_CompiledTemplates`):
    Jinja's version, the syntax options, which filters and tests take a context (decided when
    compiling), and this module, which configures the environment."""
    def passes(functions: Mapping[str, Any]) -> list[tuple[str, str]]:
        return sorted((name, repr(getattr(fn, "jinja_pass_arg", None)))
                      for name, fn in functions.items())

    settings = (jinja2.__version__, env.block_start_string, env.block_end_string,
                env.variable_start_string, env.variable_end_string, env.comment_start_string,
                env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
                env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
                env.keep_trailing_newline, env.optimized, passes(env.filters), passes(env.tests),
                passes({"finalize": env.finalize}))
    return hashlib.sha256(repr(settings).encode() + Path(__file__).read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mscreview.report", "templates"),
        finalize=_finalize,
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "html.j2"),
                                     default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        effect=f.fmt_effect, ci=f.fmt_ci, p=_p, weight=f.fmt_weight, i2=f.fmt_i2,
        count=f.fmt_count, num=f.fmt_num, estimate=_estimate, yesno=_yesno, text=_text,
        measure_name=f.measure_name, judgement=normalise_judgement, words=f.fmt_words,
    )
    env.filters.update({name: _missing_safe(name, env.filters[name]) for name in _MISSING_SAFE})
    env.globals.update(
        heterogeneity_text=heterogeneity_text, overall_effect_text=overall_effect_text,
        footnote_letters=footnote_letters, is_number=f.is_number, JUDGEMENTS=JUDGEMENTS,
        robustness_svg=partial(robustness_svg, max_rows=PAGE_FOREST_ROWS),
        page_rows=PAGE_FOREST_ROWS,
    )
    folder = Path(__file__).resolve().parent / "__pycache__"
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return env
    env.bytecode_cache = _CompiledTemplates(folder, _fingerprint(env))
    return env


def _with_defaults(context: Mapping[str, Any]) -> dict[str, Any]:
    """Fill optional top-level keys so the template can rely on their presence."""
    ctx: dict[str, Any] = dict(context)
    for key in ("summary", "analyses", "published_vs_repooled", "discrepancies", "studies",
                "adverse_events", "dichotomous", "downloads"):
        ctx[key] = list(ctx.get(key) or [])
    for key in ("analysis_overview", "published_overview", "discrepancy_overview",
                "adverse_events_overview", "dichotomous_overview"):
        ctx[key] = dict(ctx.get(key) or {})
    for key in ("title", "data_version", "data_hash", "built_at", "rebuild_command", "citation"):
        ctx.setdefault(key, None)
    rob = ctx.get("risk_of_bias")
    if isinstance(rob, Mapping):
        ctx["risk_of_bias"] = [rob]
    else:
        ctx["risk_of_bias"] = [r for r in (rob or []) if isinstance(r, Mapping)]
    ctx["prisma"] = ctx.get("prisma") or None
    changes = dict(ctx.get("changes") or {})
    changes.setdefault("previous_version", None)
    changes["first_version"] = bool(changes.get("first_version")) or not changes.get(
        "previous_version")
    for key in ("trials_added", "values_changed", "estimates_moved"):
        changes[key] = list(changes.get(key) or [])
    ctx["changes"] = changes
    return ctx


#: Study rows a forest plot on the page draws at most; the rest are counted in a row that
#: points to the plot file (every row) and results.json (every value). A page of 5,000 trials
#: otherwise drew ~50 forest plots of 5,000 rows each (over 100 MB of HTML). The leave-one-out
#: and cumulative plots and tables of the robustness section show about as many rows.
PAGE_FOREST_ROWS = 200


def drawn_forests(ctx: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The analyses the page draws a forest plot of: those with data (every analysis of a
    hand-made context without an overview) and the safety events' analyses with data."""
    out = [a for a in ctx["analyses"]
           if a.get("status") != "no_data" or "without_data" not in ctx["analysis_overview"]]
    out += [a for e in (ctx.get("safety") or {}).get("events") or []
            for a in e.get("analyses") or [] if a.get("status") != "no_data"]
    return out


def load_templates() -> None:
    """Compile (or load the kept compilation of) every template of the page, ahead of
    :func:`render`: the build calls it in a thread while DuckDB validates the package."""
    env = _environment()
    for name in env.list_templates(filter_func=lambda name: name.endswith(".j2")):
        env.get_template(name)


def render(context: Mapping[str, Any]) -> str:
    """Render the report context (``RESULTS_SPEC.md``) as one self-contained HTML page.

    Parameters
    ----------
    context : mapping
        The JSON-able dict the pipeline writes as ``reports/results.json``.

    Returns
    -------
    str
        The HTML document: inline CSS and SVG, no scripts, no external resources.
    """
    ctx = _with_defaults(context)
    forests = {str(a.get("id")): Markup(forest_svg(a, max_rows=PAGE_FOREST_ROWS))
               for a in drawn_forests(ctx)}
    rob_figures = []
    for i, rob in enumerate(ctx["risk_of_bias"]):
        rob_figures.append({
            "rob": rob,
            "n": i,
            "svgs": {
                palette: {
                    "traffic": Markup(rob_traffic_light_svg(rob, palette, id_prefix=f"rob{i}-tl")),
                    "summary": Markup(rob_summary_svg(rob, palette, id_prefix=f"rob{i}-sum")),
                } for palette in PALETTES
            },
        })
    prisma = Markup(prisma_svg(ctx["prisma"])) if ctx["prisma"] else None
    template = _environment().get_template("report.html.j2")
    sections = [{"id": s.id, "nav": s.nav, "template": s.template, "number": i}
                for i, s in enumerate(SECTIONS, start=1)]
    analyses_by_id = {str(a.get("id")): a for a in ctx["analyses"]}
    return template.render(ctx=ctx, forests=forests, analyses_by_id=analyses_by_id,
                           rob_figures=rob_figures, prisma_figure=prisma, sections=sections)

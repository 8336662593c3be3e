"""The ``mscreview pool`` verb: read one analysis from a CSV file, pool it, print JSON or a table.

Reading and checking the CSV happens here (the csv module; no statistics); the numbers come from
:mod:`mscreview.stats`. Every bad input raises :class:`~mscreview.errors.InputError` naming the
file, the physical line (header = 1) and the column.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from mscreview.errors import InputError, UsageError
from mscreview.stats import (
    EffectSet,
    PoolResult,
    StatsError,
    SubgroupAnalysis,
    analyse_subgroups,
    continuous_effects,
    dichotomous_effects,
    generic_effects,
    pool,
    pool_mh,
    pool_peto,
)

__all__ = ["PoolRun", "format_pool_json", "format_pool_table", "run_pool"]

CONTINUOUS = ("MD", "SMD", "SMD_EXACT")
DICHOTOMOUS = ("RR", "OR", "RD", "PETO")

COLUMNS = {
    "continuous": ("study", "n1", "mean1", "sd1", "n2", "mean2", "sd2"),
    "dichotomous": ("study", "events1", "n1", "events2", "n2"),
    "generic": ("study", "estimate", "se"),
}
#: Generic input may give a 95% CI instead of the SE, and a hazard ratio column instead of the
#: estimate (a ratio: log-transformed with its CI, as ``generic_effects(log_scale=True)``).
GENERIC_OPTIONAL = ("se", "ci_low", "ci_high")
RATIO_COLUMNS = {"hr": "HR", "rr": "RR", "or": "OR"}
#: Columns that must hold whole numbers >= 1 (n) or >= 0 (events), or be >= 0 (sd, se).
COUNT_COLUMNS = frozenset({"n1", "n2"})
EVENT_COLUMNS = frozenset({"events1", "events2"})
NONNEGATIVE_COLUMNS = frozenset({"sd1", "sd2", "se"})
#: Columns of ratios (and their CI limits when the input is on the ratio scale): must be > 0.
POSITIVE_COLUMNS = frozenset({"hr", "rr", "or"})

MEASURE_NAMES = {
    "MD": "Mean Difference",
    "SMD": "Std. Mean Difference",
    "SMD_EXACT": "Std. Mean Difference (exact g)",
    "RR": "Risk Ratio",
    "OR": "Odds Ratio",
    "RD": "Risk Difference",
    "PETO": "Peto Odds Ratio",
    "GIV": "Estimate",
    "HR": "Hazard Ratio",
    "RATIO": "Ratio",
}


@dataclass(frozen=True)
class PoolRun:
    """What ``run_pool`` returns: the pooled result plus what the table needs to show."""

    source: str
    kind: str
    result: PoolResult
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    subgroups: SubgroupAnalysis | None = None
    by: str | None = None
    #: --sensitivity, --funnel and --mods results (see :func:`_robustness`), JSON-able.
    extras: dict[str, object] = field(default_factory=dict)


def _kind(measure: str) -> str:
    if measure in CONTINUOUS:
        return "continuous"
    if measure in DICHOTOMOUS:
        return "dichotomous"
    if measure == "GIV":
        return "generic"
    raise UsageError(f"unknown measure {measure!r}")


def _number(text: str, source: str, line: int, column: str) -> float:
    """Parse one numeric cell; empty means missing (NaN), anything unparsable is an error."""
    text = text.strip()
    if text == "" or text.upper() in ("NA", "NAN"):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"{source}, line {line}, column {column!r}: {text!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise InputError(f"{source}, line {line}, column {column!r}: {text!r} is not finite")
    where = f"{source}, line {line}, column {column!r}"
    if column in COUNT_COLUMNS | EVENT_COLUMNS and value != int(value):
        raise InputError(f"{where}: {text} is not a whole number")
    if column in COUNT_COLUMNS and value < 1:
        raise InputError(f"{where}: n = {text} is below 1")
    if column in EVENT_COLUMNS and value < 0:
        raise InputError(f"{where}: events = {text} is negative")
    if column in NONNEGATIVE_COLUMNS and value < 0:
        raise InputError(f"{where}: {column} = {text} is negative")
    if column in POSITIVE_COLUMNS and value <= 0:
        raise InputError(f"{where}: {column} = {text} is not a ratio above 0")
    return value


def _generic_columns(header: list[str], source: str, log: bool) -> tuple[str, ...]:
    """Columns of a generic (GIV) file: an estimate (or hr/rr/or) and an SE or a 95% CI."""
    est = next((c for c in ("estimate", *RATIO_COLUMNS) if c in header), None)
    if est is None:
        raise InputError(f"{source}, line 1, column 'estimate': missing column (or give hr, rr "
                         "or or for ratios)")
    if "se" in header:
        disp: tuple[str, ...] = ("se",)
    elif "ci_low" in header and "ci_high" in header:
        disp = ("ci_low", "ci_high")
    else:
        raise InputError(f"{source}, line 1, column 'se': missing column (or give ci_low and "
                         "ci_high)")
    if est in RATIO_COLUMNS and "se" in disp:
        raise InputError(f"{source}, line 1, column 'se': a ratio column ({est}) needs its 95% "
                         "CI (ci_low, ci_high); an SE is on the log scale: give it with "
                         "'estimate' = ln ratio")
    del log
    return ("study", est, *disp)


def _read(
    path: Path, kind: str, by: str | None, log: bool = False
) -> tuple[list[str], list[dict[str, float]], list[str]]:
    """Read and check the CSV; returns study names, numeric rows and subgroup labels."""
    source = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{source}: file not found") from None
    except OSError as err:
        raise InputError(f"{source}: cannot read ({err.strerror})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"{source}: empty file (no header row)") from None
        except (csv.Error, UnicodeDecodeError) as err:
            raise InputError(f"{source}, line 1: cannot parse ({err})") from None
        header = [h.strip() for h in header]
        columns = _generic_columns(header, source, log) if kind == "generic" else COLUMNS[kind]
        needed = columns + ((by,) if by else ())
        for col in needed:
            if col not in header:
                raise InputError(f"{source}, line 1, column {col!r}: missing column")
        index = {col: header.index(col) for col in needed}
        studies: list[str] = []
        rows: list[dict[str, float]] = []
        labels: list[str] = []
        first_line: dict[str, int] = {}
        try:
            for cells in reader:
                line = reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) < len(header):
                    cells = cells + [""] * (len(header) - len(cells))
                study = cells[index["study"]].strip()
                if not study:
                    raise InputError(f"{source}, line {line}, column 'study': empty study name")
                if study in first_line:
                    raise InputError(
                        f"{source}, line {line}, column 'study': {study!r} already on line "
                        f"{first_line[study]} (a study may enter a pool once)"
                    )
                first_line[study] = line
                row = {
                    col: _number(cells[index[col]], source, line, col)
                    for col in columns[1:]
                }
                if kind == "dichotomous":
                    for arm in ("1", "2"):
                        ev, n = row["events" + arm], row["n" + arm]
                        if ev > n:
                            raise InputError(
                                f"{source}, line {line}, column 'events{arm}': "
                                f"events ({ev:g}) exceed n{arm} ({n:g})"
                            )
                studies.append(study)
                rows.append(row)
                if by:
                    labels.append(cells[index[by]].strip() or "(blank)")
        except (csv.Error, UnicodeDecodeError) as err:
            raise InputError(f"{source}, line {reader.line_num}: cannot parse ({err})") from None
    if not rows:
        raise InputError(f"{source}, line 2: no data rows")
    return studies, rows, labels


def _effects(
    kind: str, measure: str, studies: list[str], rows: list[dict[str, float]], log: bool = False
) -> EffectSet:
    if kind == "generic":
        return _generic(studies, rows, log)
    col = {c: [r[c] for r in rows] for c in COLUMNS[kind][1:]}
    if kind == "continuous":
        return continuous_effects(
            col["n1"], col["mean1"], col["sd1"], col["n2"], col["mean2"], col["sd2"],
            measure=measure, study=studies,
        )
    if kind == "dichotomous":
        return dichotomous_effects(
            col["events1"], col["n1"], col["events2"], col["n2"], measure=measure, study=studies
        )
    raise AssertionError(kind)  # pragma: no cover


def _generic(studies: list[str], rows: list[dict[str, float]], log: bool) -> EffectSet:
    """GIV input: an estimate with its SE or 95% CI; a ratio (``--log`` or an hr/rr/or column)
    is log-transformed with its CI, and the result is shown on the ratio scale."""
    ratio_col = next((c for c in RATIO_COLUMNS if c in rows[0]), None)
    est = [r[ratio_col or "estimate"] for r in rows]
    log = log or ratio_col is not None
    measure = RATIO_COLUMNS[ratio_col] if ratio_col else ("RATIO" if log else "GIV")
    se = [r["se"] for r in rows] if "se" in rows[0] else None
    lo = [r["ci_low"] for r in rows] if "ci_low" in rows[0] else None
    hi = [r["ci_high"] for r in rows] if "ci_high" in rows[0] else None
    if log and se is not None:  # SE of ln ratio with the ratio itself: transform the estimate
        est = [math.log(x) if x > 0 else math.nan for x in est]
        return generic_effects(est, se, study=studies, measure=measure)
    return generic_effects(est, se, ci_low=lo, ci_high=hi, study=studies, measure=measure,
                           log_scale=log)


def _pooler(kind: str, measure: str, model: str, tau2_method: str, hksj: bool
            ) -> Callable[[EffectSet], PoolResult]:
    if measure == "PETO":
        if model != "fixed":
            raise UsageError("PETO is a fixed-effect method: use --model fixed")
        return pool_peto
    if kind == "dichotomous":
        return partial(pool_mh, model=model, tau2_method=tau2_method, hksj=hksj)
    return partial(pool, model=model, tau2_method=tau2_method, hksj=hksj)


def run_pool(
    path: str | Path,
    *,
    measure: str,
    model: str = "random",
    tau2_method: str = "DL",
    hksj: bool = False,
    by: str | None = None,
    log: bool = False,
    sensitivity: bool = False,
    funnel: bool = False,
    mods: Sequence[str] = (),
    tau2_ci: bool = False,
) -> PoolRun:
    """Read ``path`` and pool it.

    Continuous measures (MD, SMD, SMD_EXACT) need ``study,n1,mean1,sd1,n2,mean2,sd2``;
    dichotomous (RR, OR, RD: Mantel-Haenszel; PETO) ``study,events1,n1,events2,n2``; GIV
    ``study,estimate,se`` on the analysis scale, or ``ci_low,ci_high`` instead of ``se``
    (SE = width / (2 x 1.96)). Ratios: with ``log`` the estimate (and its CI) are ratios, pooled
    on the log scale and shown as ratios (with ``se``, the SE of the log ratio); a column
    ``hr`` (or ``rr``, ``or``) with ``ci_low,ci_high`` does the same and names the measure.
    Extra columns are allowed; ``by`` names the
    column defining subgroups. An empty cell is a missing value: the study is excluded with the
    reason (never silently).

    ``sensitivity`` adds leave-one-out, cumulative meta-analysis (ordered by a ``year`` column
    when there is one, else by row) and influence diagnostics; ``funnel`` the funnel-plot
    coordinates, Egger's test and trim-and-fill (k >= 10); ``mods`` a meta-regression (REML,
    Knapp-Hartung) on each named column alone (numbers: continuous; anything else: a factor);
    ``tau2_ci`` the Q-profile CI of tau^2 and I^2.

    Raises
    ------
    InputError
        Missing file or column, non-numeric cell, n < 1, negative SD/SE or events, events > n,
        a study listed twice, no data rows.
    UsageError
        An impossible option combination (PETO with the random model).
    """
    measure = measure.upper()
    kind = _kind(measure)
    path = Path(path)
    pool_fn = _pooler(kind, measure, model, tau2_method, hksj)
    if log and kind != "generic":
        raise UsageError("--log applies to --measure GIV (estimates given as ratios)")
    studies, rows, labels = _read(path, kind, by, log)
    extra_columns = _extra_columns(path, studies, [*mods, "year"] if sensitivity else list(mods))
    try:
        effects = _effects(kind, measure, studies, rows, log)
        if by:
            label_of = dict(zip(studies, labels, strict=True))
            analysis = analyse_subgroups(effects, [label_of[s] for s in effects.study], pool_fn)
            result = analysis.overall
        else:
            analysis = None
            result = pool_fn(effects)
        if tau2_ci:
            result = _with_tau2_ci(result, effects, model, tau2_method)
        extras = _robustness(effects, pool_fn, model, tau2_method, sensitivity, funnel, mods,
                             extra_columns)
    except StatsError as err:
        raise InputError(f"{path}: {err}") from None
    return PoolRun(
        source=str(path), kind=kind, result=result,
        rows=dict(zip(studies, rows, strict=True)), subgroups=analysis, by=by, extras=extras,
    )


def _extra_columns(path: Path, studies: list[str], columns: Sequence[str]
                   ) -> dict[str, dict[str, str]]:
    """Raw cells of ``columns`` per study (``year`` may be absent; a moderator may not)."""
    if not columns:
        return {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        for col in columns:
            if col not in header and col != "year":
                raise InputError(f"{path}, line 1, column {col!r}: missing column (named by "
                                 "--mods)")
        raw = {name.strip(): name for name in reader.fieldnames or []}
        out: dict[str, dict[str, str]] = {c: {} for c in columns if c in header}
        wanted = set(studies)
        for row in reader:
            study = (row.get(raw["study"]) or "").strip()
            if study in wanted:
                for c in out:
                    out[c][study] = (row.get(raw[c]) or "").strip()
    return out


def _with_tau2_ci(result: PoolResult, effects: EffectSet, model: str, tau2_method: str
                  ) -> PoolResult:
    """The Q-profile CI of tau^2 and I^2 (inverse-variance effects, as metafor ``confint``)."""
    if result.k < 2:
        return result
    iv = pool(effects, model="random", tau2_method=tau2_method, tau2_ci=True)
    notes = result.notes
    if result.method != "IV":
        notes = (*notes, "tau² and I² intervals: Q-profile on the inverse-variance effects")
    return replace(result, tau2_ci=iv.tau2_ci, i2_ci=iv.i2_ci, notes=notes)


def _summ(r: PoolResult) -> dict[str, object]:
    return {"k": r.k, "estimate": _num(r.estimate), "ci_low": _num(r.ci_low),
            "ci_high": _num(r.ci_high), "p": _num(r.p), "tau2": _num(r.tau2), "i2": _num(r.i2)}


def _robustness(effects: EffectSet, pool_fn: Callable[[EffectSet], PoolResult], model: str,
                tau2_method: str, sensitivity: bool, funnel: bool, mods: Sequence[str],
                columns: dict[str, dict[str, str]]) -> dict[str, object]:
    """Sensitivity, small-study and meta-regression results for ``run_pool`` (JSON-able)."""
    import numpy as np

    from mscreview.stats import (
        cumulative,
        egger_test,
        influence,
        leave_one_out,
        meta_regression,
        trim_and_fill,
    )

    out: dict[str, object] = {}
    tm = tau2_method if model == "random" else "DL"
    if sensitivity:
        years = columns.get("year")
        order = None
        by = "row order"
        if years and all(_is_number(years.get(s, "")) for s in effects.study):
            order = [float(years[s]) for s in effects.study]
            by = "year"
        out["leave_one_out"] = [{"omitted": s, **_summ(r)}
                                for s, r in leave_one_out(effects, pool_fn)]
        out["cumulative"] = {"by": by, "steps": [{"added": s, **_summ(r)}
                                                 for s, r in cumulative(effects, pool_fn, order)]}
        if effects.k >= 3:
            inf = influence(effects, model=model, tau2_method=tm)
            out["influence"] = [
                {"study": s, "rstudent": _num(inf.rstudent[i]), "dffits": _num(inf.dffits[i]),
                 "cook_d": _num(inf.cook_d[i]), "cov_r": _num(inf.cov_r[i]),
                 "tau2_del": _num(inf.tau2_del[i]), "qe_del": _num(inf.qe_del[i]),
                 "hat": _num(inf.hat[i]), "weight": _num(inf.weight[i]),
                 "dfbetas": _num(inf.dfbetas[i]), "influential": inf.influential[i]}
                for i, s in enumerate(inf.study)]
        else:
            out["influence"] = f"not assessable (k = {effects.k} < 3)"
    if funnel:
        if effects.k < 10:
            out["funnel"] = f"not assessable (k < 10; k = {effects.k})"
        else:
            eg = egger_test(effects)
            tf = trim_and_fill(effects, model=model, tau2_method=tm)
            out["funnel"] = {
                "studies": [{"study": s, "yi": float(y), "sei": math.sqrt(v)}
                            for s, y, v in zip(effects.study, effects.yi, effects.vi,
                                               strict=True)],
                "egger": {"intercept": eg.intercept, "se": eg.se, "t": eg.t, "df": eg.df,
                          "p": eg.p},
                "trim_and_fill": {"k0": tf.k0, "side": tf.side, **_summ(tf.result),
                                  "filled": [{"yi": y, "sei": math.sqrt(v)} for y, v in
                                             zip(tf.filled_yi, tf.filled_vi, strict=True)]},
            }
    regs = []
    for name in mods:
        cells = columns[name]
        keep = [bool(cells.get(s, "")) for s in effects.study]
        sub = effects.subset(np.asarray(keep, dtype=bool))
        vals = [cells[s] for s in sub.study]
        entry: dict[str, object] = {
            "moderator": name, "left_out": [s for s, k in zip(effects.study, keep,
                                                               strict=True) if not k]}
        if all(_is_number(v) for v in vals):
            x = np.asarray([float(v) for v in vals])[:, None]
            names = [name]
            entry["kind"] = "continuous"
        else:
            levels = sorted(set(vals))
            x = np.asarray([[1.0 if v == lev else 0.0 for lev in levels[1:]] for v in vals])
            names = [f"{name}={lev}" for lev in levels[1:]]
            entry.update(kind="factor", reference=levels[0] if levels else None)
        try:
            if x.ndim != 2 or x.shape[1] == 0:
                raise StatsError(f"{name} takes one value only")
            fit = meta_regression(sub.yi, sub.vi, x, names=names, method="REML", knha=True)
        except StatsError as err:
            entry["not_assessable"] = str(err)
            regs.append(entry)
            continue
        entry.update(
            k=fit.k, method="REML", test="knha", df=fit.df,
            exploratory=fit.k / (fit.p - 1) < 10,
            coefficients=[{"name": n, "estimate": c, "se": se, "t": t, "p": pv, "ci_low": lo,
                           "ci_high": hi} for n, c, se, t, pv, lo, hi in zip(
                fit.names, fit.coef, fit.se, fit.stat, fit.p_values, fit.ci_low, fit.ci_high,
                strict=True)],
            tau2=fit.tau2, r2=_num(fit.r2), i2=fit.i2, qm=fit.qm, qm_df=list(fit.qm_df),
            qm_p=fit.qm_p, qe=fit.qe, qe_df=fit.qe_df, qe_p=fit.qe_p)
        regs.append(entry)
    if mods:
        out["meta_regression"] = regs
    return out


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# -------------------------------------------------------------------------------------------
# JSON
# -------------------------------------------------------------------------------------------


def _num(x: float | int | None) -> float | int | None:
    if x is None:
        return None
    if isinstance(x, int):
        return x
    return float(x) if math.isfinite(x) else None


def _result_dict(r: PoolResult) -> dict[str, object]:
    return {
        "k": r.k,
        "measure": r.measure,
        "model": r.model,
        "tau2_method": r.tau2_method,
        "estimate": _num(r.estimate),
        "se": _num(r.se),
        "ci_low": _num(r.ci_low),
        "ci_high": _num(r.ci_high),
        "z": _num(r.z),
        "p": _num(r.p),
        "q": _num(r.q),
        "q_df": r.q_df,
        "q_p": _num(r.q_p),
        "i2": _num(r.i2),
        "tau2": _num(r.tau2),
        "pi_low": _num(r.pi_low),
        "pi_high": _num(r.pi_high),
        "hksj": r.hksj,
        "test_df": _num(r.test_df),
        "tau2_ci": None if r.tau2_ci is None else [_num(x) for x in r.tau2_ci],
        "i2_ci": None if r.i2_ci is None else [_num(x) for x in r.i2_ci],
        "studies": [
            {"study": s.study, "yi": _num(s.yi), "vi": _num(s.vi), "weight": _num(s.weight)}
            for s in r.studies
        ],
        "excluded": [{"study": e.study, "reason": e.reason} for e in r.excluded],
        "notes": list(r.notes),
    }


def format_pool_json(run: PoolRun) -> str:
    """JSON of the result; numbers unrounded, NaN (not applicable) as null."""
    out = _result_dict(run.result)
    if run.subgroups is not None:
        sa = run.subgroups
        out["subgroups"] = [
            {"name": name, **_result_dict(res)}
            for name, res in zip(sa.names, sa.subgroups, strict=True)
        ]
        out["subgroup_test"] = {
            "q": _num(sa.test.q), "df": sa.test.df, "p": _num(sa.test.p), "i2": _num(sa.test.i2)
        }
    out.update(run.extras)
    return json.dumps(out, indent=2, allow_nan=False)


# -------------------------------------------------------------------------------------------
# Table (RevMan 5 analysis layout)
# -------------------------------------------------------------------------------------------


def _p(p: float) -> str:
    """RevMan-style P: two decimals, one significant digit below 0.01, '< 0.00001' at the floor."""
    if not math.isfinite(p):
        return "P = n/a"
    if p < 0.00001:
        return "P < 0.00001"
    if p >= 0.01:
        return f"P = {p:.2f}"
    return f"P = {p:.1g}" if p >= 0.0001 else f"P = {p:.5f}"


def _effect(est: float, lo: float, hi: float) -> str:
    if not math.isfinite(est):
        return "Not estimable"
    return f"{est:.2f} [{lo:.2f}, {hi:.2f}]"


def _g(x: float) -> str:
    return "" if not math.isfinite(x) else f"{x:g}"


def _method_label(r: PoolResult) -> str:
    method = {"IV": "IV", "MH": "M-H", "PETO": "Peto"}[r.method]
    model = "Fixed" if r.model == "fixed" else "Random"
    return f"{method}, {model}, 95% CI"


def _heterogeneity(r: PoolResult) -> str:
    if r.k < 2:
        return "Heterogeneity: Not applicable"
    tau = f"Tau\u00b2 = {r.tau2:.2f}; " if r.model == "random" else ""
    return (
        f"Heterogeneity: {tau}Chi\u00b2 = {r.q:.2f}, df = {r.q_df} ({_p(r.q_p)}); "
        f"I\u00b2 = {r.i2:.0f}%"
    )


def _overall_test(r: PoolResult) -> str:
    if r.k == 0:
        return "Test for overall effect: Not applicable"
    if r.test_df is not None:
        return f"Test for overall effect: T = {abs(r.z):.2f}, df = {r.test_df:g} ({_p(r.p)})"
    return f"Test for overall effect: Z = {abs(r.z):.2f} ({_p(r.p)})"


_ARM_COLS = {
    "continuous": (("Mean", "mean"), ("SD", "sd"), ("Total", "n")),
    "dichotomous": (("Events", "events"), ("Total", "n")),
}


def _block(
    run: PoolRun, r: PoolResult, total_label: str, width: int, show_studies: bool = True,
    weights: dict[str, float] | None = None,
) -> list[str]:
    """One RevMan block: study rows, the (sub)total, heterogeneity and overall-effect lines.

    ``weights`` are the percentages to print (RevMan prints every study's weight in the overall
    analysis, and a subtotal as the sum of its studies'); default: ``r``'s own weights.
    """
    weights = weights or {s.study: s.weight for s in r.studies}
    lines = []
    arms = _ARM_COLS.get(run.kind)
    for s in r.studies if show_studies else ():
        row = run.rows.get(s.study, {})
        if arms:
            cells = [_g(row.get(key + arm, math.nan)) for arm in ("1", "2") for _, key in arms]
        else:
            cells = [_g(s.yi), _g(math.sqrt(s.vi))]
        lines.append(
            f"{s.study:<{width}}" + "".join(f"{c:>9}" for c in cells)
            + f"{weights[s.study]:>8.1f}%   {_effect(s.effect, s.ci_low, s.ci_high)}"
        )
    for e in r.excluded if show_studies else ():
        lines.append(f"{e.study:<{width}}  Not estimable: {e.reason}")
    if arms:
        tot = {arm: sum(run.rows[s.study]["n" + arm] for s in r.studies) for arm in ("1", "2")}
        cells = []
        for arm in ("1", "2"):
            cells += [""] * (len(arms) - 1) + [f"{tot[arm]:g}"]
    else:
        cells = ["", ""]
    share = sum(weights[s.study] for s in r.studies)
    weight = f"{share:>8.1f}%" if r.k else f"{'':>9}"
    lines.append(
        f"{total_label:<{width}}" + "".join(f"{c:>9}" for c in cells)
        + f"{weight}   {_effect(r.estimate, r.ci_low, r.ci_high)}"
    )
    if run.kind == "dichotomous":
        ev = [f"{sum(run.rows[s.study]['events' + a] for s in r.studies):g}" for a in ("1", "2")]
        lines.append(f"{'Total events':<{width}}{ev[0]:>9}{'':>9}{ev[1]:>9}")
    lines.append(_heterogeneity(r))
    lines.append(_overall_test(r))
    if r.model == "random" and math.isfinite(r.pi_low):
        lines.append(f"Prediction interval: [{r.pi_low:.2f}, {r.pi_high:.2f}]")
    return lines


def format_pool_table(run: PoolRun) -> str:
    """Text table laid out like RevMan 5's analysis: arms, weight, effect [95% CI], totals."""
    r = run.result
    names = [s for s in run.rows] + ["Total (95% CI)", "Subtotal (95% CI)", "Study or Subgroup"]
    width = max(len(n) for n in names) + 2
    arms = _ARM_COLS.get(run.kind)
    if arms:
        group_w = 9 * len(arms)
        head1 = f"{'':<{width}}{'Experimental':>{group_w}}{'Control':>{group_w}}"
        head2 = f"{'Study or Subgroup':<{width}}" + "".join(
            f"{h:>9}" for h in [lab for lab, _ in arms] * 2
        )
    else:
        head1 = ""
        est = "ln ratio" if r.ratio else "Estimate"  # GIV rows show yi and its SE
        head2 = f"{'Study or Subgroup':<{width}}{est:>9}{'SE':>9}"
    head1 += f"{'':>9}   {MEASURE_NAMES[r.measure]}"
    head2 += f"{'Weight':>9}   {_method_label(r)}"
    lines = [f"{MEASURE_NAMES[r.measure]} ({_method_label(r)}): {run.source}", head1, head2]
    if run.subgroups is None:
        lines += _block(run, r, "Total (95% CI)", width)
    else:
        sa = run.subgroups
        for i, (name, res) in enumerate(zip(sa.names, sa.subgroups, strict=True), 1):
            lines.append(f"{i}. {run.by} = {name}")
            lines += _block(run, res, "Subtotal (95% CI)", width,
                            weights={s.study: s.weight for s in r.studies})
            lines.append("")
        lines += _block(run, r, "Total (95% CI)", width, show_studies=False)
        t = sa.test
        if t.df >= 1:
            lines.append(
                f"Test for subgroup differences: Chi\u00b2 = {t.q:.2f}, df = {t.df} ({_p(t.p)}), "
                f"I\u00b2 = {t.i2:.0f}%"
            )
        else:
            lines.append("Test for subgroup differences: Not applicable")
    if r.tau2_ci is not None and r.i2_ci is not None:
        lines.append(f"Tau\u00b2 95% CI (Q-profile): [{r.tau2_ci[0]:.4g}, {r.tau2_ci[1]:.4g}]; "
                     f"I\u00b2 95% CI: [{r.i2_ci[0]:.0f}%, {r.i2_ci[1]:.0f}%]")
    for note in r.notes:
        lines.append(f"Note: {note}")
    lines += _extras_table(run.extras)
    return "\n".join(lines)


def _fmt_est(d: dict[str, object]) -> str:
    est, lo, hi = d.get("estimate"), d.get("ci_low"), d.get("ci_high")
    if not isinstance(est, (int, float)):
        return "Not estimable"
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        return f"{est:.2f} [{lo:.2f}, {hi:.2f}]"
    return f"{est:.2f}"


def _extras_table(extras: dict[str, object]) -> list[str]:
    """Text blocks for --sensitivity, --funnel and --mods."""
    lines: list[str] = []
    loo = extras.get("leave_one_out")
    if isinstance(loo, list):
        lines += ["", "Leave-one-out"]
        lines += [f"  without {d['omitted']}: {_fmt_est(d)}" for d in loo]
    cum = extras.get("cumulative")
    if isinstance(cum, dict):
        lines += ["", f"Cumulative meta-analysis (by {cum['by']})"]
        lines += [f"  + {d['added']}: {_fmt_est(d)} (k = {d['k']})" for d in cum["steps"]]
    inf = extras.get("influence")
    if isinstance(inf, list):
        lines += ["", "Influence (metafor influence()): rstudent, DFFITS, Cook's D, hat"]
        lines += [f"  {d['study']}: {d['rstudent']:.2f}, {d['dffits']:.2f}, {d['cook_d']:.2f}, "
                  f"{d['hat']:.2f}{'  * influential' if d['influential'] else ''}" for d in inf]
    elif isinstance(inf, str):
        lines += ["", f"Influence: {inf}"]
    fun = extras.get("funnel")
    if isinstance(fun, dict):
        eg, tf = fun["egger"], fun["trim_and_fill"]
        lines += ["", f"Egger's test: intercept {eg['intercept']:.3f}, t = {eg['t']:.2f}, "
                      f"df = {eg['df']}, {_p(eg['p'])}",
                  f"Trim-and-fill (L0): {tf['k0']} filled on the {tf['side']}; "
                  f"adjusted {_fmt_est(tf)}"]
    elif isinstance(fun, str):
        lines += ["", f"Small-study effects: {fun}"]
    for reg in extras.get("meta_regression", []) or []:  # type: ignore[attr-defined]
        lines += ["", f"Meta-regression on {reg['moderator']} (REML, Knapp-Hartung)"]
        if "not_assessable" in reg:
            lines.append(f"  not assessable: {reg['not_assessable']}")
            continue
        label = "  exploratory (fewer than 10 trials per covariate)" if reg["exploratory"] else ""
        if label:
            lines.append(label)
        for c in reg["coefficients"]:
            lines.append(f"  {c['name']}: {c['estimate']:.3f} (SE {c['se']:.3f}) "
                         f"[{c['ci_low']:.3f}, {c['ci_high']:.3f}] {_p(c['p'])}")
        r2 = f"{reg['r2']:.0f}%" if isinstance(reg["r2"], (int, float)) else "n/a"
        lines.append(f"  Test of moderators: F({', '.join(map(str, reg['qm_df']))}) = "
                     f"{reg['qm']:.2f}, {_p(reg['qm_p'])}; tau\u00b2 = {reg['tau2']:.4g}; "
                     f"R\u00b2 = {r2}")
        if reg["left_out"]:
            lines.append(f"  left out (no value): {', '.join(reg['left_out'])}")
    return lines

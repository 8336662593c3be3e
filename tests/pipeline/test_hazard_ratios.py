"""Survival from reported hazard ratios: the plan's death-hr analysis on the 12-trial synthetic
package is the engine's generic inverse-variance pool of log HR (SE from the 95% CI), labelled
with its source, drawn, and listed in the call for data when a trial's HR is not reachable."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from mscreview import stats


def test_reported_hazard_ratios_are_pooled_and_labelled(synthetic_trials_build: Path) -> None:
    results = json.loads((synthetic_trials_build / "results.json").read_text(encoding="utf-8"))
    a = next(a for a in results["analyses"] if a["id"] == "death-hr")
    assert a["status"] == "pooled" and a["measure"] == "HR" and a["scale"] == "log"
    assert a["data_kind"] == "generic" and "generic inverse variance of log HR" in a["source_note"]
    package = synthetic_trials_build.parent / "data" / "study_effects.csv"  # the built package
    with package.open(newline="", encoding="utf-8") as h:
        rows = [r for r in csv.DictReader(h) if r["measure"] == "HR"]
    eff = stats.generic_effects([float(r["estimate"]) for r in rows],
                                ci_low=[float(r["ci_low"]) for r in rows],
                                ci_high=[float(r["ci_high"]) for r in rows],
                                measure="HR", log_scale=True)
    res = stats.pool(eff, model="random", tau2_method="DL")
    assert a["total"]["k"] == len(rows) == 4
    assert a["total"]["estimate"] == pytest.approx(res.estimate, rel=1e-12)
    assert math.log(a["total"]["ci_high"]) == pytest.approx(res.theta + 1.959963984540054 * res.se)
    assert all(r["source_id"] in a["source_note"] for r in rows)
    assert all("se_from_ci95" in r["flags"] for r in a["rows"])
    html = (synthetic_trials_build / "index.html").read_text(encoding="utf-8")
    figure = html.split('id="forest-death-hr"')[1].split("</figure>")[0]
    assert "Hazard Ratio" in figure and "study-square" in figure and "source-note" in figure

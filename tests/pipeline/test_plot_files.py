"""``plots/`` of a build holds every figure of the page, and only those (synthetic 12 trials).

Each file is the page's figure drawn standalone (pixel size instead of the page's scaling) with
the same SVG id, so the page and the folder are matched by id. The manifest lists every file.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from mscreview.pipeline.build import MANIFEST
from mscreview.report import plot_files, render
from tests.report import synthetic_context

SVG_ID = re.compile(r'<svg [^>]*aria-labelledby="([^" ]+)-title [^"]*"')


def _page_ids(out: Path) -> list[str]:
    return SVG_ID.findall((out / "index.html").read_text(encoding="utf-8"))


def _file_ids(out: Path) -> dict[str, str]:
    ids = {}
    for path in sorted((out / "plots").iterdir()):
        found = SVG_ID.findall(path.read_text(encoding="utf-8"))
        assert len(found) == 1, (path.name, found)  # one figure per file
        ids[path.name] = found[0]
    return ids


def test_every_figure_of_the_page_has_a_file_and_every_file_a_figure(
        synthetic_trials_build: Path) -> None:
    page, files = _page_ids(synthetic_trials_build), _file_ids(synthetic_trials_build)
    assert not [i for i, n in Counter(page).items() if n > 1]  # ids are unique on the page
    assert sorted(files.values()) == sorted(page)
    kinds = Counter(name.split("-")[0] for name in files)
    # forest plots of outcomes and safety events, both RoB palettes, and the robustness panels
    for kind in ("forest", "rob", "prisma.svg", "sensitivity", "leave", "cumulative", "funnel",
                 "bubble", "trajectory", "tsa"):
        assert kinds[kind], kind
    assert any(name.startswith("forest-safety-") for name in files)


def test_plot_names_are_stable_and_readable(synthetic_trials_build: Path) -> None:
    names = set(_file_ids(synthetic_trials_build))
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_.-]*\.svg", n) for n in names), sorted(names)
    for expected in ("forest-meld-overall.svg", "prisma.svg", "rob-summary-mscreview.svg",
                     "rob-traffic-light-mscreview-colourblind.svg", "sensitivity-meld-overall.svg",
                     "leave-one-out-meld-overall.svg", "cumulative-meld-overall.svg",
                     "funnel-meld-overall.svg", "bubble-meld-overall-log10_cells_per_kg.svg",
                     "tsa-meld-overall.svg"):
        assert expected in names, expected


def test_plot_files_are_standalone_svg(synthetic_trials_build: Path) -> None:
    for path in (synthetic_trials_build / "plots").iterdir():
        root = ET.fromstring(path.read_text(encoding="utf-8"))  # well-formed XML
        assert root.tag == "{http://www.w3.org/2000/svg}svg", path.name
        # a fixed size in pixels (the page's copy scales: width="100%")
        assert re.fullmatch(r"\d+", root.get("width", "")), path.name
        assert re.fullmatch(r"\d+", root.get("height", "")), path.name


def test_the_manifest_lists_every_plot(synthetic_trials_build: Path) -> None:
    manifest = json.loads((synthetic_trials_build / MANIFEST).read_text(encoding="utf-8"))
    listed = {k for k in manifest["files"] if k.startswith("plots/")}
    on_disk = {f"plots/{p.name}" for p in (synthetic_trials_build / "plots").iterdir()}
    assert listed == on_disk
    for key in listed:
        data = (synthetic_trials_build / key).read_bytes()
        assert manifest["files"][key] == "sha256:" + hashlib.sha256(data).hexdigest()
    downloads = json.loads((synthetic_trials_build / "results.json").read_text())["downloads"]
    plots = next(d for d in downloads if d["path"] == "plots/")
    assert "robustness" in plots["label"] and "safety" in plots["label"]


def test_a_hand_made_context_gets_the_same_figures_as_its_page() -> None:
    """Without an analysis overview every analysis is drawn, on the page and in plots/."""
    context = synthetic_context()
    files = plot_files(context)
    names = [name for name, _ in files]
    assert len(names) == len(set(names))
    ids = sorted(i for _, svg in files for i in SVG_ID.findall(svg))
    assert ids == sorted(SVG_ID.findall(render(context)))

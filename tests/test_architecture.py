"""Layers import one way: stats <- store/validate <- pipeline <- cli; report renders only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mscreview
import mscreview.stats

PKG = Path(mscreview.__file__).parent

#: For each layer, the mscreview modules it may import (besides itself).
ALLOWED = {
    "stats": set(),
    "report": set(),
    "vocabulary": set(),
    "models": {"vocabulary"},
    "errors": set(),
    "atomic": {"errors"},
    "tables": {"vocabulary"},
    "validate": {"vocabulary", "errors", "tables"},
    "store": {"errors", "stats", "validate"},  # stats: the Wan 2014 divisors of ref_wan
    "plan": {"errors", "store"},
    "pipeline": {"stats", "validate", "store", "plan", "report", "models", "vocabulary", "errors",
                 "tables", "atomic"},
    "cli": {"pipeline", "errors"},
}


def _layer(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "mscreview" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in PKG.rglob("*.py") if _layer(p) in ALLOWED)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_one_way(path: Path) -> None:
    layer = _layer(path)
    bad = _imports(path) - ALLOWED[layer] - {layer}
    assert not bad, f"{layer} must not import {sorted(bad)}"


def test_every_module_belongs_to_a_layer() -> None:
    layers = {_layer(p) for p in PKG.rglob("*.py")} - {"__init__", "__main__"}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_stats_public_api_is_its_all() -> None:
    public = {n for n in dir(mscreview.stats) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(mscreview.stats, n)).__name__ == "module"}
    assert public - modules == set(mscreview.stats.__all__)

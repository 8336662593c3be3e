"""Validation imports no more than it needs: pydantic (a third of a fast ``validate``) stays out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_validation_never_imports_pydantic(synthetic_package: Path) -> None:
    code = ("import sys\n"
            "from mscreview.validate import validate_package\n"
            f"report = validate_package({str(synthetic_package)!r})\n"
            "assert report.valid, report.problems[:3]\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'"
            " or m == 'mscreview.models'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"

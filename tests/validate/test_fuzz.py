"""Whatever bytes a resource file holds, validation reports problems and never raises."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mscreview.validate import validate_package
from tests.conftest import make_package

_TEMPLATE = Path(tempfile.mkdtemp(prefix="mscreview-fuzz-"))
make_package(_TEMPLATE)

csv_like = st.lists(
    st.lists(st.sampled_from(["", "NR", "testa2020", "msc", "control", "MELD", "13.0", "-1", "x",
                              '"', ",", "\n", "1e309", "true", "é", "\x00"]), max_size=25),
    max_size=6,
).map(lambda rows: "\n".join(",".join(r) for r in rows))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resource=st.sampled_from(["continuous_outcomes", "arms", "studies", "sources"]),
       content=st.one_of(st.binary(max_size=300), csv_like.map(str.encode)))
def test_validation_never_raises(resource: str, content: bytes) -> None:
    work = Path(tempfile.mkdtemp(prefix="mscreview-fuzz-case-"))
    try:
        shutil.copytree(_TEMPLATE, work, dirs_exist_ok=True)
        (work / "data" / f"{resource}.csv").write_bytes(content)
        report = validate_package(work / "datapackage.json")
        for p in report.problems:
            assert p.file and p.code and p.message
            assert p.line >= 0
    finally:
        shutil.rmtree(work, ignore_errors=True)

"""The compiled-template cache: a kept compilation is used only while it is current, and a
broken or stale file is compiled again, never trusted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment

from mscreview.report._page import _CompiledTemplates, _fingerprint


def _env(folder: Path, templates: dict[str, str], fingerprint: str | None = None) -> Environment:
    env = Environment(loader=DictLoader(templates), autoescape=True)
    env.bytecode_cache = _CompiledTemplates(folder, fingerprint or _fingerprint(env))
    return env


def _render(folder: Path, source: str, fingerprint: str | None = None) -> str:
    return _env(folder, {"t.html": source}, fingerprint).get_template("t.html").render(x="<a>")


@pytest.fixture
def writing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


@pytest.mark.usefixtures("writing")
def test_kept_compilation_is_reused_and_follows_the_source(tmp_path: Path) -> None:
    assert _render(tmp_path, "A {{ x }}") == "A &lt;a&gt;"
    files = list(tmp_path.glob("jinja2-*.cache"))
    assert len(files) == 1
    assert _render(tmp_path, "A {{ x }}") == "A &lt;a&gt;"  # loaded, same page
    assert _render(tmp_path, "B {{ x }}") == "B &lt;a&gt;"  # source changed: compiled again
    assert list(tmp_path.glob("jinja2-*.cache")) == files  # replaced, not added


@pytest.mark.usefixtures("writing")
def test_other_fingerprint_compiles_again(tmp_path: Path) -> None:
    assert _render(tmp_path, "{{ x }}", fingerprint="one") == "&lt;a&gt;"
    (file,) = tmp_path.glob("jinja2-*.cache")
    kept = file.read_bytes()
    assert _render(tmp_path, "{{ x }}", fingerprint="two") == "&lt;a&gt;"
    assert file.read_bytes() != kept


@pytest.mark.usefixtures("writing")
@pytest.mark.parametrize("garbage", [b"", b"j2", b"\x00" * 40, b"j2\x80\x02K\x05.garbage"])
def test_broken_file_is_compiled_again(tmp_path: Path, garbage: bytes) -> None:
    _render(tmp_path, "{{ x }}!")
    (file,) = tmp_path.glob("jinja2-*.cache")
    file.write_bytes(garbage)
    assert _render(tmp_path, "{{ x }}!") == "&lt;a&gt;!"


def test_nothing_written_without_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert _render(tmp_path, "{{ x }}") == "&lt;a&gt;"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("writing")
def test_unwritable_folder_only_compiles(tmp_path: Path) -> None:
    assert _render(tmp_path / "missing", "{{ x }}") == "&lt;a&gt;"


def test_fingerprint_follows_the_environment(tmp_path: Path) -> None:
    plain = Environment(loader=DictLoader({}))
    trimmed = Environment(loader=DictLoader({}), trim_blocks=True)
    assert _fingerprint(plain) == _fingerprint(Environment(loader=DictLoader({})))
    assert _fingerprint(plain) != _fingerprint(trimmed)


def test_load_templates_loads_every_template_of_the_page() -> None:
    from mscreview.report import load_templates
    from mscreview.report._page import SECTIONS, _environment

    load_templates()
    env = _environment()
    for name in ["report.html.j2", *(s.template for s in SECTIONS)]:
        assert env.cache is not None and any(key[1] == name for key in env.cache)

"""The ``call-for-data`` verb: one trial's missing values, listed or as a fill-in trial file.

A value is missing when its row's ``status`` is not ``extracted`` (the rows the report's call for
data lists). The form (``--form``) is a trial file for ``add-trial --update`` holding exactly
those rows: each keeps its key (study, arm, outcome, time point, source) and what is already known
(time-point label, locator), and holds ``<...>`` placeholders where a number goes, with the
expected unit and the source to read in a comment above it. ``add-trial`` refuses a placeholder,
so a half-filled form cannot slip in; rows the source does not have are deleted, or kept with
their status changed to ``not_reported``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from mscreview.atomic import reading
from mscreview.errors import InputError, UsageError
from mscreview.pipeline.resources import Table, load_tables
from mscreview.validate.reading import display_path
from mscreview.vocabulary import ALLOWED_UNITS

__all__ = ["MissingValue", "missing_values", "render_missing", "form_text", "write_form"]

#: Per resource: the fields a contributor fills, and the placeholder each gets when empty.
FILL: dict[str, dict[str, str]] = {
    "arms": {"n_randomised": "<number>", "n_analysed": "<number>"},
    "continuous_outcomes": {
        "n": "<number>", "central_kind": "<mean | median>", "central": "<number>",
        "dispersion_kind": "<sd | se | ci95 | iqr | range | none>",
        "dispersion": "<number, for sd or se; else delete>",
        "dispersion_low": "<number, for ci95, iqr or range; else delete>",
        "dispersion_high": "<number, for ci95, iqr or range; else delete>",
        "unit": "<unit as printed>"},
    "dichotomous_outcomes": {"events": "<number>", "n": "<number>"},
    "adverse_events": {"events": "<number>", "as_reported": "<the source's words>"},
    "study_effects": {"estimate": "<number>", "ci_low": "<number>", "ci_high": "<number>",
                      "p_reported": "<as printed>"},
}
#: Fields every form row carries after the values: where the numbers come from.
WHERE = {"status": "extracted", "locator": "<table, figure or page>",
         "quote": "<the text the numbers come from>"}
_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ ./()%+-]*$")
_DESCRIBE = {"arms": "arm size", "continuous_outcomes": "continuous outcome",
             "dichotomous_outcomes": "events", "adverse_events": "adverse event",
             "study_effects": "study-level effect"}


class MissingValue:
    """One row of a trial whose value is missing, with the source that should hold it."""

    def __init__(self, table: Table, row: dict[str, str], source: dict[str, str]) -> None:
        self.resource = table.name
        self.row = row
        self.source = source
        self.key = list(table.key)
        self.fields = [f["name"] for f in table.schema["fields"]]

    def describe(self) -> str:
        r = self.row
        if self.resource == "arms":
            return f"size of arm {r['arm_id']}"
        bits = [f"{_DESCRIBE[self.resource]} {r.get('outcome') or r.get('event')}"]
        if r.get("arm_id"):
            bits.append(f"arm {r['arm_id']}")
        if r.get("timepoint_label") or r.get("timepoint_weeks"):
            bits.append(r.get("timepoint_label") or f"{r['timepoint_weeks']} weeks")
        text = ", ".join(bits)
        units = ALLOWED_UNITS.get(r.get("outcome", "")) if self.resource == "continuous_outcomes" \
            else None
        return text + (f" (unit {' or '.join(sorted(units))})" if units else "")

    def where(self) -> str:
        s, r = self.source, self.row
        cite = s.get("citation", "")
        ids = ", ".join(x for x in (f"doi:{s['doi']}" if s.get("doi") else "",
                                    f"PMID {s['pmid']}" if s.get("pmid") else "",
                                    s.get("url", "")) if x)
        return (f"{r['source_id']}" + (f" ({cite[:60]}{'...' if len(cite) > 60 else ''})"
                                       if cite else "")
                + (f" {ids}" if ids else "") + (f"; look at: {r['locator']}" if r.get("locator")
                                                else ""))


def missing_values(package: Path | str, study_id: str) -> list[MissingValue]:
    """The missing values of ``study_id`` (rows whose status is not ``extracted``)."""
    descriptor_path = Path(package)
    if descriptor_path.is_dir():
        descriptor_path = descriptor_path / "datapackage.json"
    if not descriptor_path.exists():
        raise UsageError(f"no data package at {display_path(descriptor_path)}")
    with reading(descriptor_path.parent, "call-for-data"):
        tables = load_tables(descriptor_path, ["studies", "sources", *FILL])
    studies = {r["study_id"]: r for r in tables["studies"].rows()}
    if study_id not in studies:
        from mscreview.pipeline.trialfile import suggest

        raise UsageError(f"no study '{study_id}' in the package{suggest(study_id, studies)}")
    sources = {r["source_id"]: r for r in tables["sources"].rows()}
    out = []
    for name in FILL:
        table = tables[name]
        for row in table.rows():
            if row["study_id"] == study_id and row.get("status") != "extracted":
                out.append(MissingValue(table, row, sources.get(row["source_id"], {})))
    return out


def render_missing(study_id: str, missing: list[MissingValue]) -> str:
    """The missing values as lines a person reads."""
    if not missing:
        return f"{study_id}: no missing values (every row is extracted)"
    out = [f"{study_id}: {len(missing)} missing value(s)"]
    for m in missing:
        out.append(f"- {m.describe()} [{m.row.get('status')}]; source {m.where()}")
    return "\n".join(out)


def _yaml(value: str) -> str:
    """A scalar as YAML 1.2 text that reads back as the same string."""
    if value == "":
        return ""
    if value.startswith("<") and value.endswith(">"):
        return value  # a placeholder, refused by add-trial until replaced
    if _SAFE.match(value) and value.lower() not in ("true", "false", "null", "yes", "no", "on",
                                                    "off", "~"):
        return value
    return json.dumps(value, ensure_ascii=False)


def form_text(study_id: str, missing: list[MissingValue]) -> str:
    """A fill-in trial file (YAML) holding exactly these missing values."""
    out = [
        f"# mscreview call for data: {study_id}, {len(missing)} missing value(s).",
        "# Fill in every <...> from the source named above each row (numbers with a decimal point,",
        "# units and words as printed), and the locator and a short verbatim quote. A row the",
        "# source does not give: delete it, or keep it with status not_reported (and no numbers).",
        "# Values read in another source than the one named: add that source under `sources:`",
        "# (see mscreview add-trial --template) and write its source_id in the row.",
        "# Then: mscreview add-trial --update --dry-run THIS_FILE, and without --dry-run to write.",
        "",
        "study:",
        f"  study_id: {study_id}",
    ]
    current = None
    for m in missing:
        if m.resource != current:
            current = m.resource
            out += ["", f"{m.resource}:"]
        out.append(f"  # {m.describe()}; now {m.row.get('status')}")
        out.append(f"  # read: {m.where()}")
        first = True
        fill = FILL[m.resource]
        for name in m.fields:
            value = m.row.get(name, "")
            if name in m.key or name == "timepoint_label":
                if not value:
                    continue
            elif name in fill:
                value = value or fill[name]
            elif name in WHERE:
                value = WHERE[name]
            else:
                continue  # descriptions and notes stay as they are (--update keeps them)
            out.append(f"{'  - ' if first else '    '}{name}: {_yaml(value)}".rstrip())
            first = False
    return "\n".join(out) + "\n"


def write_form(package: Path | str, study_id: str, out: Path | str | None = None) -> Path:
    """Write the form of ``study_id`` to ``out`` (default ``STUDY_ID-form.yaml``); never overwrites."""
    missing = missing_values(package, study_id)
    if not missing:
        raise InputError(f"{study_id}: no missing values, so no form to fill")
    path = Path(out) if out is not None else Path(f"{study_id}-form.yaml")
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(form_text(study_id, missing))
    except FileExistsError:
        raise UsageError(f"{display_path(path)} exists; give another --out or remove it") from None
    return path

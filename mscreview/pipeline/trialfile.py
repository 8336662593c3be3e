"""Reading a trial file without surprises: every value as written, every problem on its line.

A trial file (YAML, JSON or TOML) has one key per resource (see ``SECTIONS``). YAML and JSON are
read by ruamel.yaml's composer as YAML 1.2 (JSON is YAML 1.2): only ``null``/``~``/empty are
missing and only ``true``/``false`` are booleans; every other scalar keeps the text the contributor
typed, and the Table Schema types it. So ``NO`` stays ``NO``, ``010`` is not 8 and ``1:30`` is not
90; where such a form lands in a number or boolean field it is refused with the fix, as are decimal
commas (``12,1``; in a ``{...}`` row YAML splits it into ``12`` and a bogus key ``1``). Duplicate
keys, lists or mappings where one value belongs, template placeholders (``<journal>``), rows of
another study, files over 1 MB and alias expansion beyond a small bound are refused too. Every
problem names the file, the line in it and the field (``arms[1].n_randomised``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mscreview.errors import InputError, UsageError
from mscreview.validate import Problem
from mscreview.validate.reading import display_path

__all__ = ["SECTIONS", "MAX_BYTES", "MAX_ALIAS_NODES", "Row", "TrialFile", "read_trial",
           "check_rows", "suggest", "normalise_number"]

#: Trial-file keys and the resource each fills (``study`` and ``screening`` are one mapping).
SECTIONS = {
    "study": "studies",
    "sources": "sources",
    "arms": "arms",
    "continuous_outcomes": "continuous_outcomes",
    "dichotomous_outcomes": "dichotomous_outcomes",
    "study_effects": "study_effects",
    "adverse_events": "adverse_events",
    "risk_of_bias": "risk_of_bias",
    "discrepancies": "discrepancies",
    "screening": "",  # the PRISMA record: how the trial was found (see pipeline.screening)
}
SINGLE = frozenset({"study", "screening"})
#: A trial file is text a person wrote: anything larger is refused before it is parsed.
MAX_BYTES = 1_000_000
#: Nodes reached through aliases (``*name``) beyond the nodes written: the bound on expansion.
MAX_ALIAS_NODES = 1_000

_PLACEHOLDER = re.compile(r"<[A-Za-z\"'.…][^<>\n]*>")
_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_LEADING_ZERO = re.compile(r"^[-+]?0\d")
_RADIX = re.compile(r"^[-+]?0[oOxXbB]")
_SEXAGESIMAL = re.compile(r"^[-+]?\d+(:[0-5]?\d)+(\.\d*)?$")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_YES_NO = frozenset({"yes", "no", "y", "n", "on", "off"})
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"


@dataclass
class Row:
    """One row of a section: each field's text (None = missing) and the line it is on."""

    section: str
    index: int | None  # None for the single-mapping sections
    line: int
    cells: dict[str, str | None] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``study`` or ``arms[1]``: how problems name the row."""
        return self.section if self.index is None else f"{self.section}[{self.index}]"

    def line_of(self, name: str) -> int:
        """The line of field ``name``, or of the row when the field is not in it."""
        return self.lines.get(name, self.line)


@dataclass
class TrialFile:
    """A parsed trial file: rows per section, with the problems found while reading."""

    path: Path
    shown: str
    rows: dict[str, list[Row]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, line: int, where: str, code: str, message: str) -> None:
        self.problems.append(Problem(self.shown, line, where, code, message))

    @property
    def study_id(self) -> str | None:
        study = self.rows.get("study")
        return study[0].cells.get("study_id") if study else None


def suggest(word: str, choices: list[str] | tuple[str, ...] | set[str] | frozenset[str]) -> str:
    """`` (did you mean X?)`` for the nearest choice, or nothing."""
    options = sorted(str(c) for c in choices)
    folded = {c.lower(): c for c in options}
    hit = folded.get(word.strip().lower())
    if hit is None:
        close = difflib.get_close_matches(word, options, n=1, cutoff=0.6) or \
            difflib.get_close_matches(word.lower(), [c.lower() for c in options], n=1, cutoff=0.6)
        hit = folded.get(close[0].lower(), close[0]) if close else None
    return f" (did you mean {hit}?)" if hit else ""


# --------------------------------------------------------------------------- YAML / JSON


class _Walker:
    """Turns ruamel.yaml nodes into rows, keeping each value's text and line."""

    def __init__(self, trial: TrialFile) -> None:
        self.trial = trial
        self.seen: set[int] = set()
        self.alias_nodes = 0

    def visit(self, node: Any) -> None:
        """Count nodes reached a second time (through an alias); refuse runaway expansion."""
        if id(node) in self.seen:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise InputError(
                    f"{self.trial.shown}:{node.start_mark.line + 1}: aliases (*name) expand to more "
                    f"than {MAX_ALIAS_NODES} values; write the rows out instead")
        else:
            self.seen.add(id(node))

    def pairs(self, node: Any, where: str) -> list[tuple[str, Any, int]]:
        """(key, value node, line) of a mapping node; duplicate and odd keys are problems."""
        out: list[tuple[str, Any, int]] = []
        first: dict[str, int] = {}
        previous: tuple[str, Any] | None = None
        for key_node, value_node in node.value:
            self.visit(key_node)
            self.visit(value_node)
            line = key_node.start_mark.line + 1
            if not _is_scalar(key_node):
                self.trial.add(line, where, "bad-key", "a key must be a plain word")
                continue
            key = str(key_node.value)
            if key == "<<":
                self.trial.add(line, where, "merge-key",
                               "merge keys (<<: *name) are not supported; write the fields out")
                continue
            if (node.flow_style and previous is not None and key.isdigit()
                    and _is_scalar(value_node) and value_node.tag == _NULL_TAG
                    and value_node.value in ("", None) and _is_scalar(previous[1])
                    and re.fullmatch(r"[-+]?\d+", str(previous[1].value or ""))):
                name, before = previous[0], previous[1].value
                self.trial.add(line, _join(where, name), "decimal-comma",
                               f"{before},{key}: use a decimal point ({before}.{key}); in a "
                               "{...} row a comma separates fields, so this became "
                               f"{before} and a field named '{key}'")
                continue
            if key in first:
                self.trial.add(line, _join(where, key), "duplicate-key",
                               f"'{key}' is given twice (first on line {first[key]}); keep one")
                continue
            first[key] = line
            out.append((key, value_node, line))
            previous = (key, value_node)
        return out

    def row(self, node: Any, section: str, index: int | None) -> Row | None:
        line = node.start_mark.line + 1
        row = Row(section, index, line)
        if not _is_mapping(node):
            kind = "a mapping of field: value" if index is None else "a mapping (one row)"
            self.trial.add(line, row.label, "bad-row", f"{row.label} must be {kind}")
            return None
        for key, value, key_line in self.pairs(node, row.label):
            row.lines[key] = key_line
            if not _is_scalar(value):
                what = "a list" if _is_sequence(value) else "a mapping"
                hint = " (write several flags as a;b)" if key == "flags" else ""
                self.trial.add(key_line, _join(row.label, key), "not-a-scalar",
                               f"expects one value, got {what}{hint}")
                continue
            row.cells[key] = _scalar_text(value)
        return row


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _is_scalar(node: Any) -> bool:
    return type(node).__name__ == "ScalarNode"


def _is_mapping(node: Any) -> bool:
    return type(node).__name__ == "MappingNode"


def _is_sequence(node: Any) -> bool:
    return type(node).__name__ == "SequenceNode"


def _scalar_text(node: Any) -> str | None:
    """The value as the contributor typed it; YAML 1.2 core nulls and booleans resolved."""
    if node.style is None:  # plain scalar: resolved by the YAML 1.2 core schema
        if node.tag == _NULL_TAG:
            return None
        if node.tag == _BOOL_TAG:
            return "true" if str(node.value).lower() == "true" else "false"
    return str(node.value)


def _read_yaml(text: str, trial: TrialFile, kind: str) -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        root = YAML(typ="safe", pure=True).compose(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = " ".join(str(x) for x in (err.context, err.problem) if x)
        raise InputError(f"{trial.shown}:{line}: not valid {kind}: {what}") from None
    except (YAMLError, RecursionError) as err:
        raise InputError(f"{trial.shown}: not valid {kind}: {err}") from None
    if root is None or not _is_mapping(root):
        raise InputError(f"{trial.shown}: the trial file must be a mapping of sections "
                         f"({', '.join(SECTIONS)})")
    walker = _Walker(trial)
    for key, node, line in walker.pairs(root, ""):
        if key not in SECTIONS:
            trial.add(line, key, "unknown-section",
                      f"unknown section '{key}'{suggest(key, SECTIONS)} (sections: "
                      f"{', '.join(SECTIONS)})")
            continue
        if key in SINGLE:
            row = walker.row(node, key, None)
            trial.rows[key] = [row] if row is not None else []
            continue
        if not _is_sequence(node):
            trial.add(line, key, "bad-section",
                      f"section '{key}' must be a list of rows (each starting with '- ')")
            continue
        rows = []
        for i, item in enumerate(node.value):
            walker.visit(item)
            row = walker.row(item, key, i)
            if row is not None:
                rows.append(row)
        trial.rows[key] = rows


# --------------------------------------------------------------------------- TOML


def _toml_cell(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _toml_lines(text: str) -> dict[tuple[str, int | None, str | None], int]:
    """(section, row index, field) -> line, read from ``[section]``/``[[section]]`` headers."""
    found: dict[tuple[str, int | None, str | None], int] = {}
    counts: dict[str, int] = {}
    current: tuple[str, int | None] = ("", None)
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = re.match(r"^\[\[\s*([A-Za-z_]+)\s*\]\]", line)
        if m:
            i = counts.get(m.group(1), 0)
            counts[m.group(1)] = i + 1
            current = (m.group(1), i)
            found.setdefault((*current, None), n)
            continue
        m = re.match(r"^\[\s*([A-Za-z_]+)\s*\]", line)
        if m:
            current = (m.group(1), None)
            found.setdefault((*current, None), n)
            continue
        m = re.match(r"^\"?([A-Za-z0-9_-]+)\"?\s*=", line)
        if m:
            if current[0]:
                found.setdefault((*current, m.group(1)), n)
            else:
                found.setdefault((m.group(1), None, None), n)
    return found


def _read_toml(text: str, trial: TrialFile) -> None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise UsageError(f"{trial.shown}: reading TOML needs Python 3.11 or newer; use YAML") from None

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:  # duplicate keys are refused here too
        m = re.search(r"line (\d+)", str(err))
        raise InputError(f"{trial.shown}:{m.group(1) if m else 0}: not valid TOML: {err}") from None
    lines = _toml_lines(text)
    for key, value in data.items():
        line = lines.get((key, None, None), 0)
        if key not in SECTIONS:
            trial.add(line, key, "unknown-section",
                      f"unknown section '{key}'{suggest(key, SECTIONS)}")
            continue
        items = [value] if key in SINGLE else value
        if not isinstance(items, list):
            trial.add(line, key, "bad-section", f"section '{key}' must be a list of rows ([[{key}]])")
            continue
        rows = []
        for i, item in enumerate(items):
            index = None if key in SINGLE else i
            row = Row(key, index, lines.get((key, index, None), line))
            if not isinstance(item, dict):
                trial.add(row.line, row.label, "bad-row", f"{row.label} must be a table of fields")
                continue
            for name, cell in item.items():
                row.lines[name] = lines.get((key, index, name), row.line)
                if isinstance(cell, (list, dict)):
                    trial.add(row.lines[name], _join(row.label, name), "not-a-scalar",
                              "expects one value, got " + ("a list" if isinstance(cell, list)
                                                           else "a table"))
                    continue
                row.cells[name] = _toml_cell(cell)
            rows.append(row)
        trial.rows[key] = rows


# --------------------------------------------------------------------------- entry points


def read_trial(path: Path | str) -> TrialFile:
    """Parse a trial file; structural problems are in ``.problems`` (never raised for data).

    Raises
    ------
    UsageError
        When there is no such file.
    InputError
        When the file is too large, not UTF-8, not parsable, or expands aliases without bound.
    """
    path = Path(path)
    trial = TrialFile(path, display_path(path))
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"no trial file at {trial.shown}") from None
    except IsADirectoryError:
        raise UsageError(f"{trial.shown} is a folder, not a trial file") from None
    except OSError as err:
        raise InputError(f"{trial.shown}: cannot be read ({err.strerror})") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{trial.shown}: the file is larger than {MAX_BYTES // 1_000_000} MB; a "
                         "trial file holds one trial (split it, or check it is the right file)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(f"{trial.shown}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x}); "
                         "save the file as UTF-8") from None
    suffix = path.suffix.lower()
    if suffix == ".toml":
        _read_toml(text, trial)
    else:
        _read_yaml(text, trial, "JSON" if suffix == ".json" else "YAML")
    return trial


def check_rows(trial: TrialFile, schemas: dict[str, dict[str, Any]], *,
               require_study: bool = True) -> None:
    """Check every row against its resource's Table Schema; problems go to ``trial.problems``.

    ``schemas`` maps a resource name to its Table Schema. Rows that omit ``study_id`` take the
    trial's; rows naming another study are refused.
    """
    study_id = trial.study_id
    study_rows = trial.rows.get("study") or []
    if require_study and not study_rows:
        trial.add(0, "study", "missing-section",
                  "the trial file needs a 'study' (at least its study_id)")
    elif study_rows and not study_id:
        trial.add(study_rows[0].line, "study.study_id", "missing-study-id",
                  "the study needs a study_id (e.g. smith2024)")
    if study_id:
        pattern = next((f.get("constraints", {}).get("pattern")
                        for f in schemas["studies"]["fields"] if f["name"] == "study_id"), None)
        if pattern and not re.fullmatch(pattern, study_id):
            trial.add(study_rows[0].line_of("study_id"), "study.study_id", "constraint-error",
                      f"'{study_id}' is not a study id: lower-case surname and 4-digit year, e.g. "
                      "smith2024 (pattern " + pattern + ")")
            study_id = None  # other rows cannot be compared with it
    for section, rows in trial.rows.items():
        resource = SECTIONS.get(section)
        if not resource:  # the screening record: its own checks (pipeline.screening)
            for row in rows:
                for name, text in row.cells.items():
                    m = _PLACEHOLDER.search(text or "")
                    if m:
                        trial.add(row.line_of(name), _join(row.label, name), "placeholder",
                                  f"still holds the template's placeholder {m.group(0)!r}: write "
                                  "the value, or delete the line")
            continue
        schema = schemas[resource]
        fields = {f["name"]: f for f in schema["fields"]}
        for row in rows:
            if "study_id" in fields and "study_id" not in row.cells and study_id:
                row.cells["study_id"] = study_id
            for name, text in row.cells.items():
                where = _join(row.label, name)
                line = row.line_of(name)
                spec = fields.get(name)
                if spec is None:
                    trial.add(line, where, "unknown-field",
                              f"'{name}' is not a field of {resource}{suggest(name, fields)} "
                              f"(fields: {', '.join(fields)})")
                    continue
                if text is None:
                    continue
                problem = _cell_problem(text, spec)
                if problem:
                    trial.add(line, where, *problem)
            other = row.cells.get("study_id")
            if study_id and section != "study" and other and other != study_id:
                trial.add(row.line_of("study_id"), _join(row.label, "study_id"), "foreign-study",
                          f"this row is for study '{other}', but the file is the trial "
                          f"'{study_id}'; a trial file changes only its own trial")


def _cell_problem(text: str, spec: dict[str, Any]) -> tuple[str, str] | None:
    """(code, message) for a value a person would regret, or None."""
    m = _PLACEHOLDER.search(text)
    if m:
        return ("placeholder", f"still holds the template's placeholder {m.group(0)!r}: write "
                               "the value from the source, or delete the line")
    kind = spec.get("type")
    value = text.strip()
    if kind in ("number", "integer"):
        if _DECIMAL_COMMA.match(value):
            return ("decimal-comma", f"{value}: use a decimal point ({value.replace(',', '.')})")
        if _RADIX.match(value):
            return ("number-form", f"{value}: octal, hexadecimal and binary forms are not "
                                   "allowed; write the number in decimal")
        if _SEXAGESIMAL.match(value):
            return ("number-form", f"{value}: YAML 1.1 reads this as a base-60 number "
                                   f"({_sexagesimal(value):g}); write the number itself")
        if _LEADING_ZERO.match(value):
            return ("number-form", f"{value}: a leading zero is read as octal by YAML 1.1 "
                                   f"readers; write {value.lstrip('+0') or '0'}")
        if "_" in value:
            return ("number-form", f"{value}: write the number without underscores")
    if kind == "boolean" and value.lower() in _YES_NO:
        return ("boolean-form", f"{value}: write true or false")
    enum = spec.get("constraints", {}).get("enum")
    if enum and value not in [str(e) for e in enum]:
        return ("constraint-error", f"{value!r} is not one of: {', '.join(map(str, enum))}"
                                    + suggest(value, [str(e) for e in enum]))
    return None


def _sexagesimal(value: str) -> float:
    sign = -1 if value.startswith("-") else 1
    total = 0.0
    for part in value.lstrip("+-").split(":"):
        total = total * 60 + float(part)
    return sign * total


def normalise_number(text: str) -> str:
    """``1.0e6`` -> ``1000000``: exponent forms written out as the package writes numbers."""
    value = text.strip()
    if _NUMBER.match(value) and value.lower().count("e") == 1:
        from decimal import Decimal

        return format(Decimal(value), "f")
    return text

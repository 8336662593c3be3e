"""The ``format`` verb: mend what is mechanical in the CSV resources, never a value.

Per resource file: drop a byte-order mark, turn CRLF and CR line endings into LF, drop blank lines
(trailing ones included), end with one newline, and sort the records by the primary key as the
validator wants them (numbers as numbers, missing first; ties keep their order). Records are
moved as the text they are: no cell is re-quoted or re-typed. ``--check`` lists what it would
change and changes nothing (exit 1), for CI. Writes are all-or-nothing under the package lock.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from mscreview.atomic import Transaction, reading, writing
from mscreview.errors import UsageError
from mscreview.tables import primary_key_sorter
from mscreview.validate.reading import display_path

__all__ = ["Mended", "format_package"]


@dataclass
class Mended:
    """One file ``format`` changes (or would change) and why."""

    path: str  # relative to the package root
    shown: str
    reasons: list[str] = field(default_factory=list)
    text: str = ""


def _split_records(text: str) -> tuple[str, list[str]] | None:
    """The header line and each record's raw text (one or more physical lines), or None."""
    lines = text.split("\n")
    reader = csv.reader(io.StringIO(text, newline=""))
    chunks: list[str] = []
    start = 0
    try:
        for _ in reader:
            end = reader.line_num
            chunks.append("\n".join(lines[start:end]))
            start = end
    except csv.Error:
        return None
    if not chunks:
        return None
    return chunks[0], chunks[1:]


def _mend(text: str, schema: dict[str, object]) -> tuple[str, list[str]]:
    reasons = []
    if text.startswith("\ufeff"):
        text = text[1:]
        reasons.append("byte-order mark removed")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        reasons.append("line endings made LF")
    split = _split_records(text)
    if split is None:
        return text, reasons  # not parsable as CSV: validate says where; nothing to sort
    header, records = split
    kept = [r for r in records if r.strip()]
    if len(kept) != len(records):
        reasons.append(f"{len(records) - len(kept)} blank line(s) removed")
    names = next(csv.reader([header]), [])
    key, sort_key = primary_key_sorter(schema, names)
    if key:
        parsed = [next(csv.reader(io.StringIO(r, newline="")), []) for r in kept]
        order = sorted(range(len(kept)), key=lambda i: sort_key(parsed[i]))
        if order != list(range(len(kept))):
            moved = sum(1 for i, j in enumerate(order) if i != j)
            reasons.append(f"{moved} row(s) sorted by {', '.join(key)}")
            kept = [kept[i] for i in order]
    out = "\n".join([header, *kept]) + "\n"
    if not reasons and out != text:
        reasons.append("ends with exactly one newline")
    return out, reasons


def format_package(package: Path | str = "datapackage.json", *, check: bool = False,
                   timeout: float = 60.0) -> list[Mended]:
    """Mend every resource of ``package``; returns the files changed (or, ``check``, to change)."""
    descriptor_path = Path(package)
    if descriptor_path.is_dir():
        descriptor_path = descriptor_path / "datapackage.json"
    if not descriptor_path.exists():
        raise UsageError(f"no data package at {display_path(descriptor_path)}")
    root = descriptor_path.parent
    lock = reading(root, "format --check", timeout=timeout) if check else writing(
        root, "format", timeout=timeout)
    with lock:
        descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
        mended = []
        for res in descriptor.get("resources", []):
            path = root / res["path"]
            try:
                raw = path.read_bytes()
                text = raw.decode("utf-8")
                schema = json.loads((root / res["schema"]).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue  # validate reports the file; format mends only what it can read
            new, reasons = _mend(text, schema)
            if new != text:
                mended.append(Mended(res["path"], display_path(path), reasons, new))
        if mended and not check:
            with Transaction(root) as txn:
                for m in mended:
                    txn.write(m.path, m.text)
                txn.commit()
    return mended

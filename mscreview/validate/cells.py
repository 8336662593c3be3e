"""Table Schema types and constraints as SQL expressions over text cells, as frictionless reads them.

frictionless is the reference (tests/validate/test_differential.py): a cell is a valid integer
when Python's ``int(cell.strip())`` reads it, a valid number when ``Decimal(cell.strip())`` does,
a boolean when it is one of the field's true or false values, and a pattern matches as
``re.match("^" + pattern + "$", cell)``. The regular expressions below say the same in RE2, the
engine DuckDB uses (numbers with the digits 0-9 only, see :data:`NUMBER_RE`).

The typed value is DuckDB's own cast of a cell that passed; a cell that is valid for frictionless
but has no DuckDB value (an integer beyond 64 bits) is typed NULL and reported by the meaning
checks, never silently dropped.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "SUPPORTED",
    "TYPE_MAP",
    "ident",
    "literal",
    "schema_problems",
    "pattern_sql",
    "type_ok_sql",
    "typed_sql",
    "comparable_sql",
    "bound_literal",
]

#: Table Schema field type -> DuckDB column type.
TYPE_MAP: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}

#: Constraints each type supports (as frictionless 5 does); anything else is a schema problem.
SUPPORTED: dict[str, frozenset[str]] = {
    "string": frozenset({"required", "unique", "minLength", "maxLength", "pattern", "enum"}),
    "integer": frozenset({"required", "unique", "minimum", "maximum", "exclusiveMinimum",
                          "exclusiveMaximum", "enum"}),
    "number": frozenset({"required", "unique", "minimum", "maximum", "exclusiveMinimum",
                         "exclusiveMaximum", "enum"}),
    "boolean": frozenset({"required", "unique", "enum"}),
    "date": frozenset({"required", "unique", "minimum", "maximum", "exclusiveMinimum",
                       "exclusiveMaximum", "enum"}),
}
_UNSUPPORTED_KEYS = frozenset({"bareNumber", "decimalChar", "groupChar", "floatNumber",
                               "missingValues"})

TRUE_VALUES = ("true", "True", "TRUE", "1")
FALSE_VALUES = ("false", "False", "FALSE", "0")

#: Python's whitespace (``str.isspace``), which ``str.strip`` removes, as an RE2 class (for
#: patterns; the type checks use the ASCII part, see :data:`INTEGER_RE`).
SPACE = (r"[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
         r"\x{202f}\x{205f}\x{3000}]")
_NOT_SPACE = SPACE.replace("[", "[^", 1)
#: Numbers are read as frictionless reads them (``int()`` / ``Decimal()`` of the stripped
#: cell: signs, underscores between digits, exponents, Infinity and NaN in any case) but with
#: the ASCII digits 0-9 and ASCII whitespace only: "١٢" is a number to Python, not to a reader
#: of this package (and Unicode classes cost RE2 five times as much to compile).
_ASCII_SPACE = r"[\t\n\x0b\x0c\r ]"
_DIGITS = r"[0-9]+(?:_[0-9]+)*"
INTEGER_RE = rf"^{_ASCII_SPACE}*[+-]?{_DIGITS}{_ASCII_SPACE}*$"
NUMBER_RE = (rf"^{_ASCII_SPACE}*[+-]?(?:(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})"
             rf"(?:[eE][+-]?{_DIGITS})?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
             rf"|[sS]?[nN][aA][nN](?:[0-9]+)?){_ASCII_SPACE}*$")
DATE_RE = (r"^[0-9]{4}-(?:1[0-2]|0[1-9]|[1-9])-(?:3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])$")


def ident(name: str) -> str:
    """Quote an SQL identifier (column names such as ``round`` or ``column`` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """Quote an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _text_list(values: list[Any]) -> str:
    return ", ".join(literal(str(v)) for v in values)


def type_ok_sql(field: dict[str, Any], cell: str) -> str:
    """True when a present ``cell`` is a value of the field's type (frictionless' reading)."""
    kind = field.get("type", "string")
    if kind == "string":
        return "true"
    if kind == "integer":
        return f"regexp_matches({cell}, {literal(INTEGER_RE)})"
    if kind == "number":
        return f"regexp_matches({cell}, {literal(NUMBER_RE)})"
    if kind == "boolean":
        values = [*field.get("trueValues", TRUE_VALUES), *field.get("falseValues", FALSE_VALUES)]
        return f"({cell} IN ({_text_list(values)}))"
    if kind == "date":
        return (f"(regexp_matches({cell}, {literal(DATE_RE)}) "
                f"AND try_strptime(trim({cell}), '%Y-%m-%d') IS NOT NULL)")
    raise ValueError(kind)


def typed_sql(field: dict[str, Any], cell: str) -> str:
    """DuckDB's value of a cell already known to be present and of the right type."""
    kind = field.get("type", "string")
    if kind == "string":
        return cell
    if kind == "integer":
        return f"TRY_CAST({cell} AS BIGINT)"
    if kind == "number":
        return (f"coalesce(TRY_CAST({cell} AS DOUBLE), "
                f"CASE WHEN regexp_matches({cell}, '(?i)nan') THEN 'NaN'::DOUBLE END)")
    if kind == "boolean":
        true = _text_list(list(field.get("trueValues", TRUE_VALUES)))
        return f"({cell} IN ({true}))"
    if kind == "date":
        return f"CAST(try_strptime(trim({cell}), '%Y-%m-%d') AS DATE)"
    raise ValueError(kind)


def comparable_sql(field: dict[str, Any], value: str, cell: str) -> str:
    """The value bounds are compared with: an integer beyond 64 bits compares as a double."""
    if field.get("type") == "integer":
        return f"coalesce(CAST({value} AS DOUBLE), TRY_CAST({cell} AS DOUBLE))"
    return value


def bound_literal(field: dict[str, Any], bound: Any) -> str | None:
    """A bound or enum value of the field as an SQL literal of its type; None if unreadable."""
    kind = field.get("type", "string")
    if kind == "string":
        return literal(str(bound))
    if kind in ("integer", "number"):
        try:
            number = Decimal(str(bound).strip()) if not isinstance(bound, bool) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            return None
        return f"CAST({literal(str(number))} AS DOUBLE)"
    if kind == "boolean":
        if bound in (True, False):
            return "true" if bound else "false"
        if str(bound) in field.get("trueValues", TRUE_VALUES):
            return "true"
        if str(bound) in field.get("falseValues", FALSE_VALUES):
            return "false"
        return None
    if kind == "date":
        if isinstance(bound, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", bound):
            return f"DATE {literal(bound)}"
        return None
    return None


# --------------------------------------------------------------------------- patterns

_CLASS_ESCAPES = {"d": r"\p{Nd}", "s": SPACE[1:-1], "w": r"\p{L}\p{N}_"}
_OUTSIDE_ESCAPES = {"d": r"\p{Nd}", "D": r"\P{Nd}", "s": SPACE, "S": _NOT_SPACE,
                    "w": r"[\p{L}\p{N}_]", "W": r"[^\p{L}\p{N}_]"}


def _python_to_re2(pattern: str) -> str:
    """Python's ``\\d``, ``\\s``, ``\\w`` (Unicode in str patterns) spelled for RE2 (ASCII)."""
    out = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if in_class and nxt in _CLASS_ESCAPES:
                out.append(_CLASS_ESCAPES[nxt])
            elif not in_class and nxt in _OUTSIDE_ESCAPES:
                out.append(_OUTSIDE_ESCAPES[nxt])
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            if pattern[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":  # a literal ] first in a class
                out.append("\\]")
                i += 1
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def pattern_sql(pattern: str, cell: str) -> str:
    """True when ``cell`` matches like frictionless' ``re.match("^" + pattern + "$", cell)``.

    Python's ``$`` also matches before a final newline: a cell ending in one is tried without it.
    """
    regex = literal("^(?:^" + _python_to_re2(pattern) + "$)")
    return (f"CASE WHEN regexp_matches({cell}, {regex}) THEN true WHEN suffix({cell}, chr(10)) "
            f"THEN regexp_matches({cell}[:-2], {regex}) ELSE false END")


def schema_problems(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for every part of a Table Schema this validator cannot check."""
    out: list[tuple[str, str]] = []
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        return [("fields", "the schema needs a non-empty 'fields' list")]
    names = set()
    for i, field in enumerate(fields):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            out.append((f"fields[{i}]", "each field needs a name"))
            continue
        name = field["name"]
        if name in names:
            out.append((name, f"field '{name}' is defined twice"))
        names.add(name)
        kind = field.get("type", "string")
        if kind not in SUPPORTED:
            out.append((name, f"type {kind!r} is not supported (use one of: "
                              f"{', '.join(SUPPORTED)})"))
            continue
        if field.get("format", "default") != "default":
            out.append((name, f"format {field['format']!r} is not supported"))
        for key in _UNSUPPORTED_KEYS.intersection(field):
            out.append((name, f"'{key}' is not supported"))
        constraints = field.get("constraints", {})
        if not isinstance(constraints, dict):
            out.append((name, "'constraints' must be an object"))
            continue
        for key, value in constraints.items():
            if key not in SUPPORTED[kind]:
                out.append((name, f"constraint {key!r} is not supported for type {kind!r}"))
            elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                if bound_literal(field, value) is None:
                    out.append((name, f"constraint {key!r} has an unreadable value"))
            elif key == "enum" and (not isinstance(value, list)
                                    or any(bound_literal(field, v) is None for v in value)):
                out.append((name, "constraint 'enum' must be a list of values of the field's type"))
            elif key == "pattern":
                try:
                    re.compile(value)
                except (re.error, TypeError):
                    out.append((name, "constraint 'pattern' is not a valid regular expression"))
            elif key in ("minLength", "maxLength") and not isinstance(value, int):
                out.append((name, f"constraint {key!r} must be a whole number"))
    missing = schema.get("missingValues", [""])
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        out.append(("missingValues", "'missingValues' must be a list of strings"))
    for key in ("primaryKey",):
        value = schema.get(key, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(v in names for v in value):
            out.append((key, f"'{key}' names fields the schema does not define"))
    for fk in schema.get("foreignKeys", []):
        fk_fields = fk.get("fields") if isinstance(fk, dict) else None
        fk_fields = [fk_fields] if isinstance(fk_fields, str) else fk_fields
        ref = fk.get("reference", {}) if isinstance(fk, dict) else {}
        ref_fields = ref.get("fields") if isinstance(ref, dict) else None
        ref_fields = [ref_fields] if isinstance(ref_fields, str) else ref_fields
        if not isinstance(fk_fields, list) or not all(f in names for f in fk_fields) \
                or not isinstance(ref_fields, list) or len(ref_fields) != len(fk_fields):
            out.append(("foreignKeys", "a foreign key names unknown fields or a different "
                                       "number of reference fields"))
    return out

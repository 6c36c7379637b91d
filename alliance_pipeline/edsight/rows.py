"""The body of an export row by row: the reference parser (``fast_body`` parses the plain case column by column and
gives the same frame), and the one that names every bad row and cell in one error."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from alliance_pipeline.edsight.columns import CODE_COLUMNS
from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.edsight.fast_body import NUMBER
from alliance_pipeline.edsight.text import is_blank

# ``.`` is SAS's missing value: EdSight's Next Generation Accountability export writes it for every value that
# does not apply (a district with no high school has no graduation rate).
SUPPRESSION_MARKERS = frozenset({"*", "", "N/A", "NA", "n/a", "."})
_CODE_FORMULA = re.compile(r'^="?(.*?)"?$')
_NUMBER = re.compile(NUMBER)


def normalise_district_code(raw: str) -> str | None:
    """``="0010011"``, ``0010011`` and ``10011`` -> ``"0010011"``; blank -> None.

    Anything that is not digits after unwrapping is returned as written, so that
    validation reports it rather than the reader guessing.
    """
    text = raw.strip()
    match = _CODE_FORMULA.match(text)
    if match and text.startswith("="):
        text = match.group(1).strip('"')
    if text == "":
        return None
    if text.isdigit() and len(text) <= 7:
        return text.zfill(7)
    return text


def _parse_number(path: Path, text: str, kind: str, line: int, header: str) -> float | int:
    cleaned = text.strip().replace(",", "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1].strip()
    if not _NUMBER.match(cleaned):
        raise EdSightFormatError(path, f"expected a number, found {text!r}", row=line, column=header)
    value = float(cleaned)
    if kind == "int":
        if not value.is_integer():
            raise EdSightFormatError(path, f"expected a whole number, found {text!r}", row=line, column=header)
        return int(value)
    return value


def _looks_numeric(values: list[str]) -> bool:
    seen = False
    for value in values:
        if value.strip() in SUPPRESSION_MARKERS:
            continue
        cleaned = value.strip().replace(",", "").rstrip("%").strip()
        if not _NUMBER.match(cleaned):
            return False
        seen = True
    return seen


def parse_rows(path: Path, rows: list[tuple[int, list[str]]], names: list[str], header: list[str],
                kinds: dict[str, str]) -> tuple[dict[str, object], list[list[str]], list[int]]:
    """The body row by row: columns (clean name -> pandas array), each row's suppressed columns, each row's line."""
    kinds = dict(kinds)
    records: list[list[str]] = []
    lines: list[int] = []
    problems: list[EdSightFormatError] = []  # every bad row and cell, found in one pass
    for line, row in rows:
        if is_blank(row):
            continue
        cells = [cell.strip() for cell in row]
        if len(cells) > len(names) and not any(cells[len(names):]):
            cells = cells[: len(names)]
        if len(cells) != len(names):
            problems.append(EdSightFormatError(path, f"row has {len(cells)} cells but the header has {len(names)}",
                                               row=line))
            continue
        records.append(cells)
        lines.append(line)

    columns = {name: [record[i] for record in records] for i, name in enumerate(names)}
    for name, kind in kinds.items():
        if kind == "infer":
            kinds[name] = "float" if _looks_numeric(columns[name]) else "text"

    suppressed: list[list[str]] = [[] for _ in records]
    out: dict[str, object] = {}
    for i, name in enumerate(names):
        kind = kinds[name]
        raw = columns[name]
        if name in CODE_COLUMNS:
            out[name] = pd.array([normalise_district_code(v) for v in raw], dtype="string")
        elif kind in ("id", "text"):
            out[name] = pd.array([v if v != "" else None for v in raw], dtype="string")
        else:
            values: list[object] = []
            for row_number, (value, line) in enumerate(zip(raw, lines)):
                if value in SUPPRESSION_MARKERS:
                    values.append(None)
                    suppressed[row_number].append(name)
                else:
                    try:
                        values.append(_parse_number(path, value, kind, line, header[i]))
                    except EdSightFormatError as problem:
                        problems.append(problem)
                        values.append(None)
            if not problems:
                out[name] = pd.array(values, dtype="Int64" if kind == "int" else "Float64")
    if problems:
        raise all_problems(path, problems)
    return out, suppressed, lines


MAX_PROBLEMS = 50


def all_problems(path: Path, problems: list[EdSightFormatError]) -> EdSightFormatError:
    """One error for every problem found (the first names the row and column; the message lists the others, up to
    ``MAX_PROBLEMS``), so an export is fixed in one pass, not one refusal at a time."""
    problems = sorted(problems, key=lambda p: (p.row or 0))
    first = problems[0]
    if len(problems) == 1:
        return first
    others = [f"row {p.row}" + (f", column {p.column!r}" if p.column else "") + f": {p.reason}"
              for p in problems[1:MAX_PROBLEMS]]
    more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
    return type(first)(path, f"{first.reason}; {len(problems)} problems in all, also: " + "; ".join(others) + more,
                       row=first.row, column=first.column)

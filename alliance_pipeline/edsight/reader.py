"""One reader for every EdSight export family.

EdSight writes CSVs for people, not programs: a few title rows (report name,
population, sometimes the school year on a line of its own), an optional row of
merged group labels above the real header, district codes as Excel formulas
(``="0010011"``), ``*`` where a value is suppressed, and percent strings
(``48.2%``). Spreadsheets that re-save the file drop the formula wrapper and the
leading zeros, pad the title rows with commas and switch to LF endings.

``read_export`` finds the header row from its content (no per-file skiprows),
returns a tidy frame with clean column names, and keeps for every row the line
it came from (``source_row``) and which of its cells were suppressed
(``suppressed_columns``), so every later number can be traced to the export.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from alliance_pipeline.edsight.columns import (
    CODE_COLUMNS,
    DISTRICT_ID_KEYS,
    KNOWN_COLUMNS,
    column_kind,
    compact,
    merge_header,
)
from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.edsight.fast_body import NUMBER, parse_body
from alliance_pipeline.school_year import consecutive, year_label

# ``.`` is SAS's missing value: EdSight's Next Generation Accountability export writes it for every value that
# does not apply (a district with no high school has no graduation rate).
SUPPRESSION_MARKERS = frozenset({"*", "", "N/A", "NA", "n/a", "."})

AGGREGATE_NAMES = frozenset({"total", "state of connecticut", "connecticut"})
STATE_CODE = "0000000"
HEADER_SEARCH_ROWS = 25
LINES_PER_ROW = 8  # the lines read for each of the first rows (a quoted cell may hold line breaks)

_SCHOOL_YEAR = re.compile(r"\b(\d{4})-(\d{2})\b")
_CODE_FORMULA = re.compile(r'^="?(.*?)"?$')
_NUMBER = re.compile(NUMBER)


@dataclass(frozen=True)
class EdSightExport:
    """A parsed export: the tidy frame plus what the title rows and file say."""

    path: str
    sha256: str
    title: str
    subtitles: tuple[str, ...]
    school_year: str | None
    school_year_source: str | None
    header_row: int
    frame: pd.DataFrame = field(repr=False)
    header_labels: dict[str, str] = field(default_factory=dict, repr=False)  # clean name -> header text

    @property
    def suppressed_cells(self) -> int:
        return int(self.frame["suppressed_columns"].map(len).sum())

    @property
    def district_rows(self) -> pd.DataFrame:
        return self.frame[~self.frame["is_aggregate"]]

    @property
    def districts(self) -> int:
        if "district_code" not in self.frame:
            return 0
        return int(self.district_rows["district_code"].nunique())


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


BINARY_SIGNATURES = {
    b"\x1f\x8b": "a gzip archive",
    b"PK\x03\x04": "a zip archive (an .xlsx workbook or a zipped download)",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook",
}


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def not_text(head: bytes) -> tuple[str, int] | None:
    """Why the bytes that start a file are not a CSV export (binary), with the line; None if they may be."""
    for signature, kind in BINARY_SIGNATURES.items():
        if head.startswith(signature):
            return f"this is {kind}, not a CSV export; download the CSV from EdSight again", 1
    if b"\x00" in head:
        return "binary data (NUL bytes), not a CSV export", _line_of(head, head.index(b"\x00"))
    return None


def looks_like_html(head: bytes) -> bool:
    """A web page (a login, error or portal page saved under the export's name)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or b"<html" in start


def _decode(path: Path, data: bytes, lines: int | None = None) -> tuple[str, bool, bool]:
    """The export's text, whether it was UTF-8 (with or without BOM), else Windows-1252 as Excel saves it, and
    whether the text is the whole file.

    A binary file (an archive, a workbook, a PDF, NUL bytes) or bytes that are text in
    neither encoding is rejected with the line where the first bad byte sits. With ``lines``, an ASCII file (as
    EdSight writes them) is decoded only as far as its first ``lines`` lines: the rest is read as bytes.
    """
    problem = not_text(data[:65536])
    if problem:
        raise EdSightFormatError(path, problem[0], row=problem[1])
    if lines is not None and data.isascii():
        end = _after_line(data, lines)
        return data[:end].decode("ascii"), True, end == len(data)
    try:
        return data.decode("utf-8-sig"), True, True
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), False, True
    except UnicodeDecodeError as exc:
        raise EdSightFormatError(
            path, f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not text in UTF-8 or Windows-1252; "
            "the file is damaged or not a CSV export", row=_line_of(data, exc.start),
        ) from None


def _read_rows(path: Path, text: str, limit: int | None = None) -> list[tuple[int, list[str], int]]:
    """CSV rows, each with the 1-based line it starts on and the line it ends on; with ``limit``, only the first
    ``limit`` rows, read from the first lines of ``text`` (not a copy of a large file)."""
    head = text if limit is None else text[: _after_line(text, limit * LINES_PER_ROW)]  # enough for ``limit`` rows
    reader = csv.reader(io.StringIO(head, newline=""))
    rows = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row, reader.line_num))
            start = reader.line_num + 1
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        raise EdSightFormatError(path, f"not a readable CSV: {exc}", row=reader.line_num) from exc
    return rows


def _after_line(text: str | bytes, line: int) -> int:
    """Where the text after its first ``line`` lines starts."""
    newline = "\n" if isinstance(text, str) else b"\n"
    end = -1
    for _ in range(line):
        end = text.find(newline, end + 1)
        if end < 0:
            return len(text)
    return end + 1


def _is_blank(row: list[str]) -> bool:
    return all(cell.strip() == "" for cell in row)


def _find_header(path: Path, rows: list[tuple[int, list[str]]]) -> int:
    for index, (_, row) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [compact(cell) for cell in row]
        known = sum(1 for key in keys if key in KNOWN_COLUMNS)
        if known >= 2 and any(key in DISTRICT_ID_KEYS for key in keys):
            return index
    raise EdSightFormatError(
        path,
        f"no header row found in the first {HEADER_SEARCH_ROWS} rows "
        "(expected a row naming 'District' or 'District Code' and other EdSight columns)",
    )


def _school_year(lines: list[str]) -> str | None:
    for line in lines:
        match = _SCHOOL_YEAR.search(line)
        if match:
            start, end = int(match.group(1)), int(match.group(2))
            if consecutive(start, end):
                return match.group(0)
    return None


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


def _factorized(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's place among the column's distinct values (-1 where blank), and those values."""
    place, values = pd.factorize(column)
    return place, list(values)


def _per_row(place: np.ndarray, flags) -> np.ndarray:
    """A flag per distinct value, spread to the rows (False where the row's value is blank)."""
    return np.append(np.asarray(flags, dtype=bool), False)[place]


def _nfc(names: pd.Series) -> pd.Series | None:
    """The names in Unicode's composed form (NFC) when any is written otherwise (NFD: a letter and its accent as two
    code points), else None. An ASCII column (every real export so far) is left as it is, unread."""
    values = pa.array(names, pa.string(), from_pandas=True)
    if pc.all(pc.fill_null(pc.string_is_ascii(values), True)).as_py():
        return None
    distinct = pd.unique(names.dropna())
    composed = {value: unicodedata.normalize("NFC", value) for value in distinct}
    if all(value == composed[value] for value in distinct):
        return None
    return names.map(composed, na_action="ignore").astype(names.dtype)


def _one_name_per_code(places: dict[str, tuple[np.ndarray, list[str]]], aggregate: np.ndarray) -> bool:
    """Whether every district code (of the district rows with a name) has one name: the quick test, on places."""
    (name, names), (code, _) = places["district_name"], places["district_code"]
    rows = ~aggregate & (name >= 0) & (code >= 0)
    pairs = pd.unique(code[rows].astype(np.int64) * (len(names) + 1) + name[rows])
    return pd.Index(pairs // (len(names) + 1)).is_unique


def _check_one_name_per_code(path: Path, frame: pd.DataFrame, lines: list[int], labels: dict[str, str]) -> None:
    """One district code, one name: a code listed under two names means rows were pasted from another district."""
    if "district_name" not in frame or "district_code" not in frame:
        return
    names = frame["district_name"].str.strip()
    rows = pd.DataFrame({"district_code": frame["district_code"], "name": names})[~frame["is_aggregate"] & names.notna()]
    # Each code's usual name: its most frequent name, the first in sort order among equally frequent ones.
    counts = rows.value_counts(["district_code", "name"]).rename("rows").reset_index()
    if counts["district_code"].is_unique:  # every code has one name: nothing to find
        return
    counts = counts.sort_values(["district_code", "rows", "name"], ascending=[True, False, True], kind="stable")
    usual = counts.drop_duplicates("district_code").set_index("district_code")["name"]
    usual_name = frame["district_code"].map(usual)
    # Only a row with a name, whose code has a usual name, can clash (a blank name is not a second name).
    named = (names.notna() & usual_name.notna()).astype(bool)
    clash = named & names.ne(usual_name).fillna(False).astype(bool) & ~frame["is_aggregate"]
    if clash.any():
        row = int(clash.idxmax())
        code = frame.at[row, "district_code"]
        count = int((names == usual[code]).sum())
        raise EdSightFormatError(
            path, f"district code {code} is listed as {usual[code]!r} on {count} row(s) and, on this row, as "
            f"{names.iloc[row]!r}", row=int(lines[row]), column=labels.get("district_name", "District Name"))


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


def _parse_rows(path: Path, rows: list[tuple[int, list[str]]], names: list[str], header: list[str],
                kinds: dict[str, str]) -> tuple[dict[str, object], list[list[str]], list[int]]:
    """The body row by row: columns (clean name -> pandas array), each row's suppressed columns, each row's line."""
    kinds = dict(kinds)
    records: list[list[str]] = []
    lines: list[int] = []
    problems: list[EdSightFormatError] = []  # every bad row and cell, found in one pass
    for line, row in rows:
        if _is_blank(row):
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


def _continue_blocks(frame: pd.DataFrame) -> int:
    """Give each row with a blank name and a blank code the name and code of the block's first row (the row above
    that has either); returns how many rows were continued. Rows before any named row stay blank."""
    names = frame["district_name"].astype(object).to_numpy()
    codes = frame["district_code"].astype(object).to_numpy()
    blank = np.array([(n is None or n is pd.NA or str(n).strip() == "") and (c is None or c is pd.NA)
                      for n, c in zip(names, codes)], dtype=bool)
    head = np.maximum.accumulate(np.where(~blank, np.arange(len(blank)), -1)) if len(blank) else blank.astype(int)
    rows = blank & (head >= 0)
    if not rows.any():
        return 0
    for name, values in (("district_name", names), ("district_code", codes)):
        filled = values.copy()
        filled[rows] = values[head[rows]]
        frame[name] = pd.array(filled, dtype="string")
    return int(rows.sum())


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


def read_export(path: str | Path, expected_year: str | None = None, continued_rows: bool = False) -> EdSightExport:
    """Parse one EdSight export.

    ``expected_year`` is the school year the caller loads the file for; a file
    whose title (or ``FallOfYear`` column) names another year is rejected.
    ``continued_rows``: the export writes a district's name and code once, on the first row of its block (the
    all-grades-combined report: the Math row under the ELA row has both blank); such a row belongs to the district
    above it. A first data row with neither is still an error.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EdSightFormatError(path, f"cannot read file: {exc.strerror or exc}") from exc
    # (the header row is found among the first 25 rows: only their lines are decoded, as many as _read_rows reads)
    text, utf8, whole = _decode(path, data, lines=(HEADER_SEARCH_ROWS + 1) * LINES_PER_ROW)
    top = _read_rows(path, text, HEADER_SEARCH_ROWS + 1)
    header_index = _find_header(path, [(start, row) for start, row, _ in top])
    header_line, header, header_end = top[header_index]
    header = [cell.strip() for cell in header]
    while header and header[-1] == "" and len(header) > 1:
        header.pop()

    above = [row for _, row, _ in top[:header_index]]
    group_row = None
    if above and not _is_blank(above[-1]) and any(cell.strip() for cell in above[-1][1:]):
        group_row = above.pop()
    title_lines = [row[0].strip() for row in above if row and row[0].strip()]
    title = title_lines[0] if title_lines else ""
    names, labels = merge_header(group_row, header)
    kinds = {name: column_kind(name) for name in names}

    body = None
    head = text[: _after_line(text, header_end)]
    if head.count("\r") == head.count("\r\n"):  # csv counts a lone CR above the body as a line: lines would differ
        # the body's UTF-8 bytes: the file's own when it is UTF-8 (past the BOM and the head), else re-encoded
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        utf8_bytes, start = (data, bom + len(head.encode("utf-8"))) if utf8 else (text[len(head):].encode("utf-8"), 0)
        body = parse_body(utf8_bytes, start, header_end + 1, names, kinds, SUPPRESSION_MARKERS, normalise_district_code)
    if body is not None:  # the common, plain case, column by column
        out, suppressed, lines = body.columns, body.suppressed, body.lines
    else:  # anything else, row by row: the reference parser, and the one that names what is wrong and where
        if not whole:
            text, _, _ = _decode(path, data)
        rows = [(start, row) for start, row, _ in _read_rows(path, text)[header_index + 1:]]
        out, suppressed, lines = _parse_rows(path, rows, names, header, kinds)
    frame = pd.DataFrame(out, copy=False)  # the columns were just built for this frame

    # district_name and district_code as each row's place among their distinct values: the tests below run once
    # per distinct value (the column-by-column parser has them already)
    distinct = body.distinct if body is not None else {}
    if continued_rows and {"district_name", "district_code"} <= set(frame):
        continued = _continue_blocks(frame)
        if continued:
            distinct = {name: value for name, value in distinct.items() if name not in ("district_name", "district_code")}
    if "district_name" in frame and (nfc := _nfc(frame["district_name"])) is not None:
        frame["district_name"] = nfc  # one spelling of the same letters (NFC), so no rename and no clash is invented
        distinct = {name: value for name, value in distinct.items() if name != "district_name"}
    places = {name: distinct.get(name) or _factorized(frame[name]) for name in ("district_name", "district_code")
              if name in frame}
    aggregate = np.zeros(len(frame), dtype=bool)
    named = np.zeros(len(frame), dtype=bool)
    if "district_name" in places:
        place, values = places["district_name"]
        stripped = pc.utf8_trim_whitespace(pa.array(values, pa.string()))
        aggregate |= _per_row(place, pc.is_in(pc.utf8_lower(stripped), value_set=pa.array(sorted(AGGREGATE_NAMES))))
        named = _per_row(place, pc.not_equal(stripped, ""))
    if "district_code" in places:
        place, values = places["district_code"]
        aggregate |= _per_row(place, [value == STATE_CODE for value in values])
        missing = place == -1
        if (aggregate & missing).any():
            frame.loc[aggregate & missing, "district_code"] = STATE_CODE
        missing &= ~aggregate
        # A named row with a blank code is real data (EdSight writes ``=""`` for a state agency and for newly opened
        # districts): kept with no code and flagged, never given one. A blank code on a row with no name is an error.
        if (missing & ~named).any():
            first = int(np.flatnonzero(missing & ~named)[0])
            raise EdSightFormatError(path, "district code is blank" + (" and so is the district name" if "district_name"
                                     in frame else ""), row=int(lines[first]), column=dict(zip(names, labels)).get("district_code", "District Code"))
        frame["code_missing"] = missing
    else:
        # A statewide report (no code column): every row is the state aggregate.
        frame.insert(1 if "district_name" in frame else 0, "district_code", pd.array([STATE_CODE] * len(frame), dtype="string"))
        frame["code_missing"] = False
    frame["is_aggregate"] = aggregate
    if len(places) == 2 and not _one_name_per_code(places, aggregate):
        _check_one_name_per_code(path, frame, lines, labels=dict(zip(names, labels)))
    frame["suppressed_columns"] = pd.Series(suppressed, index=frame.index, dtype=object)
    frame["source_row"] = pd.array(lines, dtype="Int64")

    year = _school_year(title_lines)
    year_source = "title" if year else None
    if year is None and "fall_of_year" in frame and frame["fall_of_year"].notna().any():
        falls = sorted(set(int(v) for v in frame["fall_of_year"].dropna()))
        if len(falls) > 1:
            first = int(frame["fall_of_year"].dropna().iloc[0])
            other = int((frame["fall_of_year"].notna() & frame["fall_of_year"].ne(first)).idxmax())
            raise EdSightFormatError(
                path, f"rows from several years {falls}: the first data row is for {first}, this row for "
                f"{int(frame['fall_of_year'].iloc[other])}", row=int(lines[other]), column="FallOfYear")
        year, year_source = year_label(falls[0]), "FallOfYear column"
    if expected_year is not None and year is not None and year != expected_year:
        raise EdSightFormatError(
            path,
            f"the export is for school year {year} (from its {year_source}) but was loaded for {expected_year}",
            row=1 if year_source == "title" else None,
        )
    if expected_year is not None and year is None:
        raise EdSightFormatError(path, f"no school year in the title rows; cannot confirm it is {expected_year}")

    return EdSightExport(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        title=title,
        subtitles=tuple(title_lines[1:]),
        school_year=year,
        school_year_source=year_source,
        header_row=header_line,
        frame=frame,
        header_labels=dict(zip(names, labels)),
    )


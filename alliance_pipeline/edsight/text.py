"""An export file as text: its bytes checked (not an archive, a workbook or a web page), decoded (UTF-8, else
Windows-1252 as Excel saves it), its first rows as CSV, the header row found by its content, and the school year
its title names."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from alliance_pipeline.edsight.columns import DISTRICT_ID_KEYS, KNOWN_COLUMNS, compact
from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.school_year import consecutive

HEADER_SEARCH_ROWS = 25
LINES_PER_ROW = 8  # the lines read for each of the first rows (a quoted cell may hold line breaks)

_SCHOOL_YEAR = re.compile(r"\b(\d{4})-(\d{2})\b")

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


def decode(path: Path, data: bytes, lines: int | None = None) -> tuple[str, bool, bool]:
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
        end = after_line(data, lines)
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


def read_rows(path: Path, text: str, limit: int | None = None) -> list[tuple[int, list[str], int]]:
    """CSV rows, each with the 1-based line it starts on and the line it ends on; with ``limit``, only the first
    ``limit`` rows, read from the first lines of ``text`` (not a copy of a large file)."""
    head = text if limit is None else text[: after_line(text, limit * LINES_PER_ROW)]  # enough for ``limit`` rows
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


def after_line(text: str | bytes, line: int) -> int:
    """Where the text after its first ``line`` lines starts."""
    newline = "\n" if isinstance(text, str) else b"\n"
    end = -1
    for _ in range(line):
        end = text.find(newline, end + 1)
        if end < 0:
            return len(text)
    return end + 1


def is_blank(row: list[str]) -> bool:
    return all(cell.strip() == "" for cell in row)


def find_header(path: Path, rows: list[tuple[int, list[str]]]) -> int:
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


def school_year_in(lines: list[str]) -> str | None:
    for line in lines:
        match = _SCHOOL_YEAR.search(line)
        if match:
            start, end = int(match.group(1)), int(match.group(2))
            if consecutive(start, end):
                return match.group(0)
    return None

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
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from alliance_pipeline.edsight.columns import column_kind, merge_header
from alliance_pipeline.edsight.districts import mark_districts
from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.edsight.fast_body import parse_body
from alliance_pipeline.edsight.rows import SUPPRESSION_MARKERS, normalise_district_code, parse_rows
from alliance_pipeline.edsight.text import (
    HEADER_SEARCH_ROWS,
    LINES_PER_ROW,
    after_line,
    decode,
    find_header,
    is_blank,
    read_rows,
    school_year_in,
)
from alliance_pipeline.school_year import year_label


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
    head = _head(path, data)
    frame, suppressed, lines, distinct = _body(path, data, head)
    labels = dict(zip(head.names, head.labels))
    mark_districts(path, frame, lines, labels, distinct, continued_rows)
    frame["suppressed_columns"] = pd.Series(suppressed, index=frame.index, dtype=object)
    frame["source_row"] = pd.array(lines, dtype="Int64")
    year, year_source = _school_year(path, head.title_lines, frame, lines, expected_year)
    return EdSightExport(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        title=head.title_lines[0] if head.title_lines else "",
        subtitles=tuple(head.title_lines[1:]),
        school_year=year,
        school_year_source=year_source,
        header_row=head.header_line,
        frame=frame,
        header_labels=labels,
    )


@dataclass
class _Head:
    """What the rows above the body say: the text decoded so far, the header row and its clean column names."""

    text: str
    utf8: bool
    whole: bool  # the text is the whole file (else only its first lines were decoded)
    header_index: int  # among the rows
    header_line: int
    header_end: int  # the line the header row ends on
    header: list[str]
    title_lines: list[str]
    names: list[str]
    labels: list[str]


def _head(path: Path, data: bytes) -> _Head:
    # (the header row is found among the first 25 rows: only their lines are decoded, as many as read_rows reads)
    text, utf8, whole = decode(path, data, lines=(HEADER_SEARCH_ROWS + 1) * LINES_PER_ROW)
    top = read_rows(path, text, HEADER_SEARCH_ROWS + 1)
    header_index = find_header(path, [(start, row) for start, row, _ in top])
    header_line, header, header_end = top[header_index]
    header = [cell.strip() for cell in header]
    while header and header[-1] == "" and len(header) > 1:
        header.pop()
    above = [row for _, row, _ in top[:header_index]]
    group_row = None
    if above and not is_blank(above[-1]) and any(cell.strip() for cell in above[-1][1:]):
        group_row = above.pop()
    title_lines = [row[0].strip() for row in above if row and row[0].strip()]
    names, labels = merge_header(group_row, header)
    return _Head(text, utf8, whole, header_index, header_line, header_end, header, title_lines, names, labels)


def _body(path: Path, data: bytes, head: _Head) -> tuple[pd.DataFrame, list[list[str]], list[int], dict]:
    """The rows below the header: the frame, each row's suppressed columns and line, and the district columns'
    distinct values where the column-by-column parser found them."""
    kinds = {name: column_kind(name) for name in head.names}
    body = None
    text = head.text
    above = text[: after_line(text, head.header_end)]
    if above.count("\r") == above.count("\r\n"):  # csv counts a lone CR above the body as a line: lines would differ
        # the body's UTF-8 bytes: the file's own when it is UTF-8 (past the BOM and the head), else re-encoded
        bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        utf8_bytes, start = ((data, bom + len(above.encode("utf-8"))) if head.utf8
                             else (text[len(above):].encode("utf-8"), 0))
        body = parse_body(utf8_bytes, start, head.header_end + 1, head.names, kinds, SUPPRESSION_MARKERS,
                          normalise_district_code)
    if body is not None:  # the common, plain case, column by column
        out, suppressed, lines = body.columns, body.suppressed, body.lines
    else:  # anything else, row by row: the reference parser, and the one that names what is wrong and where
        if not head.whole:
            text, _, _ = decode(path, data)
        rows = [(start, row) for start, row, _ in read_rows(path, text)[head.header_index + 1:]]
        out, suppressed, lines = parse_rows(path, rows, head.names, head.header, kinds)
    frame = pd.DataFrame(out, copy=False)  # the columns were just built for this frame
    return frame, suppressed, lines, body.distinct if body is not None else {}


def _school_year(path: Path, title_lines: list[str], frame: pd.DataFrame, lines: list[int],
                 expected_year: str | None) -> tuple[str | None, str | None]:
    """The export's school year and where it was read (its title, else its FallOfYear column); a file for another
    year than ``expected_year``, or one naming none when a year is expected, is refused."""
    year = school_year_in(title_lines)
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
    return year, year_source

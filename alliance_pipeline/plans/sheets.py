"""Coding sheets: one file per district, plan year and coder (methodology section 12).

A sheet is a CSV or an Excel workbook named ``plan-coding__<district code>__<plan year>__<coder>.csv`` (or
``.xlsx``), one row per intervention: ``intervention_id`` (the same id in a later plan year means the intervention
continues), a short description, and one column per codebook topic holding its codes (several of one topic separated
by ``;``; the length topic holds a number of years). ``read_sheet`` checks it against the codebook and the Alliance
District roster and raises one ``CodingSheetError`` naming file, row and column for every problem found;
``write_template`` writes a blank sheet (CSV and XLSX with drop-down lists of the allowed codes).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.edsight.rows import all_problems
from alliance_pipeline.plans.codebook import Codebook
from alliance_pipeline.school_year import consecutive

PREFIX = "plan-coding"
SUFFIXES = (".csv", ".xlsx")
ID_COLUMNS = ["district_code", "plan_year", "coder", "intervention_id", "description"]
NOTES = "notes"
NAME = re.compile(r"^plan-coding__(?P<district>[^_]+)__(?P<year>[^_]+)__(?P<coder>[^_]+)\.(?:csv|xlsx)$")
CODER = re.compile(r"^[a-z0-9][a-z0-9-]*$")
YEAR = re.compile(r"^(\d{4})-(\d{2})$")
INTERVENTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_YEARS = 10  # the length topic: whole years, 1 to this
TEMPLATE_ROWS = 30


class CodingSheetError(EdSightFormatError):
    """A coding sheet that breaks the codebook's rules: ``path``, ``row`` (as a spreadsheet shows it), ``column``."""


def sheet_columns(codebook: Codebook) -> list[str]:
    return [*ID_COLUMNS, *codebook.topics, NOTES]


def sheet_name(district_code: str, plan_year: str, coder: str, suffix: str = ".csv") -> str:
    return f"{PREFIX}__{district_code}__{plan_year}__{coder}{suffix}"


@dataclass(frozen=True)
class SheetName:
    district_code: str
    plan_year: str
    coder: str


def parse_sheet_name(name: str) -> SheetName | None:
    match = NAME.match(name)
    return SheetName(match["district"], match["year"], match["coder"]) if match else None


def valid_year(year: str) -> bool:
    match = YEAR.match(year)
    return bool(match) and consecutive(int(match[1]), int(match[2]))


def roster_districts(roster: pd.DataFrame, plan_year: str) -> dict[str, str]:
    """code -> name of the Alliance Districts designated for ``plan_year`` (the roster's first and last years)."""
    inside = (roster["first_year"] <= plan_year) & (roster["last_year"] >= plan_year)
    return dict(zip(roster.loc[inside, "district_code"], roster.loc[inside, "district_name"]))


def roster_years(roster: pd.DataFrame) -> tuple[str, str]:
    """The first and last plan year the roster covers."""
    return str(roster["first_year"].min()), str(roster["last_year"].max())


def find_sheets(folder: str | Path | None) -> tuple[dict[str, list[Path]], dict[str, str]]:
    """(plan year -> its sheets, sorted; file -> why it is not a coding sheet) of a folder (not recursive); none
    when no folder was given."""
    years: dict[str, list[Path]] = {}
    strays: dict[str, str] = {}
    if folder is None or not Path(folder).is_dir():
        return years, strays
    folder = Path(folder)
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file() or path.name.lower() in ("readme.md", "readme.txt"):
            continue
        parsed = parse_sheet_name(path.name)
        if parsed is None:
            if path.suffix.lower() in SUFFIXES:
                strays[path.name] = (f"not named {PREFIX}__<district code>__<plan year>__<coder>.csv|.xlsx; not read")
            continue
        if not valid_year(parsed.plan_year):
            strays[path.name] = f"plan year {parsed.plan_year!r} in the file name is not a school year like 2014-15; not read"
            continue
        years.setdefault(parsed.plan_year, []).append(path)
    return dict(sorted(years.items())), strays


def _cells(path: Path) -> list[list[str]]:
    """Every row of the sheet as text cells (row 1 the header)."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book["coding"] if "coding" in book.sheetnames else book.worksheets[0]
            rows = [["" if value is None else (str(int(value)) if isinstance(value, float) and value.is_integer()
                                               else str(value)) for value in row]
                    for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
        return rows
    text = path.read_bytes().decode("utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


def _split(cell: str) -> list[str]:
    return list(dict.fromkeys(part.strip().lower() for part in cell.split(";") if part.strip()))


class _Problems(list):
    """Every problem of one sheet, found in one pass (file, row, column)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def __call__(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.append(CodingSheetError(self.path, message, row=row, column=column))


def read_sheet(path: str | Path, codebook: Codebook, roster: pd.DataFrame) -> pd.DataFrame:
    """One coding sheet as a table (one row per intervention; each topic's codes sorted and joined by ``;``), or
    ``CodingSheetError`` listing every problem (file, row, column)."""
    path = Path(path)
    problem = _Problems(path)
    name = parse_sheet_name(path.name)
    if name is None:
        raise CodingSheetError(path, f"not a coding sheet name: expected {PREFIX}__<district code>__<plan year>__<coder>"
                               ".csv or .xlsx")
    districts = _check_name(name, roster, problem)
    try:
        rows = _cells(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported by name
        raise CodingSheetError(path, f"cannot be read as a {path.suffix.lstrip('.').upper()} coding sheet: {exc}") from exc
    if not rows:
        raise CodingSheetError(path, "the file is empty: expected a header row and one row per intervention", row=1)
    index = _header_index(rows[0], codebook, problem)
    records = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        value = {column: (cells[i].strip() if i < len(cells) else "") for column, i in index.items()}
        if not value["intervention_id"] and not value["description"] and not any(value[t] for t in codebook.topics):
            continue  # a blank template row (its district, year and coder prefilled)
        records.append(_record(path, name, districts, number, value, seen, codebook, problem))
    if not records and not problem:
        problem("no interventions: every row below the header is blank", 2)
    if problem:
        raise all_problems(path, problem)
    frame = pd.DataFrame.from_records(records)
    for column in frame.columns:
        if column in ("length", "source_row"):
            frame[column] = pd.array(frame[column], dtype="Int64")
        else:
            frame[column] = frame[column].astype("string")
    return frame


def _check_name(name: SheetName, roster: pd.DataFrame, problem: _Problems) -> dict[str, str]:
    """What the file name says, checked against the roster; the plan year's districts (code -> name)."""
    first, last = roster_years(roster)
    districts = roster_districts(roster, name.plan_year)
    if not valid_year(name.plan_year) or not first <= name.plan_year <= last:
        problem(f"plan year {name.plan_year!r} (from the file name) is not a plan year of the Alliance District "
                f"roster ({first} to {last})", column="plan_year")
    elif name.district_code not in districts:
        problem(f"district {name.district_code!r} (from the file name) is not an Alliance District in {name.plan_year} "
                "(data/reference roster)", column="district_code")
    if not CODER.match(name.coder):
        problem(f"coder {name.coder!r} (from the file name): use lowercase letters, digits and hyphens", column="coder")
    return districts


def _header_index(cells: list[str], codebook: Codebook, problem: _Problems) -> dict[str, int]:
    """Each expected column's place in the header row; a missing or unknown column refuses the sheet at once."""
    header = [cell.strip() for cell in cells]
    expected = sheet_columns(codebook)
    for column in expected:
        if column not in header and column != NOTES:
            problem(f"required column {column!r} is missing from the header", row=1, column=column)
    for column in header:
        if column and column not in expected:
            problem(f"unknown column {column!r} (a coding sheet has {', '.join(expected)})", row=1, column=column)
    if problem and any(p.row == 1 for p in problem):
        raise all_problems(problem.path, problem)
    return {column: header.index(column) for column in expected if column in header}


def _record(path: Path, name: SheetName, districts: dict[str, str], number: int, value: dict[str, str],
            seen: dict[str, int], codebook: Codebook, problem: _Problems) -> dict:
    """One intervention's row (sheet row ``number``) as a record, each of its problems noted."""
    for column, expected_value in (("district_code", name.district_code), ("plan_year", name.plan_year),
                                   ("coder", name.coder)):
        if value[column] and value[column] != expected_value:
            problem(f"{value[column]!r} differs from the file name's {expected_value!r}", number, column)
    intervention = value["intervention_id"]
    if not intervention:
        problem("intervention_id is blank", number, "intervention_id")
    elif not INTERVENTION.match(intervention):
        problem(f"intervention_id {intervention!r}: use letters, digits, '.', '_' and '-'", number, "intervention_id")
    elif intervention in seen:
        problem(f"intervention_id {intervention!r} is also on row {seen[intervention]}", number, "intervention_id")
    else:
        seen[intervention] = number
    record = {"plan_year": name.plan_year, "district_code": name.district_code,
              "district_name": districts.get(name.district_code, ""), "coder": name.coder,
              "sheet_file": path.name, "source_row": number, "intervention_id": intervention,
              "description": value["description"]}
    for topic in codebook.topics:
        if topic in codebook.coded_topics:
            record[topic] = _codes(value[topic], topic, number, codebook, problem)
        else:
            record[topic] = _years(value[topic], topic, number, problem)
    for group, topics in codebook.required_groups.items():
        if not any(record[topic] for topic in topics):
            where = topics[0] if len(topics) == 1 else " / ".join(topics)
            problem(f"required topic {group} is empty" + (f" (code at least one of {', '.join(topics)})"
                                                          if len(topics) > 1 else ""), number, where)
    record[NOTES] = value.get(NOTES, "")
    return record


def _codes(cell: str, topic: str, number: int, codebook: Codebook, problem: _Problems) -> str:
    """A coded topic's cell: its codes, each checked against the codebook, sorted and joined by ``;``."""
    codes = _split(cell)
    for code in codes:
        owner = codebook.topic_of.get(code)
        if owner is None:
            problem(f"unknown code {code!r} (the codebook's {topic} codes: {', '.join(codebook.codes(topic))})",
                    number, topic)
        elif owner != topic:
            problem(f"code {code!r} belongs to topic {owner}, not {topic}", number, topic)
        elif codebook.parent_of.get(code) and codebook.parent_of[code] not in codes:
            problem(f"sub-code {code!r} needs its parent code {codebook.parent_of[code]!r} in the same cell",
                    number, topic)
    if len(codes) > 1 and not codebook.several[topic]:
        problem(f"{topic} takes one code; found {len(codes)}: {cell!r}", number, topic)
    return ";".join(sorted(codes))


def _years(cell: str, topic: str, number: int, problem: _Problems) -> int | None:
    """The length topic's cell: a whole number of years from 1 to ``MAX_YEARS``, or blank."""
    if not cell:
        return None
    try:
        years = int(cell)
        if not 1 <= years <= MAX_YEARS or str(years) != cell.lstrip("+"):
            raise ValueError
    except ValueError:
        problem(f"{topic} must be a whole number of years from 1 to {MAX_YEARS}; found {cell!r}", number, topic)
        return None
    return years


def sheets_fingerprint(sheets: list[Path]) -> str:
    """SHA-256 over the names and bytes of a plan year's sheets: the raw partition's data version (a sheet added,
    removed or edited is a new version; the same files again are not)."""
    digest = hashlib.sha256()
    for path in sorted(sheets, key=lambda p: p.name):
        digest.update(f"{path.name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def read_plan_year(sheets: list[Path], codebook: Codebook, roster: pd.DataFrame) -> pd.DataFrame:
    """Every sheet of one plan year in one table; every bad sheet's problems in one ``CodingSheetError`` (the first
    sheet's as its file, row and column; the others listed)."""
    frames, errors = [], []
    for path in sheets:
        try:
            frames.append(read_sheet(path, codebook, roster))
        except CodingSheetError as exc:
            errors.append(exc)
    if errors:
        first = errors[0]
        if len(errors) == 1:
            raise first
        raise CodingSheetError(first.path, f"{first.reason}; {len(errors)} sheets refused in all, also: "
                               + "; ".join(str(e) for e in errors[1:]), row=first.row, column=first.column)
    return pd.concat(frames, ignore_index=True)


def write_template(out: str | Path, district_code: str, plan_year: str, coder: str, codebook: Codebook,
                   roster: pd.DataFrame, rows: int = TEMPLATE_ROWS) -> list[Path]:
    """A blank sheet for one district, plan year and coder, as CSV and as an Excel workbook (a ``coding`` sheet whose
    topic columns offer the codebook's codes as drop-down lists, and a ``codebook`` sheet with every definition).
    Raises ``CodingSheetError`` for an unknown district, plan year or coder name, as reading it would."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / sheet_name(district_code, plan_year, coder)
    name = parse_sheet_name(csv_path.name)
    first, last = roster_years(roster)
    if name is None or name.coder != coder or name.district_code != district_code:
        raise CodingSheetError(csv_path, "district code, plan year and coder may not contain '__' or '.'")
    if not valid_year(plan_year) or not first <= plan_year <= last:
        raise CodingSheetError(csv_path, f"plan year {plan_year!r} is not a plan year of the roster ({first} to {last})",
                               column="plan_year")
    if district_code not in roster_districts(roster, plan_year):
        raise CodingSheetError(csv_path, f"district {district_code!r} is not an Alliance District in {plan_year}",
                               column="district_code")
    if not CODER.match(coder):
        raise CodingSheetError(csv_path, f"coder {coder!r}: use lowercase letters, digits and hyphens", column="coder")
    columns = sheet_columns(codebook)
    blank = [district_code, plan_year, coder] + [""] * (len(columns) - 3)
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([blank] * rows)
    return [csv_path, _write_workbook(out / sheet_name(district_code, plan_year, coder, ".xlsx"), columns, blank, rows,
                                      codebook)]


def _write_workbook(path: Path, columns: list[str], blank: list[str], rows: int, codebook: Codebook) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "coding"
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for _ in range(rows):
        sheet.append(blank)
    for number in range(1, len(columns) + 1):  # codes are text: district codes keep their leading zeros
        for (cell,) in sheet.iter_rows(min_row=2, max_row=rows + 1, min_col=number, max_col=number):
            cell.number_format = "@"
    sheet.freeze_panes = "F2"
    book_sheet = book.create_sheet("codebook")
    book_columns = ["topic", "code", "code_label", "parent_code", "definition", "example", "correction"]
    book_sheet.append(book_columns)
    for cell in book_sheet[1]:
        cell.font = Font(bold=True)
    frame = codebook.frame
    for record in frame[book_columns].itertuples(index=False):
        book_sheet.append(list(record))
    quoted = quote_sheetname("codebook")
    for topic in codebook.coded_topics:
        positions = [i + 2 for i, value in enumerate(frame["topic"]) if value == topic]
        letter = get_column_letter(columns.index(topic) + 1)
        several = codebook.several[topic]
        # A list to pick one code from; a cell may hold several codes of the topic (typed, separated by ';'), so a
        # value not in the list warns instead of refusing (the pipeline checks every code when it reads the sheet).
        validation = DataValidation(
            type="list", formula1=f"{quoted}!$B${positions[0]}:$B${positions[-1]}", allow_blank=True,
            showErrorMessage=True, errorStyle="warning" if several else "stop",
            errorTitle=f"{topic}: not one of the codebook's codes",
            error=("Several codes are separated by ';'. Each must be a " + topic + " code of the codebook sheet.")
            if several else f"Pick one {topic} code of the codebook sheet.",
            promptTitle=topic, prompt=("Pick a code; type several separated by ';'" if several else "Pick one code"),
            showInputMessage=True,
        )
        validation.add(f"{letter}2:{letter}{rows + 1}")
        sheet.add_data_validation(validation)
    for topic in codebook.years_topics:
        length = get_column_letter(columns.index(topic) + 1)
        years = DataValidation(type="whole", operator="between", formula1="1", formula2=str(MAX_YEARS), allow_blank=True,
                               showErrorMessage=True, errorTitle=f"{topic}: whole years",
                               error=f"A whole number of years from 1 to {MAX_YEARS}.")
        years.add(f"{length}2:{length}{rows + 1}")
        sheet.add_data_validation(years)
    for number, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = max(12, min(40, len(column) + 4))
    book.save(path)
    return path

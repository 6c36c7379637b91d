"""The report's tables as one Excel workbook, the file a spreadsheet user opens (openpyxl).

One sheet per table, headed with the report's own column labels; district codes stored as text (``0690011`` keeps
its zero, so joins with CSDE's files work); numbers stored at full precision and shown rounded as on the page;
every text cell stored as text, never a formula (a name such as ``=HYPERLINK(...)`` is shown, not run: OWASP's
CSV-injection guidance, for a workbook); a README sheet first, with what each sheet is, the caveats and the sources.
The CSVs beside it stay plain for scripts.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from alliance_pipeline.reporting.model import Report, ReportTable

NUMBER_FORMATS = {"int": "#,##0", "rank": "0", "float1": "0.0", "float2": "0.00", "percent": "0%"}
STATUS_LABELS = {"status": "Status", "reason": "Excluded because"}
_BAD_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")


def sheet_names(tables: list[ReportTable]) -> list[str]:
    """Each table's sheet name: its key, at most 31 characters (Excel's limit), unique."""
    names, used = [], set()
    for table in tables:
        base = _BAD_SHEET_CHARACTERS.sub("_", table.key)[:31]
        name, n = base, 2
        while name.lower() in used:
            suffix = f"_{n}"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(name.lower())
        names.append(name)
    return names


def _text(cell, value: str) -> None:
    """A text cell that no spreadsheet reads as a formula (stored as a string, shown with a quote prefix when it
    starts like one)."""
    cell.value = value
    cell.data_type = "s"
    if value.startswith(("=", "+", "-", "@")):
        cell.quotePrefix = True


def _write(cell, value, kind: str) -> None:
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
        return
    if kind == "code":  # a CSDE code is an identifier: text, with its leading zeros
        _text(cell, str(value))
        cell.number_format = "@"
        return
    if isinstance(value, bool):
        _text(cell, "yes" if value else "no")
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool) or hasattr(value, "item"):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, (int, float)):
            cell.value = number  # full precision; shown rounded
            cell.number_format = NUMBER_FORMATS.get(kind, "General")
            return
    _text(cell, str(value))


def _table_sheet(sheet, table: ReportTable) -> None:
    from openpyxl.styles import Alignment, Font

    if table.unavailable:
        sheet.append(["Not computed"])
        _text(sheet.cell(row=2, column=1), table.unavailable_plain or table.unavailable)
        return
    frame = table.csv_frame()
    kinds = {c.name: c.kind for c in table.columns}
    labels = {**STATUS_LABELS, **{c.name: c.label for c in table.columns}}
    columns = list(frame.columns)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        _text(cell, labels.get(column, column))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row_number, row in enumerate(frame.itertuples(index=False), start=2):
        for index, (column, value) in enumerate(zip(columns, row), start=1):
            _write(sheet.cell(row=row_number, column=index), value, kinds.get(column, "text"))
    for index, column in enumerate(columns, start=1):
        widest = max([len(str(labels.get(column, column)))] + [len(str(v)) for v in frame[column].head(200)])
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(60, max(8, widest + 2))
    sheet.freeze_panes = "A2"


def write_workbook(report: Report, path: Path) -> Path:
    """The workbook at ``path``: README first, then one sheet per table of the report, in the report's order."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    tables = report.tables()
    names = sheet_names(tables)
    book = Workbook()
    readme = book.active
    readme.title = "README"
    lines: list[tuple[str, str]] = [
        (report.title, "title"), (report.subtitle, ""),
        *([(report.notice, "heading")] if report.notice else []),
        (f"Generated {report.generated_at.strftime('%Y-%m-%d %H:%M UTC')}"
         + (f" by Dagster run {report.run_id}" if report.run_id else ""), ""),
        ("This workbook is the file to open in a spreadsheet: one sheet per table of the report, district codes "
         "kept as text, numbers at full precision (shown rounded). The CSV files beside it are for scripts.", ""),
        ("", ""), ("Sheets", "heading"),
        *[(f"{name}: {table.title}", "") for name, table in zip(names, tables)],
    ]
    caveats = next((section for section in report.sections if section.key == "caveats"), None)
    if caveats is not None:
        lines += [("", ""), ("Read with care", "heading"), *[(text, "") for text in caveats.paragraphs + caveats.bullets]]
    sources = next((table for table in tables if table.key == "data_sources"), None)
    if sources is not None and not sources.unavailable:
        lines += [("", ""), ("Data sources (also the sheet data_sources)", "heading")]
        lines += [("; ".join(str(v) for v in row if v is not None and v == v), "")
                  for row in sources.csv_frame().itertuples(index=False)]
    for row, (text, style) in enumerate(lines, start=1):
        cell = readme.cell(row=row, column=1)
        _text(cell, text)
        if style:
            cell.font = Font(bold=True, size=14 if style == "title" else 12)
    readme.column_dimensions["A"].width = 120
    for name, table in zip(names, tables):
        _table_sheet(book.create_sheet(name), table)
    book.save(path)
    return path

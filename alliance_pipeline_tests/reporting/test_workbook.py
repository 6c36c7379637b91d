"""The workbook (reporting/workbook.py) as a spreadsheet user opens it: a README sheet, one sheet per table, codes as text, numbers equal to the Parquet values; a hostile name stays text."""

from __future__ import annotations

import pandas as pd
import pytest


def test_the_workbook_opens_as_a_spreadsheet_user_sees_it(sample_run):
    """appendix-b.xlsx opened with openpyxl: a README sheet, then one sheet per table of the report; codes are
    text with their zeros; numbers are numbers equal to the Parquet values; headers are the report's labels."""
    import openpyxl

    folder = sample_run.html.parent.resolve()
    book = openpyxl.load_workbook(folder / "appendix-b.xlsx")
    csvs = sorted(path.stem for path in (folder / "tables").glob("*.csv"))
    assert book.sheetnames[0] == "README" and sorted(book.sheetnames[1:]) == sorted(name[:31] for name in csvs)
    assert "file to open in a spreadsheet" in " ".join(str(c.value) for c in book["README"]["A"] if c.value)
    sheet = book["sbac_change_math"]
    header = [cell.value for cell in sheet[1]]
    assert "District" in header and "Code" in header and not any("_" in str(h) for h in header if h)
    code, change = header.index("Code"), header.index(next(h for h in header if h and h.lower().startswith("change")))
    stored = sample_run.table("sbac_score_changes")
    stored = stored[(stored["subject"] == "Math") & stored["in_cohort"]].set_index("district_code")["change"]
    seen = 0
    for row in sheet.iter_rows(min_row=2, values_only=True):
        assert isinstance(row[code], str) and len(row[code]) == 7 and row[code].isdigit()  # 0020011, not 20011
        expected = stored.loc[row[code]]
        if pd.isna(expected):
            assert row[change] is None
        else:
            assert isinstance(row[change], float) and row[change] == pytest.approx(float(expected), abs=1e-12)
            seen += 1
    assert seen > 10


def test_a_hostile_name_is_text_in_the_workbook_and_inert_in_the_csv(tmp_path):
    import openpyxl

    from alliance_pipeline.reporting.model import Column, Report, ReportTable, Section
    from alliance_pipeline.reporting.render import write_report

    names = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(A1)", "<script>alert(1)</script>"]
    rows = pd.DataFrame({"district_name": names, "district_code": ["0010011"] * 4, "change": [-1.5, 2.0, -3.25, 0.0]})
    table = ReportTable("hostile", "Hostile names", "", "test", [
        Column("district_name", "District"), Column("district_code", "Code", "code"), Column("change", "Change", "float1")],
        rows)
    report = Report(title="t", subtitle="s", generated_at=pd.Timestamp("2026-12-01T00:00:00Z").to_pydatetime(),
                    run_id="abcdefgh", sections=[Section("x", "X", "X", tables=[table])], appendix_b=[],
                    identified=table, opportunity=table)
    files = write_report(report, tmp_path)
    sheet = openpyxl.load_workbook(files.folder / "appendix-b.xlsx")["hostile"]
    for row, name in zip(sheet.iter_rows(min_row=2), names):
        assert row[0].value == name and row[0].data_type == "s"  # text, never a formula
        assert row[2].data_type == "n"  # negative numbers stay numbers
    csv_text = (files.folder / "tables" / "hostile.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in csv_text and "'+cmd" in csv_text and "'@SUM" in csv_text and ",-1.5" in csv_text
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "<script>alert" not in files.html.read_text(encoding="utf-8")

"""Every public EdSight export parses to what the file says, cell for cell."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas.testing as pdt
import pytest

from alliance_pipeline.edsight import read_export
from alliance_pipeline_tests.helpers import SHARED_EDSIGHT

REAL_FILES = sorted(SHARED_EDSIGHT.rglob("*.csv")) if SHARED_EDSIGHT.is_dir() else []
HEADER_START = re.compile(r'^"?(District|District Code|FallOfYear)"?,')


def _file_facts(path: Path) -> tuple[int, int]:
    """(data lines after the header, '*' cells) counted straight from the text."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = next(i for i, line in enumerate(lines) if HEADER_START.match(line))
    data = [line for line in lines[header + 1 :] if line.strip(", ")]
    stars = sum(cell.strip() == "*" for row in csv.reader(data) for cell in row)
    return len(data), stars


def test_real_exports_are_present(shared_edsight):
    assert len(REAL_FILES) >= 19, f"expected the public exports under {shared_edsight}"


@pytest.mark.real_exports
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(SHARED_EDSIGHT)))
def test_real_export_parses_row_for_row(path: Path):
    export = read_export(path)
    data_lines, stars = _file_facts(path)
    frame = export.frame

    assert len(frame) == data_lines
    assert frame["district_code"].str.len().eq(7).all()
    assert frame["district_code"].str.fullmatch(r"\d{7}").all()
    assert export.suppressed_cells == stars
    # a suppressed cell is null, and every listed suppressed column is null in its row
    for row, columns in zip(frame.itertuples(index=False), frame["suppressed_columns"]):
        for column in columns:
            assert getattr(row, column) is None or str(getattr(row, column)) in ("<NA>", "nan")
    year_in_name = re.search(r"__(\d{4}-\d{2})_", path.name).group(1)
    assert export.school_year == year_in_name
    assert read_export(path, expected_year=year_in_name).school_year == year_in_name
    # source_row points at the line the values came from
    first = path.read_text(encoding="utf-8-sig").splitlines()[int(frame["source_row"].iloc[0]) - 1]
    assert str(frame["district_name"].iloc[0]) in first if "district_name" in frame else True


@pytest.mark.real_exports
def test_resaved_variant_parses_to_the_identical_frame(shared_edsight):
    original = read_export(shared_edsight / "sbac-district" / "smarter-balanced__2014-15_ela-and-math_all-students_all-grades.csv")
    variant = read_export(shared_edsight / "variants" / "resaved__smarter-balanced__2014-15_ela-and-math_all-students_all-grades.csv")
    pdt.assert_frame_equal(original.frame, variant.frame)
    assert original.title == variant.title and original.school_year == variant.school_year == "2014-15"
    assert original.sha256 != variant.sha256


@pytest.mark.real_exports
def test_aggregate_rows_are_flagged_not_districts(shared_edsight):
    enrollment = read_export(shared_edsight / "enrollment-district" / "enrollment__2015-16_all-students.csv")
    totals = enrollment.frame[enrollment.frame["is_aggregate"]]
    assert list(totals["district_name"]) == ["Total"]
    assert enrollment.districts == len(enrollment.frame) - 1
    state = read_export(shared_edsight / "sbac-state" / "smarter-balanced__2015-16_ela-and-math_all-students_all-grades_ct.csv")
    assert state.frame["is_aggregate"].all() and state.districts == 0


@pytest.mark.real_exports
def test_real_columns_are_clean_snake_case(shared_edsight):
    sbac = read_export(shared_edsight / "sbac-district" / "smarter-balanced__2015-16_ela-and-math_all-students_all-grades.csv")
    assert list(sbac.frame.columns[:8]) == [
        "district_name", "district_code", "grade", "subject", "total_students", "total_tested",
        "participation_rate", "total_scored",
    ]
    assert "level_3_4_met_or_exceeded_pct" in sbac.frame and "average_vss" in sbac.frame
    growth = read_export(next((shared_edsight / "sbac-growth-district").glob("*_all-grades.csv")))
    assert {"vss_2014_15", "vss_2015_16", "vss_gain", "growth_rate"} <= set(growth.frame.columns)
    assert growth.frame["growth_rate"].dropna().between(0, 100).all()

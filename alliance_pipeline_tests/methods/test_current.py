"""Section 13, how they are doing now: the share meeting the standard, hand-computed (methods/current.py), and the
reader's rule for the all-grades-combined export's continued rows."""

from __future__ import annotations

import pandas as pd
import pytest

from alliance_pipeline.edsight import EdSightFormatError, read_export
from alliance_pipeline.methods import current

GAPS = pd.DataFrame({"family": ["sbac_district_combined"] * 2, "school_year": ["2019-20", "2020-21"],
                     "status": ["no test", "not published"], "reason": ["no test in spring 2020", "not published"]})


def _combined(rows: list[tuple[str, str, float | None, float | None]]) -> pd.DataFrame:
    """(code, subject, scored, met) rows as the raw asset stores them."""
    return pd.DataFrame({
        "district_code": [r[0] for r in rows], "district_name": [f"D{r[0]}" for r in rows],
        "subject": [r[1] for r in rows], "total_scored": pd.array([r[2] for r in rows], dtype="Int64"),
        "level_3_4_met_or_exceeded_count": pd.array([r[3] for r in rows], dtype="Int64"),
        "code_missing": False, "is_aggregate": False})


def test_shares_and_the_state_summed_from_the_same_export():
    shares = current.share_met({"2021-22": _combined([("0010011", "ELA", 100, 40), ("0020011", "ELA", 300, 60),
                                                      ("0030011", "ELA", 50, None)])})
    row = shares.set_index("district_code")
    assert row.loc["0010011", "share_met"] == pytest.approx(40.0)
    assert row.loc["0020011", "share_met"] == pytest.approx(20.0)
    assert row.loc["0010011", "state_share"] == pytest.approx(100 * 100 / 400)  # (40 + 60) / (100 + 300)
    assert row.loc["0010011", "distance_to_state"] == pytest.approx(15.0)
    assert row.loc["0020011", "distance_to_state"] == pytest.approx(-5.0)
    assert pd.isna(row.loc["0030011", "share_met"]) and row.loc["0030011", "why_missing"] == "suppressed in the export"
    assert row.loc["0010011", "state_districts"] == "2 of 3 districts"
    assert row.loc["0010011", "state_coverage_pct"] == pytest.approx(100 * 400 / 450)
    assert set(shares["grades"]) == {"3-8"}


def test_2014_15_takes_grade_11_out_with_the_by_grade_export():
    combined = {"2014-15": _combined([("0010011", "Math", 150, 70), ("0020011", "Math", 80, 20)])}
    by_grade = {"2014-15": pd.DataFrame({
        "district_code": ["0010011", "0010011", "0020011"], "district_name": "x", "grade": pd.array([3, 11, 11]),
        "subject": "Math", "total_scored": pd.array([100, 50, 30], dtype="Int64"),
        "level_3_4_met_or_exceeded_count": pd.array([40, 30, None], dtype="Int64"), "is_aggregate": False})}
    row = current.share_met(combined, by_grade).set_index("district_code")
    assert row.loc["0010011", "share_met"] == pytest.approx(100 * (70 - 30) / (150 - 50))
    assert pd.isna(row.loc["0020011", "share_met"])  # its grade 11 cell is suppressed: grades 3-8 unknown
    assert "grade 11" in row.loc["0020011", "why_missing"]
    assert row.loc["0010011", "state_share"] == pytest.approx(40.0)  # the state over the districts known
    without = current.share_met(combined).set_index("district_code")
    assert without.loc["0010011", "share_met"] == pytest.approx(100 * 70 / 150)
    assert without["grades"].iloc[0].startswith("3-8 and 11")  # said, not hidden


def test_doing_now_shows_gaps_and_changes_over_one_set_of_districts():
    shares = current.share_met({
        "2018-19": _combined([("0010011", "ELA", 100, 30), ("0020011", "ELA", 100, 50), ("0090011", "ELA", 200, 120)]),
        "2021-22": _combined([("0010011", "ELA", 100, 40), ("0020011", "ELA", 100, None), ("0090011", "ELA", 200, 110)]),
    })
    frame = current.doing_now(shares, {"cohort": ({"0010011", "0020011"}, "2018-19")}, GAPS, "2018-19")
    ela = frame[frame["subject"] == "ELA"]
    pooled = ela[ela["district_code"].isna()].set_index("school_year")
    assert pooled["status"].tolist() == ["held", "no test", "not published", "held"]  # gaps shown, not filled
    assert pd.isna(pooled.loc["2019-20", "share_met"])
    assert pooled.loc["2018-19", "share_met"] == pytest.approx(40.0)  # (30 + 50) / 200
    assert pooled.loc["2021-22", "share_met"] == pytest.approx(40.0)  # only 0010011 published
    assert pooled.loc["2021-22", "districts"] == 1
    # the change is over 0010011 alone (the one district held in both years): 30 % -> 40 %
    assert pooled.loc["2021-22", "share_change_since_first"] == pytest.approx(10.0)
    state_then, state_now = 100 * 200 / 400, 100 * 150 / 300  # 0020011 is out of 2021-22's state sum
    assert pooled.loc["2021-22", "distance_change_since_first"] == pytest.approx((40 - state_now) - (30 - state_then))
    district = ela[ela["district_code"] == "0020011"].set_index("school_year")
    assert district.loc["2021-22", "status"] == "suppressed"


COMBINED = (
    '"Smarter Balanced Assessments, 2024-25"\r\n'
    '"All Districts, ELA and Math, All Grades Combined, All Students"\r\n\r\n'
    '"",,,,,,,"Level 1Not Met",,"Level 2Approaching",,"Level 3Met",,"Level 4Exceeded",,"Level 3&4Met or Exceeded",\r\n'
    '"District","District Code","Subject","Total Number of Students","Total Number Tested",'
    '"Smarter Balanced Participation Rate","Total Number with Scored Tests","Count","%","Count","%","Count","%",'
    '"Count","%","Count","%"\r\n'
    '{first}"ELA",109,108,99.1,108,13,12.0,25,23.1,38,35.2,32,29.6,70,64.8\r\n'
    ',,"Math",109,108,99.1,108,20,18.5,30,27.8,35,32.4,23,21.3,58,53.7\r\n'
)


def test_the_combined_exports_math_row_continues_the_district_above(tmp_path):
    path = tmp_path / "smarter-balanced__2024-25_ela-and-math_all-students_all-grades-combined.csv"
    path.write_bytes(COMBINED.format(first='"Andover School District","=""0010011""",').encode())
    frame = read_export(path, "2024-25", continued_rows=True).frame
    assert frame[["district_code", "district_name", "subject"]].values.tolist() == [
        ["0010011", "Andover School District", "ELA"], ["0010011", "Andover School District", "Math"]]
    # "Count" under a level is that level's count, not a student count
    assert frame["level_3_4_met_or_exceeded_count"].tolist() == [70, 58]
    assert "student_count" not in frame
    with pytest.raises(EdSightFormatError, match="district code is blank") as error:  # without the rule: an error
        read_export(path, "2024-25")
    assert error.value.row == 7 and error.value.column == "District Code"
    path.write_bytes(COMBINED.format(first=',,').encode())  # nothing above to continue
    with pytest.raises(EdSightFormatError, match="district code is blank") as error:
        read_export(path, "2024-25", continued_rows=True)
    assert error.value.row == 6

"""The reader on small hand-written exports: each EdSight quirk and each error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_pipeline.edsight import EdSightFormatError, normalise_district_code, read_export
from alliance_pipeline.edsight.columns import merge_header, snake

SBAC = (
    '"Smarter Balanced Assessments, 2015-16"\r\n'
    '"All Districts, ELA and Math, All Grades, All Students"\r\n'
    "\r\n"
    '"",,,,,"Level 1Not Met",,""\r\n'
    '"District","District Code","Grade","Subject","Total Number with Scored Tests","Level 1 Not Met  Count","%","AverageVSS"\r\n'
    '"Andover School District","=""0010011""",03,"ELA",40,10,25.0,2431\r\n'
    '"Andover School District","=""0010011""",03,"Math",12,"*","*","*"\r\n'
    '"State of Connecticut","=""""",03,"ELA",40000,9000,22.5,2436\r\n'
    "\r\n"
)


def _write(tmp_path, text: str, name: str = "export.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_two_row_header_codes_suppression_and_aggregates(tmp_path):
    export = read_export(_write(tmp_path, SBAC), expected_year="2015-16")
    frame = export.frame
    assert list(frame.columns) == [
        "district_name", "district_code", "grade", "subject", "total_scored",
        "level_1_not_met_count", "level_1_not_met_pct", "average_vss",
        "code_missing", "is_aggregate", "suppressed_columns", "source_row",
    ]
    assert export.title == "Smarter Balanced Assessments, 2015-16"
    assert export.header_row == 5
    assert list(frame["district_code"]) == ["0010011", "0010011", "0000000"]
    assert list(frame["grade"]) == [3, 3, 3]
    assert list(frame["source_row"]) == [6, 7, 8]
    assert frame["suppressed_columns"].iloc[1] == ["level_1_not_met_count", "level_1_not_met_pct", "average_vss"]
    assert frame["average_vss"].isna().tolist() == [False, True, False]
    assert frame["is_aggregate"].tolist() == [False, False, True]
    assert export.suppressed_cells == 3
    assert export.districts == 1
    assert export.header_labels["level_1_not_met_pct"] == "Level 1Not Met / %"


def test_percent_strings_and_code_first_layout(tmp_path):
    text = (
        '"Smarter Balanced Growth Report, 2015-16"\r\n"All Districts, All Students"\r\n\r\n'
        '"District Code","District","Subject","Number ofMatched Students","Growth Rate","Average Percentageof Target Achieved"\r\n'
        '"=""2880013""","Achievement First Hartford Academy Inc. District","ELA",465,"48.2%","71.7%"\r\n'
        '"=""0130011""","Bozrah School District","ELA",12,"*","*"\r\n'
    )
    frame = read_export(_write(tmp_path, text)).frame
    assert frame["growth_rate"].iloc[0] == pytest.approx(48.2)
    assert frame["avg_pct_target_achieved"].iloc[0] == pytest.approx(71.7)
    assert frame["suppressed_columns"].iloc[1] == ["growth_rate", "avg_pct_target_achieved"]


def test_resaved_layout_bare_codes_trailing_commas_lf(tmp_path):
    text = (
        '"Student Counts by District and Year",,\n"All Districts",,\n2013-14,,\n,,\n'
        "District,District Code,Count\nAndover School District,10011,299\nTiny School District,990011,*\n"
    )
    export = read_export(_write(tmp_path, text), expected_year="2013-14")
    assert export.school_year == "2013-14"
    assert list(export.frame["district_code"]) == ["0010011", "0990011"]
    assert export.frame["student_count"].iloc[0] == 299
    assert export.suppressed_cells == 1


def test_year_from_fall_of_year_column(tmp_path):
    text = "FallOfYear,RptngDistrictName,ReportingDistrictCode,Category,OutcomeRatePct\n2015,Andover School District,0010011,DistrictTot,80.5\n"
    export = read_export(_write(tmp_path, text), expected_year="2015-16")
    assert export.school_year == "2015-16" and export.school_year_source == "FallOfYear column"


def test_title_year_disagreeing_with_load_year_is_rejected(tmp_path):
    path = _write(tmp_path, SBAC)
    with pytest.raises(EdSightFormatError) as error:
        read_export(path, expected_year="2016-17")
    assert str(path) in str(error.value) and "2015-16" in str(error.value) and "2016-17" in str(error.value)


def test_bad_number_names_file_row_and_column(tmp_path):
    path = _write(tmp_path, SBAC.replace(",40,10,25.0,2431", ",40,ten,25.0,2431"))
    with pytest.raises(EdSightFormatError) as error:
        read_export(path)
    assert error.value.row == 6
    assert error.value.column == "Level 1 Not Met  Count"
    assert str(path) in str(error.value) and "'ten'" in str(error.value)


def test_fractional_count_is_rejected(tmp_path):
    with pytest.raises(EdSightFormatError, match="whole number"):
        read_export(_write(tmp_path, SBAC.replace(",40,10,25.0", ",40.5,10,25.0")))


def test_missing_header_is_reported(tmp_path):
    with pytest.raises(EdSightFormatError, match="no header row"):
        read_export(_write(tmp_path, '"Some report"\r\n"a","b"\r\n1,2\r\n'))


def test_short_row_is_reported_with_its_line(tmp_path):
    text = SBAC.replace('"Andover School District","=""0010011""",03,"Math",12,"*","*","*"', '"Andover","=""0010011""",03')
    with pytest.raises(EdSightFormatError) as error:
        read_export(_write(tmp_path, text))
    assert error.value.row == 7


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(EdSightFormatError, match="cannot read file"):
        read_export(tmp_path / "absent.csv")


def test_header_merge_rules():
    names, labels = merge_header(
        ["", "", "Average Vertical Scale Score (VSS)", "", "", ""],
        ["District Code", "Grade", "2014-15", "2015-16", "Gain", "Growth Rate"],
    )
    assert names == ["district_code", "grade", "vss_2014_15", "vss_2015_16", "vss_gain", "growth_rate"]
    assert labels[4] == "Average Vertical Scale Score (VSS) / Gain"
    assert snake("Free/Reduced Price Meal Eligibility (3-level)") == "free_reduced_price_meal_eligibility_3_level"
    assert snake("RptngDistrictName") == "rptng_district_name"


@given(st.integers(min_value=0, max_value=9_999_999))
def test_every_code_form_normalises_to_seven_digits(number):
    padded = f"{number:07d}"
    assert normalise_district_code(f'="{padded}"') == padded
    assert normalise_district_code(padded) == padded
    assert normalise_district_code(str(number)) == padded


def test_codes_that_are_not_digits_are_left_for_validation():
    assert normalise_district_code('=""') is None
    assert normalise_district_code("12345678") == "12345678"
    assert normalise_district_code("AB123") == "AB123"


ENROLLMENT_2025 = (
    '"Student Counts by District and Year"\r\n"All Districts"\r\n"2025-26"\r\n\r\n'
    '"District","District Code","Count"\r\n'
    '"Andover School District","=""0010011""",245\r\n'
    '"Department of Mental Health and Addiction Services","=""""","*"\r\n'
    '"Edmonds Cofield Preparatory Academy for Young Men, Inc. District","=""""",45\r\n'
    '"Total","=""""",290\r\n'
)


def test_named_rows_with_blank_codes_are_kept_and_flagged(tmp_path):
    """Methodology section 11: EdSight writes ``=""`` for a state agency and newly opened districts; such rows are
    real data (kept, flagged code_missing, no code invented), the Total row is the aggregate."""
    frame = read_export(_write(tmp_path, ENROLLMENT_2025), expected_year="2025-26").frame
    assert frame["code_missing"].tolist() == [False, True, True, False]
    assert frame["district_code"].isna().tolist() == [False, True, True, False]
    assert frame.loc[2, "student_count"] == 45 and frame.loc[2, "source_row"] == 8
    assert frame.loc[3, "district_code"] == "0000000" and bool(frame.loc[3, "is_aggregate"])
    assert frame.loc[1, "suppressed_columns"] == ["student_count"]


def test_a_name_in_another_unicode_form_is_the_same_name(tmp_path):
    """The same letters written composed (NFC) on one row and decomposed (NFD) on another are one name, read in NFC:
    no "two names for one code"; a different name is still refused."""
    import unicodedata

    composed = "Cañon Academy District"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    text = ENROLLMENT_2025.replace('"Department of Mental Health and Addiction Services","="""""',
                                   f'"{composed}","=""0990011"""').replace(
        '"Edmonds Cofield Preparatory Academy for Young Men, Inc. District","="""""', f'"{decomposed}","=""0990011"""')
    frame = read_export(_write(tmp_path, text), expected_year="2025-26").frame
    assert frame.loc[1, "district_name"] == frame.loc[2, "district_name"] == composed
    with pytest.raises(EdSightFormatError, match="listed as"):
        read_export(_write(tmp_path, text.replace(decomposed, "Canyon Academy District"), "other.csv"),
                    expected_year="2025-26")


def test_blank_code_and_blank_name_is_still_an_error(tmp_path):
    text = ENROLLMENT_2025.replace('"Department of Mental Health and Addiction Services"', '""')
    with pytest.raises(EdSightFormatError) as error:
        read_export(_write(tmp_path, text), expected_year="2025-26")
    assert "district code is blank and so is the district name" in str(error.value)
    assert error.value.row == 7 and error.value.column == "District Code"


ACCOUNTABILITY_FULL = (
    '"Next Generation Accountability, 2015-16"\r\n\r\n'
    '"FallOfYear","RptngDistrictName","ReportingDistrictCode","SchoolName","SchoolCode","Category","TotalPoints",'
    '"TotalPossiblePoints","OutcomeRatePct","Ind4Rate","schoolyear"\r\n'
    '2015.000000,"Union School District","=""1450011""","District","=""0000000""","DistrictTot",279.720619,'
    '350.000000,79.920177,".","2015-16"\r\n'
    '2015.000000,"Union School District","=""1450011""","Union School","=""1450111""","SchoolTot",270.5,'
    '350.000000,77.285714,0.5,"2015-16"\r\n'
)


def test_full_accountability_export(tmp_path):
    """EdSight's NGAExport: title and blank row, ``="..."`` codes (school codes too), ``.`` for missing values,
    FallOfYear as 2015.000000; the index is OutcomeRatePct of the DistrictTot row."""
    from alliance_pipeline.methods.alliance_identification import accountability_index

    export = read_export(_write(tmp_path, ACCOUNTABILITY_FULL), expected_year="2015-16")
    frame = export.frame
    assert frame["school_code"].tolist() == ["0000000", "1450111"]
    assert frame["fall_of_year"].tolist() == [2015, 2015]
    assert frame["ind_4_rate"].isna().tolist() == [True, False]  # '.' is missing, not an error
    assert accountability_index(frame) == {"1450011": pytest.approx(79.920177)}


def test_every_bad_cell_is_named_in_one_pass(tmp_path):
    """A refused export lists all its problems (rows and columns), not one per attempt."""
    text = ENROLLMENT_2025.replace(",245\r\n", ",many\r\n").replace(",45\r\n", ",4.5\r\n")
    text = text.replace('"Total","=""""",290', '"Total","=""""",290,extra')
    with pytest.raises(EdSightFormatError) as error:
        read_export(_write(tmp_path, text), expected_year="2025-26")
    message = str(error.value)
    assert error.value.row == 6 and "expected a number, found 'many'" in message  # the first, with its place
    assert "3 problems in all" in message
    assert "row 8, column 'Count': expected a whole number, found '4.5'" in message
    assert "row 9: row has 4 cells but the header has 3" in message

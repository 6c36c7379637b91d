"""Plan coding (methodology section 12), pure functions: the codebook, coding sheets, reliability, indicators."""

from __future__ import annotations

import csv
import filecmp

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from alliance_pipeline import paths
from alliance_pipeline.plans import indicators
from alliance_pipeline.plans.codebook import load_codebook
from alliance_pipeline.plans.reliability import cohen_kappa, intercoder_reliability, krippendorff_alpha
from alliance_pipeline.plans.sample import STRONG, plan_profiles, write_sample_plans
from alliance_pipeline.plans.sheets import (
    CodingSheetError,
    find_sheets,
    read_plan_year,
    read_sheet,
    sheet_columns,
    sheet_name,
    write_template,
)
from alliance_pipeline.reference import load_cohort
from alliance_pipeline.validation import validate_frame

CODEBOOK = load_codebook()
ROSTER = load_cohort()
HARTFORD = "0640011"
GOOD = {"intervention_id": "I01", "description": "Literacy coaches", "substance": "instructional_core;discipline_focus",
        "target_group": "teachers", "support_provider": "district", "support_mechanism": "onsite_embedded",
        "monitoring_outputs": "adult_level", "monitoring_outcomes": "teacher_behavioral;student_behavioral",
        "length": "2", "progression": "incremental"}


def write_sheet(folder, rows, district=HARTFORD, year="2014-15", coder="coder-a", header=None):
    path = folder / sheet_name(district, year, coder)
    columns = header or sheet_columns(CODEBOOK)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({"district_code": district, "plan_year": year, "coder": coder, **row})
    return path


# --- the codebook ---------------------------------------------------------------------------------------------------

def test_the_codebook_holds_every_topic_and_code_of_appendix_a():
    assert CODEBOOK.topics == ["substance", "alignment", "target_group", "precedent", "length", "progression",
                               "support_provider", "support_mechanism", "monitoring_outputs", "monitoring_outcomes",
                               "monitoring_process"]
    assert len(CODEBOOK.frame) == 55 and CODEBOOK.frame["code"].is_unique
    assert CODEBOOK.codes("target_group") == ["students", "administrators", "teachers", "schools", "district_wide"]
    assert CODEBOOK.parent_of == {"discipline_focus": "instructional_core", "tier_focus": "instructional_core"}
    assert CODEBOOK.required_groups["monitoring"] == ["monitoring_outputs", "monitoring_outcomes", "monitoring_process"]
    # a code's definition in one step, with the correction made to the PDF's text beside it
    row = CODEBOOK.frame.set_index("code").loc["teacher_behavioral"]
    assert "teacher behaviors" in row["definition"] and "behavorial" in row["correction"]
    assert (CODEBOOK.frame["definition"].str.len() > 0).all()
    assert validate_frame(CODEBOOK.frame, "plan_codebook").success


# --- coding sheets --------------------------------------------------------------------------------------------------

def test_a_good_sheet_is_read_with_its_codes_normalised(tmp_path):
    path = write_sheet(tmp_path, [GOOD, {**GOOD, "intervention_id": "I02", "substance": " Equity ; human_capital",
                                         "length": "", "monitoring_outcomes": "", "monitoring_outputs": "",
                                         "monitoring_process": "collaborative_meeting"}, {}])  # a blank row is skipped
    frame = read_sheet(path, CODEBOOK, ROSTER)
    assert list(frame["intervention_id"]) == ["I01", "I02"]
    assert list(frame["substance"]) == ["discipline_focus;instructional_core", "equity;human_capital"]
    assert frame["district_name"].iloc[0] == "Hartford School District" and list(frame["source_row"]) == [2, 3]
    assert frame["length"].iloc[0] == 2 and pd.isna(frame["length"].iloc[1])
    assert validate_frame(frame, "raw_plan_codes").success


BAD = [
    ("unknown code", {"support_provider": "district;wizards"}, None, "support_provider", "unknown code 'wizards'"),
    ("code under the wrong topic", {"support_provider": "teachers"}, None, "support_provider",
     "code 'teachers' belongs to topic target_group, not support_provider"),
    ("missing required topic", {"target_group": ""}, None, "target_group", "required topic target_group is empty"),
    ("no monitoring at all", {"monitoring_outputs": "", "monitoring_outcomes": "", "monitoring_process": ""}, None,
     "monitoring_outputs / monitoring_outcomes / monitoring_process", "required topic monitoring is empty"),
    ("sub-code without its parent", {"substance": "discipline_focus"}, None, "substance", "needs its parent code"),
    ("two codes where one is allowed", {"progression": "incremental;flood"}, None, "progression", "takes one code"),
    ("length not whole years", {"length": "2.5"}, None, "length", "whole number of years"),
    ("unknown district", {}, {"district": "0010011"}, "district_code", "is not an Alliance District in 2014-15"),
    ("unknown plan year", {}, {"year": "2031-32"}, "plan_year", "is not a plan year of the Alliance District roster"),
    ("row of another district", {"district_code": "0150011"}, None, "district_code", "differs from the file name's"),
]


@pytest.mark.parametrize("name,change,where,column,text", BAD, ids=[case[0] for case in BAD])
def test_a_bad_sheet_is_refused_with_file_row_and_column(tmp_path, name, change, where, column, text):
    path = write_sheet(tmp_path, [GOOD, {**GOOD, "intervention_id": "I02", **change}], **(where or {}))
    with pytest.raises(CodingSheetError) as raised:
        read_sheet(path, CODEBOOK, ROSTER)
    error = raised.value
    assert error.path == str(path) and error.column == column and text in str(error), str(error)
    assert str(path) in str(error) and f"column {column!r}" in str(error)
    if where is None:
        assert error.row == 3 and "row 3" in str(error)


def test_every_problem_of_a_sheet_is_named_in_one_error(tmp_path):
    path = write_sheet(tmp_path, [{**GOOD, "target_group": "wizards"}, {**GOOD, "intervention_id": "I01"},
                                  {**GOOD, "intervention_id": "", "precedent": "hearsay"}])
    with pytest.raises(CodingSheetError) as raised:
        read_sheet(path, CODEBOOK, ROSTER)
    message = str(raised.value)
    assert raised.value.row == 2 and "4 problems in all" in message
    assert "row 3, column 'intervention_id'" in message and "row 4, column 'precedent'" in message


def test_an_unknown_column_is_refused_in_the_header(tmp_path):
    header = [*sheet_columns(CODEBOOK)[:-1], "monitoring_outcome"]  # a typo'd topic column: its codes would be lost
    header.remove("monitoring_outcomes")
    path = write_sheet(tmp_path, [GOOD], header=header)
    with pytest.raises(CodingSheetError) as raised:
        read_sheet(path, CODEBOOK, ROSTER)
    assert raised.value.row == 1 and "'monitoring_outcomes' is missing" in str(raised.value)
    assert "unknown column 'monitoring_outcome'" in str(raised.value)


def test_every_bad_sheet_of_a_plan_year_is_named(tmp_path):
    write_sheet(tmp_path, [GOOD])
    write_sheet(tmp_path, [{**GOOD, "substance": "nope"}], coder="coder-b")
    write_sheet(tmp_path, [{**GOOD, "target_group": ""}], district="0150011")
    found, strays = find_sheets(tmp_path)
    assert list(found) == ["2014-15"] and strays == {}
    with pytest.raises(CodingSheetError) as raised:
        read_plan_year(found["2014-15"], CODEBOOK, ROSTER)
    assert "2 sheets refused" in str(raised.value)
    assert sheet_name("0150011", "2014-15", "coder-a") in str(raised.value)
    assert sheet_name(HARTFORD, "2014-15", "coder-b") in str(raised.value)


def test_the_template_offers_the_codebook_as_drop_down_lists_and_reads_back_once_filled(tmp_path):
    csv_path, xlsx_path = write_template(tmp_path, HARTFORD, "2014-15", "jane-doe", CODEBOOK, ROSTER)
    with pytest.raises(CodingSheetError, match="no interventions"):  # blank: nothing coded yet
        read_sheet(csv_path, CODEBOOK, ROSTER)
    book = load_workbook(xlsx_path)
    sheet, codes = book["coding"], book["codebook"]
    header = [cell.value for cell in sheet[1]]
    assert header == sheet_columns(CODEBOOK) and sheet["A2"].value == HARTFORD and sheet["A2"].number_format == "@"
    lists = {}
    for validation in sheet.data_validations.dataValidation:
        column = header[int(next(iter(validation.sqref.ranges)).min_col) - 1]
        lists[column] = validation
    assert set(lists) == set(CODEBOOK.topics)
    first, last = lists["support_provider"].formula1.split("!")[1].replace("$", "").replace("B", "").split(":")
    assert [codes.cell(row, 2).value for row in range(int(first), int(last) + 1)] == CODEBOOK.codes("support_provider")
    assert lists["progression"].errorStyle == "stop" and lists["substance"].errorStyle == "warning"
    assert lists["length"].type == "whole"
    # a coder fills two rows in Excel
    for column, value in GOOD.items():
        sheet.cell(2, header.index(column) + 1, value)
    for column, value in {**GOOD, "intervention_id": "I02", "length": 3}.items():
        sheet.cell(3, header.index(column) + 1, value)
    book.save(xlsx_path)
    csv_path.unlink()
    frame = read_sheet(xlsx_path, CODEBOOK, ROSTER)
    assert list(frame["intervention_id"]) == ["I01", "I02"] and list(frame["length"]) == [2, 3]
    with pytest.raises(CodingSheetError, match="not an Alliance District"):
        write_template(tmp_path, "0010011", "2014-15", "jane-doe", CODEBOOK, ROSTER)


# --- intercoder reliability -------------------------------------------------------------------------------------------

def _coded(rows):
    """(district, year, coder, intervention, {topic: codes}) -> a table shaped like raw_plan_codes."""
    records = []
    for district, year, coder, intervention, codes in rows:
        record = {"district_code": district, "plan_year": year, "coder": coder, "intervention_id": intervention,
                  "district_name": district, **{topic: "" for topic in CODEBOOK.topics}}
        record.update(codes)
        records.append(record)
    return pd.DataFrame.from_records(records)


def test_kappa_and_alpha_against_hand_worked_values():
    # code "equity" on four interventions: coder A yes yes no no, coder B yes no no no.
    # kappa: po = 3/4, pe = (2/4)(1/4) + (2/4)(3/4) = 1/2, so (3/4 - 1/2) / (1 - 1/2) = 0.5.
    # alpha (nominal): coincidences o11 = 2, o10 = o01 = 1, o00 = 4; n = 8, n1 = 3, n0 = 5;
    # Do = 2/8, De = 2 * 3 * 5 / (8 * 7) = 30/56, alpha = 1 - (2/8) / (30/56) = 1 - 14/30 = 8/15.
    a = [("X", "2014-15", "a", f"I{i}", {"substance": "equity;human_capital" if i < 2 else "human_capital"}) for i in range(4)]
    b = [("X", "2014-15", "b", f"I{i}", {"substance": "equity;human_capital" if i < 1 else "human_capital"}) for i in range(4)]
    extra = [("X", "2014-15", "b", "I9", {"substance": "equity"})]  # listed by one coder: not a unit for kappa
    table = intercoder_reliability(_coded(a + b + extra), CODEBOOK).set_index("code")
    equity = table.loc["equity"]
    assert equity["units"] == 4 and equity["agreement"] == pytest.approx(0.75)
    assert equity["cohen_kappa"] == pytest.approx(0.5) and equity["krippendorff_alpha"] == pytest.approx(8 / 15)
    assert equity["below_threshold"] and equity["unmatched_interventions"] == 1
    human = table.loc["human_capital"]  # present on every matched unit for both: 0/0, perfect agreement
    assert human["cohen_kappa"] == 1.0 and human["krippendorff_alpha"] == 1.0 and "0/0" in human["note"]
    unused = table.loc["students"]
    assert np.isnan(unused["cohen_kappa"]) and "not assessable" in unused["note"] and not unused["below_threshold"]
    assert table.loc["equity", "plans"] == 1 and table.loc["equity", "pairs"] == 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=2, max_size=2), min_size=1, max_size=12))
def test_kappa_and_alpha_are_one_when_the_coders_agree_everywhere(marks):
    rows = []
    for i, (equity, capital) in enumerate(marks):
        codes = ";".join(c for c, on in (("equity", equity), ("human_capital", capital)) if on)
        rows += [("X", "2014-15", coder, f"I{i}", {"substance": codes}) for coder in ("a", "b")]
    table = intercoder_reliability(_coded(rows), CODEBOOK)
    assessed = table[table["units_present"] > 0]
    assert len(assessed) == len({c for pair in marks for c, on in zip(("equity", "human_capital"), pair) if on})
    assert (assessed["cohen_kappa"] == 1.0).all() and (assessed["krippendorff_alpha"] == 1.0).all()
    assert not table["below_threshold"].any()


def test_the_library_statistics_match_on_a_varied_case():
    first = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    second = np.array([1, 0, 0, 0, 1, 1], dtype=bool)
    # po = 4/6, pe = (3/6)(3/6) + (3/6)(3/6) = 1/2, kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert cohen_kappa(first, second) == pytest.approx(1 / 3)
    assert krippendorff_alpha(np.vstack([first, second]).astype(float)) == pytest.approx(1 - (4 / 12) / (2 * 6 * 6 / (12 * 11)))


# --- cross-plan indicators ------------------------------------------------------------------------------------------

def _plan(district, year, coder, intervention, **codes):
    base = {"substance": "instructional_core", "target_group": "teachers", "support_provider": "district"}
    return (district, year, coder, intervention, {**base, **codes})


def test_plan_indicators_against_hand_worked_values():
    rows = [
        _plan("X", "2013-14", "a", "A", substance="equity", support_mechanism="onsite_added",
              monitoring_outputs="adult_level", monitoring_outcomes="teacher_affective;student_behavioral"),
        _plan("X", "2013-14", "a", "B", alignment="foundational_reading", monitoring_process="documentation_only"),
        _plan("X", "2014-15", "a", "A", monitoring_outputs="adult_level", monitoring_outcomes="teacher_affective"),
        _plan("X", "2014-15", "a", "C", support_mechanism="onsite_added", monitoring_process="documentation_only"),
        # coder b reads 2014-15 too: the plan's indicators are the mean of the two codings
        _plan("X", "2014-15", "b", "A", substance="equity", monitoring_process="documentation_only"),
        _plan("X", "2014-15", "b", "C", support_mechanism="onsite_added", monitoring_process="documentation_only"),
    ]
    table = indicators.plan_indicators(_coded(rows), CODEBOOK).set_index("plan_year")
    first, second = table.loc["2013-14"], table.loc["2014-15"]
    assert first["codings"] == 1 and first["interventions"] == 2 and first["distinct_interventions"] == 3
    assert np.isnan(first["continuation_share"])  # no plan year before it
    assert first["equity_share"] == 0.5 and first["capacity_share"] == 0.5 and first["logic_share"] == 0.5
    assert first["adult_and_student_share"] == 0.5 and first["alignment_share"] == 0.5
    assert first["substance_equity_share"] == 0.5 and first["substance_instructional_core_share"] == 0.5
    assert second["codings"] == 2 and second["continuation_share"] == 0.5  # A continues, C is new
    assert second["equity_share"] == pytest.approx((0 + 0.5) / 2)
    assert second["logic_share"] == pytest.approx((0.5 + 0) / 2) and second["adult_and_student_share"] == 0
    assert second["capacity_share"] == pytest.approx(0.5)


def test_a_consensus_coding_replaces_the_others():
    rows = [_plan("X", "2014-15", "a", "A", substance="equity"), _plan("X", "2014-15", "b", "A"),
            _plan("X", "2014-15", "consensus", "A", substance="equity")]
    table = indicators.plan_indicators(_coded(rows), CODEBOOK)
    assert table["codings"].iloc[0] == 1 and table["equity_share"].iloc[0] == 1.0


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(2, 5))
def test_a_district_whose_every_intervention_continues_has_continuation_share_one(interventions, years):
    plan_years = [f"{2012 + i}-{(13 + i) % 100:02d}" for i in range(years)]
    rows = [_plan("X", year, "a", f"I{i}") for year in plan_years for i in range(interventions)]
    table = indicators.plan_indicators(_coded(rows), CODEBOOK)
    assert (table["continuation_share"].iloc[1:] == 1.0).all() and table["continuation_share"].iloc[:1].isna().all()
    assert (table["distinct_interventions"] == interventions).all()


def test_identified_districts_beside_the_others():
    frame = pd.DataFrame({
        "district_code": ["A", "A", "B", "C", "Z"], "plan_year": ["2013-14", "2014-15", "2014-15", "2014-15", "2014-15"],
        **{name: [0.2, 0.4, 0.5, 0.9, 1.0] for name in indicators.INDICATORS},
    })
    compared = indicators.plan_indicators_compared(frame, identified={"A"}, cohort={"A", "B", "C"})
    row = compared[(compared["indicator"] == "capacity_share") & (compared["plan_year"] == "all")].iloc[0]
    assert row["identified_mean"] == pytest.approx(0.3) and row["other_mean"] == pytest.approx(0.7)  # Z: not cohort
    assert row["difference"] == pytest.approx(-0.4) and row["identified_districts"] == 1 and row["other_districts"] == 2
    year = compared[(compared["indicator"] == "capacity_share") & (compared["plan_year"] == "2014-15")].iloc[0]
    assert year["identified_mean"] == pytest.approx(0.4) and year["other_mean"] == pytest.approx(0.7)


# --- the sample -----------------------------------------------------------------------------------------------------

def test_the_committed_sample_plans_are_reproduced_exactly_and_show_their_known_truth(tmp_path):
    written = write_sample_plans(tmp_path)
    committed = sorted(p.name for p in paths.SAMPLE_PLANS_DIR.glob("*.csv"))
    assert sorted(p.name for p in written) == committed and len(committed) == 156
    for path in written:
        assert filecmp.cmp(path, paths.SAMPLE_PLANS_DIR / path.name, shallow=False), path.name
    found, strays = find_sheets(paths.SAMPLE_PLANS_DIR)
    assert list(found) == ["2012-13", "2013-14", "2014-15", "2015-16"] and strays == {}
    sheets = pd.concat([read_plan_year(files, CODEBOOK, ROSTER) for files in found.values()], ignore_index=True)
    table = indicators.plan_indicators(sheets, CODEBOOK)
    strong = {code for code, profile in plan_profiles().items() if profile is STRONG}
    assert len(strong) == 6
    compared = indicators.plan_indicators_compared(table, strong, set(ROSTER["district_code"]))
    overall = compared[compared["plan_year"] == "all"].set_index("indicator")
    for name in ("continuation_share", "capacity_share", "logic_share", "adult_and_student_share"):
        assert overall.loc[name, "difference"] > 0.15, name  # the hypothesis holds where the sample built it in
    assert abs(overall.loc["equity_share", "difference"]) < 0.1  # and equity is the same for everyone
    reliability = intercoder_reliability(sheets, CODEBOOK)
    assert reliability["plans"].iloc[0] == 36 and reliability["below_threshold"].any()
    assert set(reliability.loc[reliability["below_threshold"], "topic"]) & {"precedent", "progression"}

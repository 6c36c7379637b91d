"""Section 10: subgroup proficiency and gaps against hand-worked values, and their invariants."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_pipeline.methods import equity

RACE, MEAL, ELL, SPED = ("sbac_subgroup_race", "sbac_subgroup_meal", "sbac_subgroup_ell", "sbac_subgroup_special_education")


def _rows(year: str, rows: list[tuple]) -> pd.DataFrame:
    """(code, name, subject, subgroup, scored, met) -> a raw subgroup table as the reader makes it."""
    frame = pd.DataFrame(rows, columns=["district_code", "district_name", "subject", "subgroup", "total_scored",
                                        "level_3_4_met_or_exceeded_count"])
    frame.insert(0, "school_year", year)
    for column in ("total_scored", "level_3_4_met_or_exceeded_count"):
        frame[column] = frame[column].astype("Int64")
    frame["is_aggregate"] = False
    frame["source_row"] = pd.array(range(6, 6 + len(frame)), dtype="Int64")
    return frame


def _raw(year="2015-16", race=(), meal=(), ell=(), sped=()) -> dict:
    return {family: ({year: _rows(year, list(rows))} if rows else {})
            for family, rows in ((RACE, race), (MEAL, meal), (ELL, ell), (SPED, sped))}


A = ("0010011", "Alpha School District")
B = ("0020011", "Beta School District")


def test_proficiency_and_gap_by_hand():
    raw = _raw(race=[(*A, "Math", "White", 200, 120), (*A, "Math", "Black or African American", 50, 15)])
    proficiency = equity.subgroup_proficiency(raw, ["0010011"])
    white = proficiency[proficiency["group"] == "white"].iloc[0]
    assert white["proficiency"] == pytest.approx(60.0) and white["scored"] == 200 and white["met"] == 120
    assert bool(white["in_cohort"]) and white["source_rows"] == [6]
    gaps = equity.subgroup_gaps(proficiency)
    gap = gaps[gaps["gap"] == "White - Black"].iloc[0]
    assert gap["gap_value"] == pytest.approx(60.0 - 30.0)
    assert not gap["excluded"]
    assert gaps["gap"].tolist() == ["White - Black", "White - Hispanic"]  # Hispanic absent: listed, excluded
    hispanic = gaps[gaps["gap"] == "White - Hispanic"].iloc[0]
    assert hispanic["excluded"] and pd.isna(hispanic["gap_value"])
    assert hispanic["exclusion_reason"] == "no Hispanic/Latino of any race row in the export"


def test_meal_eligible_adds_f_and_r_counts_before_dividing():
    raw = _raw(meal=[(*A, "ELA", "F", 100, 20), (*A, "ELA", "R", 50, 25), (*A, "ELA", "N", 150, 120)])
    proficiency = equity.subgroup_proficiency(raw, [])
    eligible = proficiency[proficiency["group"] == "meal_eligible"].iloc[0]
    assert eligible["subgroups"] == "F+R" and eligible["scored"] == 150 and eligible["met"] == 45
    assert eligible["proficiency"] == pytest.approx(30.0)  # not the mean of 20% and 50%
    gap = equity.subgroup_gaps(proficiency).iloc[0]
    assert gap["gap"] == "Not eligible - meal eligible" and gap["gap_value"] == pytest.approx(80.0 - 30.0)


def test_a_suppressed_cell_excludes_the_gap_with_group_cell_and_row():
    raw = _raw(meal=[(*A, "ELA", "F", 100, 20), (*A, "ELA", "R", 12, None), (*A, "ELA", "N", 150, 120)],
               ell=[(*A, "ELA", "N", None, None), (*A, "ELA", "Y", 9, None)])
    gaps = equity.subgroup_gaps(equity.subgroup_proficiency(raw, []))
    meal = gaps[gaps["gap"] == "Not eligible - meal eligible"].iloc[0]
    assert meal["excluded"] and pd.isna(meal["gap_value"]) and pd.isna(meal["focal_proficiency"])
    assert meal["exclusion_reason"] == (
        "eligible for free or reduced-price meals (F+R): R: Level 3&4 Met or Exceeded Count suppressed (export row 7)")
    ell = gaps[gaps["gap"] == "Not ELL - ELL"].iloc[0]
    assert ell["exclusion_reason"] == (
        "not an English learner (N): Total Number with Scored Tests and Level 3&4 Met or Exceeded Count suppressed "
        "(export row 6); English learner (Y): Level 3&4 Met or Exceeded Count suppressed (export row 7)")


def test_summary_sums_the_districts_that_published_both_groups_and_never_calls_them_the_state():
    raw = _raw(race=[
        (*A, "Math", "White", 200, 120), (*A, "Math", "Black or African American", 50, 15),
        (*B, "Math", "White", 100, 90), (*B, "Math", "Black or African American", 8, None),
    ])
    summary = equity.subgroup_gap_summary(raw, ["0010011"]).set_index(["scope", "gap"])
    state = summary.loc[("state", "White - Black")]
    # Beta withheld its Black count: its White count is left out too, so both sides are the same district (Alpha)
    assert state["reference_scored"] == 200 and state["reference_met"] == 120
    assert state["focal_scored"] == 50 and state["focal_met"] == 15
    assert state["gap_value"] == pytest.approx(60.0 - 30.0)
    assert (state["districts"], state["paired_districts"], state["rows_left_out"]) == (2, 1, 1)
    assert not state["complete"] and "the 1 of 2 districts that published both groups only" in state["note"]
    assert "cannot be computed" in state["note"]
    cohort = summary.loc[("cohort", "White - Black")]
    assert cohort["gap_value"] == pytest.approx(60.0 - 30.0) and cohort["rows_left_out"] == 0 and cohort["complete"]
    other = summary.loc[("non_cohort", "White - Black")]
    assert pd.isna(other["gap_value"]) and pd.isna(other["reference_proficiency"]) and other["paired_districts"] == 0


def test_a_scope_figure_does_not_depend_on_which_district_withheld_a_cell():
    """Whatever Beta's withheld count was, the figure is the same: it is Alpha's alone, and says so."""
    figures = set()
    for withheld in (0, 4, 8):
        raw = _raw(race=[
            (*A, "Math", "White", 200, 120), (*A, "Math", "Black or African American", 50, 15),
            (*B, "Math", "White", 100, 90), (*B, "Math", "Black or African American", 8, withheld),
        ])
        published = equity.subgroup_gap_summary(raw, ["0010011"]).set_index(["scope", "gap"]).loc[("state", "White - Black")]
        figures.add(round(float(published["gap_value"]), 9))
    assert len(figures) > 1  # published, Beta's count moves the whole-state figure ...
    raw = _raw(race=[
        (*A, "Math", "White", 200, 120), (*A, "Math", "Black or African American", 50, 15),
        (*B, "Math", "White", 100, 90), (*B, "Math", "Black or African American", 8, None),
    ])
    withheld = equity.subgroup_gap_summary(raw, ["0010011"]).set_index(["scope", "gap"]).loc[("state", "White - Black")]
    assert withheld["gap_value"] == pytest.approx(30.0) and not withheld["complete"]  # ... withheld, it is not in it


def test_gap_change_is_end_minus_start_and_negative_when_narrowed():
    raw = {RACE: {
        "2014-15": _rows("2014-15", [(*A, "ELA", "White", 100, 80), (*A, "ELA", "Black or African American", 100, 40)]),
        "2015-16": _rows("2015-16", [(*A, "ELA", "White", 100, 75), (*A, "ELA", "Black or African American", 100, 50)]),
    }, MEAL: {}, ELL: {}, SPED: {}}
    proficiency = equity.subgroup_proficiency(raw, ["0010011"])
    gaps = equity.subgroup_gaps(proficiency)
    changes = equity.subgroup_gap_changes(gaps, equity.subgroup_gap_summary(raw, ["0010011"]))
    row = changes[(changes["scope"] == "district") & (changes["gap"] == "White - Black")].iloc[0]
    assert (row["gap_start"], row["gap_end"]) == (pytest.approx(40.0), pytest.approx(25.0))
    assert row["change"] == pytest.approx(-15.0) and not row["excluded"]
    state = changes[(changes["scope"] == "state") & (changes["gap"] == "White - Black")].iloc[0]
    assert state["change"] == pytest.approx(-15.0)
    hispanic = changes[(changes["scope"] == "district") & (changes["gap"] == "White - Hispanic")].iloc[0]
    assert hispanic["excluded"] and pd.isna(hispanic["change"]) and "2014-15:" in hispanic["exclusion_reason"]


counts = st.integers(min_value=1, max_value=5000)


@settings(max_examples=25, deadline=None)
@given(scored=counts, share=st.floats(min_value=0, max_value=1))
def test_a_gap_is_zero_when_both_groups_have_the_same_counts(scored, share):
    met = int(scored * share)
    raw = _raw(ell=[(*A, "Math", "N", scored, met), (*A, "Math", "Y", scored, met)])
    gap = equity.subgroup_gaps(equity.subgroup_proficiency(raw, [])).iloc[0]
    assert gap["gap_value"] == 0.0


@settings(max_examples=12, deadline=None)
@given(values=st.lists(st.tuples(counts, counts, counts, counts), min_size=3, max_size=3))
def test_adding_a_year_never_changes_earlier_rows(values):
    years = ["2014-15", "2015-16", "2016-17"]
    tables = {year: _rows(year, [(*A, "Math", "White", a, min(a, b)), (*A, "Math", "Black or African American", c, min(c, d))])
              for year, (a, b, c, d) in zip(years, values)}

    def tables_for(held):
        raw = {RACE: {y: tables[y] for y in held}, MEAL: {}, ELL: {}, SPED: {}}
        gaps = equity.subgroup_gaps(equity.subgroup_proficiency(raw, []))
        return gaps, equity.subgroup_gap_changes(gaps, equity.subgroup_gap_summary(raw, []))

    gaps_two, changes_two = tables_for(years[:2])
    gaps_three, changes_three = tables_for(years)
    pd.testing.assert_frame_equal(gaps_two, gaps_three[gaps_three["school_year"] != "2016-17"].reset_index(drop=True))
    pd.testing.assert_frame_equal(changes_two, changes_three[changes_three["end_year"] != "2016-17"].reset_index(drop=True))

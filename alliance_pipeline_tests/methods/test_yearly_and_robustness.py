"""Sections 8 and 9: every year and robustness, against hand-worked values and their invariants."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_pipeline.methods import identified_districts as section_5
from alliance_pipeline.methods import robustness, sbac, yearly
from alliance_pipeline.methods.robustness import Settings

GRADES = (3, 4, 5, 6, 7, 8)
COHORT = pd.DataFrame({"district_code": [f"00{i:02d}011" for i in range(1, 7)],
                       "district_name": [f"District {i}" for i in range(1, 7)]})


def growth_raw(year: str, rates: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A raw growth report: district code -> subject -> growth rate."""
    rows = [{"school_year": year, "district_code": code, "district_name": f"name {code}", "subject": subject,
             "matched_students": 500, "growth_rate": rate, "avg_pct_target_achieved": 70.0, "is_aggregate": False}
            for code, by_subject in rates.items() for subject, rate in by_subject.items()]
    frame = pd.DataFrame(rows)
    frame["growth_rate"] = frame["growth_rate"].astype("Float64")
    frame["source_row"] = pd.array(range(5, 5 + len(frame)), dtype="Int64")
    return frame


def sbac_raw(year: str, vss: dict[str, float]) -> pd.DataFrame:
    """A raw SBAC district export: every district tests grades 3-8 in both subjects, 100 students a grade."""
    rows = [{"school_year": year, "district_code": code, "district_name": f"name {code}", "grade": grade,
             "subject": subject, "total_scored": 100, "average_vss": value + grade, "is_aggregate": False}
            for code, value in vss.items() for grade in GRADES for subject in ("ELA", "Math")]
    frame = pd.DataFrame(rows)
    frame["total_scored"] = frame["total_scored"].astype("Int64")
    frame["average_vss"] = frame["average_vss"].astype("Float64")
    frame["source_row"] = pd.array(range(6, 6 + len(frame)), dtype="Int64")
    return frame


def test_variants_are_the_grid_plus_leave_one_grade_out():
    found = robustness.variants(Settings(GRADES, "district", "all_scored", 3))
    assert len(found) == 3 * 2 * 2 * 3 + 6
    assert len({v.settings for v in found}) == len(found)  # leave-one-grade-out never repeats a grid variant
    assert Settings(GRADES, "district", "all_scored", 3) in {v.settings for v in found}
    assert [v.settings.grades for v in found[-6:]] == [tuple(g for g in GRADES if g != d) for d in GRADES]
    assert len(robustness.variants(Settings(GRADES, "district", "all_scored", 1))) == 3 * 2 * 2 * 2 + 6


@pytest.mark.parametrize(("frequency", "label"), [(1.0, "robust"), (0.8, "robust"), (0.79, "moderate"),
                                                  (0.5, "moderate"), (0.49, "fragile"), (0.0, "fragile")])
def test_labels_follow_the_thresholds(frequency, label):
    assert robustness.label_for(frequency) == label


def test_margins_by_hand():
    rates = {code: {"Math": rate, "ELA": 40.0} for code, rate in zip(COHORT["district_code"], [50, 48, 47, 45, 40, 30])}
    study = robustness.study_analysis("2014-15", "2015-16", "2015-16", "2015-16")
    inputs = robustness.Inputs({}, {}, {"2015-16": growth_raw("2015-16", rates)}, COHORT, "2012-13", "2011-12")
    frame = robustness.identification_margins(inputs, Settings(GRADES, "district", "all_scored", 3), study)
    math = frame[frame["indicator"] == "Growth rate Math"].set_index("district_code")
    assert math["margin"].tolist() == pytest.approx([50 - 45, 48 - 45, 47 - 45, 47 - 45, 47 - 40, 47 - 30])
    assert math["selected"].tolist() == [True, True, True, False, False, False]
    sd = pd.Series([50, 48, 47, 45, 40, 30], dtype=float).std(ddof=1)
    assert math["margin_sd"].tolist() == pytest.approx([m / sd for m in math["margin"]])
    ela = frame[frame["indicator"] == "Growth rate ELA"]
    assert ela["selected"].all() and ela["margin"].isna().all()  # a six-way tie: everyone is in, no one is out
    assert set(frame["indicator"]) == {"Growth rate Math", "Growth rate ELA"}  # no SBAC or T-score inputs given


@settings(max_examples=8, deadline=None)
@given(others=st.lists(st.floats(min_value=2400, max_value=2500), min_size=5, max_size=5),
       gains=st.lists(st.floats(min_value=-5, max_value=5), min_size=5, max_size=5))
def test_a_district_identified_in_every_variant_has_frequency_one(others, gains):
    codes = list(COHORT["district_code"])
    start = {codes[0]: 2450.0, **dict(zip(codes[1:], others))}
    end = {codes[0]: 2450.0 + 60.0, **{code: value + gain for code, value, gain in zip(codes[1:], others, gains)}}
    sbac_by_year = {"2014-15": sbac_raw("2014-15", start), "2015-16": sbac_raw("2015-16", end)}
    study = robustness.study_analysis("2014-15", "2015-16", "2015-16", "2015-16")
    inputs = robustness.Inputs(sbac_by_year, {}, {}, COHORT, "2012-13", "2011-12")
    frame = robustness.identification_robustness(inputs, Settings(GRADES, "district", "all_scored", 3), study)
    first = frame[frame["district_code"] == codes[0]].iloc[0]
    assert first["selection_frequency"] == 1.0 and first["label"] == "robust" and first["identified_default"]
    assert first["times_identified"] == first["variants"] == 42
    assert frame["selection_frequency"].between(0, 1).all()
    assert set(frame.loc[frame["identified_default"], "district_code"]) >= {codes[0]}


def test_identified_by_year_uses_what_each_year_has():
    codes = list(COHORT["district_code"])
    scores = {year: sbac.district_scores(sbac_raw(year, {c: 2400.0 + i * (k + 1) for i, c in enumerate(codes)}))
              for k, year in enumerate(("2014-15", "2015-16", "2016-17"))}
    changes = sbac.yearly_changes(scores, codes)
    growth = {"2015-16": growth_raw("2015-16", {c: {"Math": 40.0 + i, "ELA": 30.0 - i} for i, c in enumerate(codes)})}
    frame = yearly.identified_by_year(changes, growth, None, codes, "2011-12", 2)
    assert sorted(frame["end_year"].unique()) == ["2015-16", "2016-17"]
    first = frame[frame["end_year"] == "2015-16"]
    assert first["built_from"].iloc[0] == ["SBAC change Math", "SBAC change ELA", "Growth rate Math", "Growth rate ELA"]
    later = frame[frame["end_year"] == "2016-17"]
    assert later["built_from"].iloc[0] == ["SBAC change Math", "SBAC change ELA"]
    assert any(item.startswith("Growth rate Math: no growth report export for 2016-17") for item in later["not_available"].iloc[0])
    # the largest districts' codes gain the most: SBAC change picks the last two codes in both subjects
    assert set(later["district_code"]) == set(codes[-2:])
    # the same year from identify's own functions gives the same set
    indicators = yearly.indicators_for_year("2016-17", changes, growth, None, codes, "2011-12")
    selections, _ = section_5.indicator_selections(indicators.tables, 2)
    assert set(section_5.identified_districts(selections)["district_code"]) == set(later["district_code"])


def test_trend_means_by_hand():
    scores = {"2015-16": pd.DataFrame({
        "school_year": "2015-16", "district_code": ["0010011", "0020011", "0030011"], "district_name": ["a", "b", "c"],
        "subject": "Math", "score": pd.array([2400.0, 2500.0, 2600.0], dtype="Float64"),
        "n_total": pd.array([100, 300, 600], dtype="Int64"), "suppressed_grades": [[], [], []],
    })}
    frame = yearly.sbac_score_trends(scores, ["0010011", "0020011"]).set_index("district_code")
    state = (100 * 2400 + 300 * 2500 + 600 * 2600) / 1000
    cohort = (100 * 2400 + 300 * 2500) / 400
    assert frame["state_mean"].tolist() == pytest.approx([state] * 3)
    assert frame["cohort_mean"].tolist() == pytest.approx([cohort] * 3)
    assert frame.loc["0030011", "distance_to_state"] == pytest.approx(2600 - state)
    assert frame.loc["0010011", "cohort_distance_to_state"] == pytest.approx(cohort - state)
    assert frame["in_cohort"].tolist() == [True, True, False]

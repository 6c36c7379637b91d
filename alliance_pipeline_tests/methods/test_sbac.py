"""Sections 1-3 and 5 against values worked by hand, and their invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_pipeline.methods import growth, sbac
from alliance_pipeline.methods import identified_districts as section_5
from alliance_pipeline.methods.ranking import add_cohort_ranks, rank_descending


def raw(rows, year="2014-15"):
    """Raw SBAC rows: (code, subject, grade, n, v); None = suppressed."""
    frame = pd.DataFrame(
        [
            {"school_year": year, "district_name": f"District {code}", "district_code": code, "grade": g,
             "subject": s, "total_scored": n, "average_vss": v, "is_aggregate": code == "0000000",
             "source_row": 6 + i}
            for i, (code, s, g, n, v) in enumerate(rows)
        ]
    )
    frame["total_scored"] = frame["total_scored"].astype("Int64")
    frame["average_vss"] = frame["average_vss"].astype("Float64")
    frame["grade"] = frame["grade"].astype("Int64")
    return frame


Y0 = raw([
    ("0010011", "ELA", 3, 10, 2400), ("0010011", "ELA", 4, 30, 2500), ("0010011", "ELA", 10, 50, 2600),
    ("0010011", "Math", 3, 10, 2410), ("0010011", "Math", 4, 30, 2490),
    ("0020011", "ELA", 3, 20, 2420), ("0020011", "Math", 3, 20, 2430),  # does not serve grade 4
    ("0030011", "ELA", 3, 25, 2440), ("0030011", "ELA", 4, 25, 2460),
    ("0030011", "Math", 3, 25, 2450), ("0030011", "Math", 4, 25, 2470),
    ("0040011", "ELA", 3, 0, None), ("0040011", "ELA", 4, 40, 2480),  # zero test takers in grade 3
    ("0040011", "Math", 4, 40, 2470),
    ("0000000", "ELA", 3, 99999, 2436),  # the state row is not a district
])
Y1 = raw([
    ("0010011", "ELA", 3, 20, 2450), ("0010011", "ELA", 4, 20, 2550),
    ("0010011", "Math", 3, 20, 2400), ("0010011", "Math", 4, 20, 2500),
    ("0020011", "ELA", 3, 20, 2440), ("0020011", "Math", 3, 20, 2450),
    ("0030011", "ELA", 3, 25, 2450), ("0030011", "ELA", 4, 25, 2470),
    ("0030011", "Math", 3, 25, 2460), ("0030011", "Math", 4, None, None),  # suppressed Math grade 4
    ("0040011", "ELA", 4, 40, 2490), ("0040011", "Math", 4, 40, 2480),
    ("0050011", "ELA", 3, 30, 2500), ("0050011", "Math", 3, 30, 2500),  # only in the later year
], year="2015-16")


def score_of(frame, code, subject):
    return frame[(frame["district_code"] == code) & (frame["subject"] == subject)].iloc[0]


def test_weighted_score_by_hand():
    assert sbac.weighted_score([10, 30], [2400, 2500]) == pytest.approx(2475.0)
    assert sbac.weighted_score([0, 0], [2400, 2500]) is None


def test_district_scores_by_hand():
    scores = sbac.district_scores(Y0)
    a = score_of(scores, "0010011", "ELA")
    assert a["score"] == pytest.approx((10 * 2400 + 30 * 2500) / 40)  # grade 10 out of scope
    assert a["n_total"] == 40 and a["grades_used"] == [3, 4] and a["suppressed_grades"] == []
    assert a["source_rows"] == [6, 7]
    b = score_of(scores, "0020011", "ELA")
    assert b["score"] == pytest.approx(2420) and b["suppressed_grades"] == []  # absent grade is no suppression
    d = score_of(scores, "0040011", "ELA")
    assert d["score"] == pytest.approx(2480) and d["suppressed_grades"] == [] and d["grades_used"] == [4]
    assert "0000000" not in set(scores["district_code"])
    suppressed = score_of(sbac.district_scores(Y1), "0030011", "Math")
    assert suppressed["suppressed_grades"] == [4] and suppressed["score"] == pytest.approx(2460)


def test_score_changes_district_scope_by_hand():
    changes = sbac.score_changes(sbac.district_scores(Y0), sbac.district_scores(Y1), "2014-15", "2015-16")
    a = score_of(changes, "0010011", "ELA")
    assert a["change"] == pytest.approx(2500 - 2475) and not a["excluded"]
    assert score_of(changes, "0010011", "Math")["change"] == pytest.approx(2450 - (10 * 2410 + 30 * 2490) / 40)
    for subject in ("ELA", "Math"):  # a suppressed Math grade excludes the district from both subjects
        row = score_of(changes, "0030011", subject)
        assert row["excluded"] and pd.isna(row["change"])
        assert row["exclusion_reason"] == "suppressed Math grade 4 in 2015-16"
    only_later = score_of(changes, "0050011", "ELA")
    assert only_later["excluded"] and only_later["exclusion_reason"] == "no row in 2014-15"
    assert score_of(changes, "0040011", "ELA")["change"] == pytest.approx(10)
    assert changes["grades_compared"].iloc[0] == [3, 4]


def test_score_changes_subject_scope_keeps_the_clean_subject():
    changes = sbac.score_changes(sbac.district_scores(Y0), sbac.district_scores(Y1), "2014-15", "2015-16", scope="subject")
    assert score_of(changes, "0030011", "Math")["excluded"]
    ela = score_of(changes, "0030011", "ELA")
    assert not ela["excluded"] and ela["change"] == pytest.approx(10)
    with pytest.raises(ValueError, match="suppression scope"):
        sbac.score_changes(sbac.district_scores(Y0), sbac.district_scores(Y1), "a", "b", scope="grade")


def test_yearly_changes_compare_each_year_with_the_previous_one_by_hand():
    y2 = raw([("0010011", "ELA", 3, 20, 2470), ("0010011", "ELA", 4, 20, 2570),
              ("0010011", "Math", 3, 20, 2420), ("0010011", "Math", 4, 20, 2500)], year="2016-17")
    scores = {"2014-15": sbac.district_scores(Y0), "2015-16": sbac.district_scores(Y1), "2016-17": sbac.district_scores(y2)}
    yearly = sbac.yearly_changes(scores, ["0010011", "0040011"])
    pairs = yearly[["start_year", "end_year"]].drop_duplicates().values.tolist()
    assert pairs == [["2014-15", "2015-16"], ["2015-16", "2016-17"]]
    late = yearly[(yearly["end_year"] == "2016-17") & (yearly["district_code"] == "0010011")].set_index("subject")
    assert late.loc["ELA", "change"] == pytest.approx(2520 - 2500) and late.loc["Math", "change"] == pytest.approx(2460 - 2450)
    assert late.loc["ELA", "rank_cohort"] == 1  # ranked within its own pair
    early = yearly[(yearly["end_year"] == "2015-16") & (yearly["subject"] == "ELA") & yearly["in_cohort"]]
    assert dict(zip(early["district_code"], early["rank_cohort"])) == {"0010011": 1, "0040011": 2}  # +25 vs +10
    assert set(yearly["years_apart"]) == {1}
    # Section 11: consecutive *held* years pair up; a pair across a missing year carries its span
    apart = sbac.yearly_changes({"2014-15": scores["2014-15"], "2016-17": scores["2016-17"]}, [])
    assert apart[["start_year", "end_year"]].drop_duplicates().values.tolist() == [["2014-15", "2016-17"]]
    assert set(apart["years_apart"]) == {2}
    # the cohort of each end year ranks that year's pair
    by_year = sbac.yearly_changes(scores, {"2015-16": {"0010011"}, "2016-17": {"0040011"}})
    assert set(by_year.loc[by_year["in_cohort"], "end_year"] + by_year.loc[by_year["in_cohort"], "district_code"]) == {
        "2015-160010011", "2016-170040011"}


def test_participation_is_tested_over_students_and_flagged_below_the_threshold():
    frame = raw([("0010011", "ELA", 3, 20, 2470), ("0010011", "ELA", 4, 20, 2570)], year="2016-17")
    frame["total_students"] = pd.array([100, 100], dtype="Int64")
    frame["total_tested"] = pd.array([96, 92], dtype="Int64")  # (96 + 92) / 200 = 94 %
    scores = sbac.district_scores(frame)
    assert scores["participation_rate"].iloc[0] == pytest.approx(94.0)
    assert bool(scores["low_participation"].iloc[0])
    assert not bool(sbac.district_scores(frame, participation_threshold=90)["low_participation"].iloc[0])
    frame["total_tested"] = pd.array([None, 92], dtype="Int64")  # a suppressed count: only the published grade
    assert sbac.district_scores(frame)["participation_rate"].iloc[0] == pytest.approx(92.0)


def test_pair_is_compared_over_grades_tested_in_both_years():
    extra = raw([("0010011", "ELA", 3, 10, 2400), ("0010011", "ELA", 5, 30, 2600)], year="2014-15")
    later = raw([("0010011", "ELA", 3, 10, 2410)], year="2015-16")
    changes = sbac.score_changes(sbac.district_scores(extra), sbac.district_scores(later), "2014-15", "2015-16")
    row = changes.iloc[0]
    assert row["grades_compared"] == [3] and row["score_start"] == pytest.approx(2400) and row["change"] == pytest.approx(10)


def test_cohort_ranks_ties_min_and_exclusions():
    frame = pd.DataFrame({
        "district_code": ["1", "2", "3", "4", "5", "6"],
        "subject": ["Math"] * 6,
        "change": [5.0, 9.0, 9.0, 1.0, None, 7.0],
        "excluded": [False, False, False, False, True, False],
    })
    ranked = add_cohort_ranks(frame, {"1", "2", "3", "4", "5"})
    assert ranked["rank_cohort"].tolist() == [3, 1, 1, 4, pd.NA, pd.NA]
    assert list(rank_descending(pd.Series([3.0, 1.0, 3.0]))) == [1, 3, 1]


def growth_raw():
    rows = [("0010011", "ELA", 60.0), ("0020011", "ELA", 55.0), ("0030011", "ELA", 55.0), ("0040011", "ELA", 50.0),
            ("0050011", "ELA", None), ("0990011", "ELA", 70.0), ("0000000", "ELA", 43.1)]
    frame = pd.DataFrame([{"school_year": "2015-16", "district_code": c, "district_name": f"D{c}", "subject": s,
                           "matched_students": 100, "growth_rate": r, "avg_pct_target_achieved": r,
                           "is_aggregate": c == "0000000", "source_row": i + 5} for i, (c, s, r) in enumerate(rows)])
    frame["growth_rate"] = frame["growth_rate"].astype("Float64")
    return frame


def test_growth_rankings_by_hand():
    ranked = growth.growth_rankings(growth_raw(), {"0010011", "0020011", "0030011", "0040011", "0050011"}).set_index("district_code")
    assert ranked.loc["0990011", "rank_state"] == 1 and pd.isna(ranked.loc["0990011", "rank_cohort"])
    assert [ranked.loc[c, "rank_cohort"] for c in ("0010011", "0020011", "0030011", "0040011")] == [1, 2, 2, 4]
    assert ranked.loc["0050011", "excluded"] and ranked.loc["0050011", "exclusion_reason"] == "growth rate suppressed"
    assert "0000000" not in ranked.index


def test_identified_districts_top_n_with_ties_and_missing_indicator():
    ranked = growth.growth_rankings(growth_raw(), {"0010011", "0020011", "0030011", "0040011"})
    selections, missing = section_5.indicator_selections({"growth_rankings": ranked, "sbac_score_changes": None}, n=2)
    ela = selections[selections["indicator"] == "Growth rate ELA"]
    assert sorted(ela["district_code"]) == ["0010011", "0020011", "0030011"]  # tie at the cut-off included
    assert set(missing) == {"SBAC change Math", "SBAC change ELA", "T-score change Math", "T-score change ELA",
                            "Growth rate Math"}
    table = section_5.identified_districts(selections).set_index("district_code")
    assert table.loc["0020011", "indicators"] == ["Growth rate ELA"] and table.loc["0020011", "ranks"] == [2]
    with pytest.raises(ValueError):
        section_5.indicator_selections({}, n=0)


def test_a_district_in_several_indicators_lists_each():
    selections = pd.DataFrame([
        {"indicator": "Growth rate ELA", "district_code": "1", "district_name": "A", "rank_cohort": 2, "value": 50.0},
        {"indicator": "SBAC change Math", "district_code": "1", "district_name": "A", "rank_cohort": 1, "value": 9.0},
        {"indicator": "SBAC change ELA", "district_code": "2", "district_name": "B", "rank_cohort": 3, "value": 4.0},
    ])
    table = section_5.identified_districts(selections)
    assert table["district_code"].tolist() == ["1", "2"]
    assert table.iloc[0]["indicators"] == ["SBAC change Math", "Growth rate ELA"] and table.iloc[0]["ranks"] == [1, 2]
    assert table.iloc[0]["best_rank"] == 1 and table.iloc[0]["n_indicators"] == 2


grade_rows = st.lists(
    st.tuples(st.integers(min_value=1, max_value=5000), st.floats(min_value=2114, max_value=2862)),
    min_size=1, max_size=9,
)


@given(grade_rows)
def test_weighted_score_lies_between_its_grades(rows):
    n, v = zip(*rows)
    score = sbac.weighted_score(n, v)
    assert min(v) - 1e-6 <= score <= max(v) + 1e-6


@given(grade_rows, st.floats(min_value=2114, max_value=2862))
def test_a_grade_with_no_test_takers_changes_nothing(rows, value):
    n, v = zip(*rows)
    assert sbac.weighted_score(list(n) + [0], list(v) + [value]) == pytest.approx(sbac.weighted_score(n, v))


@given(st.lists(grade_rows, min_size=1, max_size=12))
def test_a_table_of_districts_gives_each_district_its_own_score_to_the_last_bit(districts):
    """weighted_scores on districts of different grade counts (padded to the widest, up to 9 grades) equals each
    district scored alone, and numpy's own sum of that district's cells."""
    width = max(len(rows) for rows in districts)
    n, v = np.zeros((len(districts), width)), np.zeros((len(districts), width))
    for i, rows in enumerate(districts):
        n[i, : len(rows)], v[i, : len(rows)] = zip(*rows)
    used = np.array([len(rows) for rows in districts])
    table = sbac.weighted_scores(n, v, used)
    for i, rows in enumerate(districts):
        cells_n, cells_v = np.array([r[0] for r in rows], float), np.array([r[1] for r in rows])
        assert table[i] == sbac.weighted_score(*zip(*rows)) == (cells_n * cells_v).sum() / cells_n.sum()

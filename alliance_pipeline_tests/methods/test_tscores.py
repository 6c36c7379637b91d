"""Section 4 against values worked by hand, and the invariants of z- and T-scores."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_pipeline.methods import tscores
from alliance_pipeline.methods.sbac import SCORE_COLUMNS


def scores(rows, year):
    """District scores: (code, subject, score, n, suppressed grades)."""
    return pd.DataFrame(
        [{"school_year": year, "district_code": c, "district_name": f"D{c}", "subject": s, "score": x,
          "n_total": n, "n_grades": 1, "grades_used": [3], "grade_n": [n], "grade_vss": [x],
          "suppressed_grades": sup, "source_rows": [1]} for c, s, x, n, sup in rows],
        columns=SCORE_COLUMNS,
    )


def test_weighted_moments_by_hand():
    mean, sd = tscores.weighted_moments([10.0, 20.0], [1, 3])
    assert mean == pytest.approx(17.5)
    assert sd == pytest.approx(5.0)  # (1*7.5^2 + 3*2.5^2) / (4 - 1) = 25
    with pytest.raises(ValueError):
        tscores.weighted_moments([10.0], [1])


def test_cmt_ela_combines_reading_and_writing_by_test_takers():
    raw = pd.DataFrame([
        {"school_year": "2011-12", "district_code": "0010011", "district_name": "A", "grade": 3, "subject": s,
         "number_tested": n, "average_scale_score": v, "is_aggregate": False, "source_row": i}
        for i, (s, n, v) in enumerate([("Math", 50, 260.0), ("Reading", 100, 240.0), ("Writing", 300, 250.0)])
    ])
    raw["number_tested"] = raw["number_tested"].astype("Int64")
    raw["average_scale_score"] = raw["average_scale_score"].astype("Float64")
    frame = tscores.cmt_district_scores(raw).set_index("subject")
    assert frame.loc["ELA", "score"] == pytest.approx((100 * 240 + 300 * 250) / 400)
    assert frame.loc["ELA", "n_total"] == 400
    assert frame.loc["Math", "score"] == pytest.approx(260.0)


def chain_inputs():
    cmt = scores([("1", "Math", 240.0, 100, []), ("2", "Math", 260.0, 100, [])], "2012-13")
    sbac1 = scores([("1", "Math", 2460.0, 100, []), ("2", "Math", 2540.0, 100, [])], "2014-15")
    sbac2 = scores([("1", "Math", 2481.25, 100, []), ("2", "Math", 2568.75, 100, [])], "2015-16")
    return {"2012-13": ("CMT", cmt), "2014-15": ("SBAC", sbac1), "2015-16": ("SBAC", sbac2)}


def test_t_score_chain_by_hand():
    inputs = chain_inputs()
    moments = tscores.statewide_moments(inputs).set_index(["school_year", "subject"])
    # CMT 2012-13: mean 250, sd = sqrt((100*100 + 100*100) / 199)
    cmt_sd = math.sqrt(20000 / 199)
    assert moments.loc[("2012-13", "Math"), "mean"] == pytest.approx(250)
    assert moments.loc[("2012-13", "Math"), "sd"] == pytest.approx(cmt_sd)
    sd1 = math.sqrt(2 * 100 * 40**2 / 199)
    sd2 = math.sqrt(2 * 100 * 43.75**2 / 199)
    t = tscores.t_scores(tscores.statewide_moments(inputs), inputs, "2012-13").set_index(["school_year", "district_code"])
    z1 = 40 / sd1
    assert t.loc[("2014-15", "2"), "z"] == pytest.approx(z1)
    assert t.loc[("2014-15", "2"), "t_score"] == pytest.approx(z1 * cmt_sd + 250)
    # 2015-16: reference carried by the relative change of the SBAC moments
    ref_mean = 250 * 2525 / 2500
    ref_sd = cmt_sd * sd2 / sd1
    z2 = 43.75 / sd2
    assert t.loc[("2015-16", "2"), "ref_mean"] == pytest.approx(ref_mean)
    assert t.loc[("2015-16", "2"), "ref_sd"] == pytest.approx(ref_sd)
    assert t.loc[("2015-16", "2"), "t_score"] == pytest.approx(z2 * ref_sd + ref_mean)
    assert t.loc[("2012-13", "1"), "t_score"] == pytest.approx(240.0)  # a CMT year's T is its score


def test_t_score_changes_exclude_by_section_2():
    t = pd.DataFrame([
        {"school_year": y, "assessment": a, "district_code": c, "district_name": f"D{c}", "subject": s,
         "score": x, "n_total": 10, "z": 0.0, "ref_mean": 0.0, "ref_sd": 1.0, "t_score": x, "suppressed_grades": sup}
        for y, a, c, s, x, sup in [
            ("2011-12", "CMT", "1", "Math", 240.0, []), ("2015-16", "SBAC", "1", "Math", 251.5, []),
            ("2011-12", "CMT", "1", "ELA", 230.0, []), ("2015-16", "SBAC", "1", "ELA", 229.0, []),
            ("2011-12", "CMT", "2", "Math", 250.0, [5]), ("2015-16", "SBAC", "2", "Math", 255.0, []),
            ("2011-12", "CMT", "2", "ELA", 250.0, []), ("2015-16", "SBAC", "2", "ELA", 255.0, []),
            ("2015-16", "SBAC", "3", "Math", 255.0, []),
        ]
    ])
    changes = tscores.t_score_changes(t, "2011-12", "2015-16").set_index(["district_code", "subject"])
    assert changes.loc[("1", "Math"), "change"] == pytest.approx(11.5)
    assert changes.loc[("1", "ELA"), "change"] == pytest.approx(-1.0)
    assert changes.loc[("2", "ELA"), "excluded"]  # district scope: the Math suppression excludes ELA too
    assert changes.loc[("2", "ELA"), "exclusion_reason"] == "suppressed Math grade(s) 5 in 2011-12"
    assert changes.loc[("3", "Math"), "exclusion_reason"] == "no row in 2011-12"
    by_subject = tscores.t_score_changes(t, "2011-12", "2015-16", scope="subject").set_index(["district_code", "subject"])
    assert by_subject.loc[("2", "ELA"), "change"] == pytest.approx(5.0)


def test_unsuppressed_population_leaves_out_districts_with_suppression():
    frame = scores([("1", "Math", 240.0, 100, []), ("2", "Math", 260.0, 100, []), ("3", "Math", 300.0, 50, [4])], "2012-13")
    everyone = tscores.statewide_moments({"2012-13": ("CMT", frame)}, "all_scored").iloc[0]
    clean = tscores.statewide_moments({"2012-13": ("CMT", frame)}, "unsuppressed").iloc[0]
    assert everyone["n_districts"] == 3 and clean["n_districts"] == 2 and clean["mean"] == pytest.approx(250)
    with pytest.raises(ValueError, match="population"):
        tscores.statewide_moments({"2012-13": ("CMT", frame)}, "everyone")


districts = st.lists(
    st.tuples(st.floats(min_value=2200, max_value=2800), st.integers(min_value=1, max_value=20000)),
    min_size=2, max_size=40,
).filter(lambda rows: len({round(x, 3) for x, _ in rows}) > 1)


def _frame(rows, year, subject="Math"):
    return scores([(f"{i:07d}", subject, x, n, []) for i, (x, n) in enumerate(rows)], year)


@given(districts)
def test_z_scores_have_weighted_mean_0_and_sd_1(rows):
    frame = _frame(rows, "2014-15")
    mean, sd = tscores.weighted_moments(frame["score"], frame["n_total"])
    z = (frame["score"] - mean) / sd
    weights = frame["n_total"].astype(float)
    assert (weights * z).sum() / weights.sum() == pytest.approx(0, abs=1e-9)
    assert math.sqrt((weights * z**2).sum() / (weights.sum() - 1)) == pytest.approx(1, rel=1e-9)


@given(districts)
def test_adding_a_district_with_weight_0_changes_nothing(rows):
    base = tscores.statewide_moments({"2014-15": ("SBAC", _frame(rows, "2014-15"))})
    more = tscores.statewide_moments({"2014-15": ("SBAC", _frame(rows + [(2500.0, 0)], "2014-15"))})
    assert more["mean"].iloc[0] == pytest.approx(base["mean"].iloc[0])
    assert more["sd"].iloc[0] == pytest.approx(base["sd"].iloc[0])


@settings(max_examples=50)
@given(districts, districts)
def test_first_sbac_year_t_scores_have_the_cmt_reference_moments(cmt_rows, sbac_rows):
    cmt_rows = [(x / 10.0, n) for x, n in cmt_rows]  # onto the CMT scale
    inputs = {"2012-13": ("CMT", _frame(cmt_rows, "2012-13")), "2014-15": ("SBAC", _frame(sbac_rows, "2014-15"))}
    moments = tscores.statewide_moments(inputs)
    t = tscores.t_scores(moments, inputs, "2012-13")
    first = t[t["school_year"] == "2014-15"]
    mean, sd = tscores.weighted_moments(first["t_score"], first["n_total"])
    cmt = moments[moments["school_year"] == "2012-13"].iloc[0]
    assert mean == pytest.approx(cmt["mean"], rel=1e-9)
    assert sd == pytest.approx(cmt["sd"], rel=1e-7)

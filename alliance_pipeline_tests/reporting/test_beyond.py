"""The report's opening and later sections from hand-made stored tables: what is said, and what is left blank."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_pipeline.reporting import equity, every_year, robustness, summary
from alliance_pipeline.reporting.charts import bar_chart_svg
from alliance_pipeline.reporting.model import ReportTable


def _texts(svg: str) -> list[str]:
    return [t.strip() for t in ET.fromstring(svg).itertext() if t.strip()]


def _unavailable_t_scores() -> dict[str, list[ReportTable]]:
    table = ReportTable("tscore_change_math", "Table B5. Change in Math T-score (CMT to SBAC)", "", "t_score_changes", [],
                        pd.DataFrame(), unavailable="no CMT district exports", unavailable_plain="They need CMT results.")
    return {"T-score change": [table]}


def test_study_comparison_explains_a_district_the_run_cannot_reproduce():
    study = pd.DataFrame({"district_code": ["A", "B", "N"], "district_name": ["A SD", "B SD", "New Britain School District"],
                          "study_indicator_family": ["", "", "T-score change"]})
    identified = pd.DataFrame({"district_code": ["A", "B", "X"], "district_name": ["A SD", "B SD", "X SD"],
                               "indicators": [["SBAC change Math"], ["Growth rate ELA"], ["SBAC change ELA"]]})
    table = summary.study_comparison_table(study, identified, _unavailable_t_scores())
    rows = table.rows.set_index("district_code")
    assert list(table.rows["district_code"]) == ["A", "B", "N", "X"]  # in both, study only, run only
    assert rows.at["N", "in_study"] == "yes" and rows.at["N", "in_run"] == "no"
    assert rows.at["N", "difference"].startswith("Not in the top 3 on any indicator computed here, so the study most likely "
                                                 "selected it through the T-score change indicators (an inference")
    assert "could not be computed here: They need CMT results." in rows.at["N", "difference"]
    assert rows.at["X", "difference"] == "Identified here, not in the study's list."
    assert pd.isna(rows.at["A", "difference"]) and rows.at["A", "selected_here"] == ["SBAC change Math"]
    # a study district whose family was computed but is not in the top 3 here is said so, not blamed on missing data
    table = summary.study_comparison_table(study.assign(study_indicator_family=["", "", "SBAC change"]), identified,
                                           _unavailable_t_scores())
    assert table.rows.set_index("district_code").at["N", "difference"].startswith("Not in the top 3")


def test_robustness_labels_only_districts_the_default_method_identifies():
    frame = pd.DataFrame({
        "analysis": ["study"] * 3, "is_study": [True] * 3, "change_start_year": ["2014-15"] * 3, "end_year": ["2015-16"] * 3,
        "district_code": ["A", "B", "C"], "district_name": ["A SD", "B SD", "C SD"],
        "identified_default": [True, True, False], "variants": [42] * 3, "times_identified": [42, 10, 0],
        "selection_frequency": [1.0, 10 / 42, 0.0], "label": ["robust", "fragile", "fragile"],
    })
    table = robustness.robustness_table(frame)
    assert list(table.rows["district_code"]) == ["A", "B"]  # C: never picked, default or variant
    assert list(table.rows["shown_label"]) == ["robust", "fragile"]
    assert list(table.rows["flag"].fillna("")) == ["", "fragile"] and list(table.rows["selected_in"]) == ["42 of 42", "10 of 42"]
    assert set(table.rows["years"]) == {"2014-15 to 2015-16 (the study's years)"}
    frame.loc[2, "times_identified"] = 3
    frame.loc[2, "selection_frequency"] = 3 / 42
    table = robustness.robustness_table(frame)
    assert table.rows.set_index("district_code").at["C", "shown_label"] == "not identified"
    assert list(table.page_rows["district_code"]) == ["A", "B"]  # C: in the workbook and CSV, not on the page
    assert list(table.csv_frame()["district_name"]) == ["A SD", "B SD", "C SD"]
    assert list(table.csv_frame(page=True)["district_name"]) == ["A SD", "B SD"]


def test_margins_show_the_selected_and_the_best_left_out_per_indicator():
    frame = pd.DataFrame({
        "is_study": True, "indicator": ["I"] * 4, "district_code": list("ABCD"), "district_name": list("ABCD"),
        "rank_cohort": [1, 2, 3, 4], "selected": [True, True, False, False], "value": [9.0, 8.0, 7.5, 1.0],
        "margin": [1.5, 0.5, 0.5, 7.0], "margin_sd": [0.5, 0.05, 0.05, 2.0],
    })
    table = robustness.margins_table(frame, top_n=2, years="2014-15 to 2015-16")
    assert table.title.endswith("2014-15 to 2015-16")
    assert list(table.rows["district_code"]) == ["A", "B", "C"]
    assert list(table.rows["role"]) == ["selected", "selected", "first left out"]
    assert list(table.rows["flag"].fillna("")) == ["", "close", "close"] and "B (I)" in table.notes[0]


def test_district_gaps_leave_a_withheld_gap_blank_and_name_the_group():
    gaps = pd.DataFrame({
        "school_year": "2015-16", "district_code": ["A", "A", "B"], "district_name": ["A SD", "A SD", "B SD"],
        "in_cohort": True, "subject": ["Math", "ELA", "Math"], "gap": "White - Black",
        "gap_value": pd.array([30.5, 28.0, None], dtype="Float64"), "excluded": [False, False, True],
        "exclusion_reason": [None, None, "Black or African American: Total Number with Scored Tests suppressed (export row 9)"],
    })
    table = equity.district_gaps_table(gaps, "2015-16")
    rows = table.rows.set_index("district_code")
    assert rows.at["A", "gap_math_white___black"] == 30.5 and pd.isna(rows.at["B", "gap_math_white___black"])
    assert rows.at["B", "withheld"] == "Math White - Black (Black or African American withheld)"
    assert pd.isna(rows.at["A", "withheld"]) and table.notes == ["1 of 4 district gaps in 2015-16 could not be computed."]


def test_gap_changes_unavailable_say_why_in_plain_words():
    changes = pd.DataFrame()
    changes.attrs["unavailable"] = "a gap change needs two consecutive school years of subgroup exports (have: 2015-16)"
    table = equity.gap_changes_table(changes)
    assert table.unavailable.startswith("a gap change needs") and "two consecutive school years" in table.unavailable_plain


def test_bars_carry_their_values_and_a_level_axis_does_not_start_at_zero():
    bars = _texts(bar_chart_svg(["P", "W"], [12.34, -1.5], [True, False], "Change", "T", reference=0.0))
    assert "12.34" in bars and "-1.50" in bars
    dots = _texts(bar_chart_svg(["A", "B", "C"], [56.2, 60.0, 64.9], [True] * 3, "Index", "T", zero_based=False, digits=1))
    assert {"56.2", "60.0", "64.9"} <= set(dots)
    ticks = [float(t.replace("−", "-")) for t in dots if t.replace("−", "-").replace(".", "").lstrip("-").isdigit()
             and t not in {"56.2", "60.0", "64.9"}]
    assert ticks and min(ticks) > 40  # the axis spans the data, not 0 to 65


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(min_value=-50, max_value=50, allow_nan=False), min_size=1, max_size=8))
def test_every_bar_is_labelled_with_its_value(values):
    texts = _texts(bar_chart_svg([f"D{i}" for i in range(len(values))], values, [True] * len(values), "x", "t"))
    for value in values:
        assert f"{value:.2f}".replace("-", "−") in texts or f"{value:.2f}" in texts


def _lasted(rows):
    """did_it_last rows: (district, subject, at identification, newest)."""
    return pd.DataFrame([
        {"district_code": code, "district_name": f"{code} School District", "identified_in": "study",
         "identified_end_year": "2015-16", "subject": subject, "school_year": "2018-19", "newest_year": "2018-19",
         "distance_at_identification": then, "distance_newest": now, "change_to_newest": now - then}
        for code, subject, then, now in rows])


def test_did_it_last_sentence_counts_districts_and_names_the_largest_gain_and_loss():
    lasted = _lasted([("M", "Math", -50.1, -28.0), ("M", "ELA", -44.8, -25.5),
                      ("E", "Math", -24.5, -30.4), ("E", "ELA", -14.2, -23.7),
                      ("P", "Math", -15.7, -20.4), ("P", "ELA", -16.0, -9.5)])
    # 2015-16's cohort is A and B; 2018-19's adds C (a later cohort): the sentence follows A and B in both years
    trends = pd.DataFrame({
        "district_code": ["A", "B", "A", "B", "C"], "subject": "Math",
        "school_year": ["2015-16", "2015-16", "2018-19", "2018-19", "2018-19"],
        "score": [2400.0, 2450.0, 2410.0, 2470.0, 2300.0], "n_total": [100, 300, 100, 300, 1000],
        "state_mean": [2500.0, 2500.0, 2505.0, 2505.0, 2505.0], "in_cohort": True,
        "cohort": ["FY2013 cohort (the study's 30 Alliance Districts)"] * 2 + ["FY2018 cohort (33 districts)"] * 3})
    text = summary.lasted_sentence(lasted, trends)
    assert text.startswith("Did it last? From 2015-16 to 2018-19, the newest year with scores, of the 3 districts identified in the study's years, ")
    assert "1 moved closer to the state average in both subjects (M)" in text
    assert "1 in one subject only (P)" in text and "1 lost ground in both (E)" in text
    assert "The largest gain: M in Math, from -50.1 to -28.0 points" in text  # +22.1, hand-computed
    assert "the largest loss: E in ELA, from -14.2 to -23.7" in text  # -9.5
    # (2400 * 100 + 2450 * 300) / 400 - 2500 = -62.5; (2410 * 100 + 2470 * 300) / 400 - 2505 = -50.0
    assert ("The FY2013 cohort (the study's 30 Alliance Districts), the 2 of them with scores in both years, went "
            "from -62.5 to -50.0 in Math.") in text
    # no later year: said, not guessed
    same = lasted.assign(newest_year="2015-16")
    assert "cannot be told yet" in summary.lasted_sentence(same, trends)
    assert summary.lasted_sentence(lasted.iloc[0:0], trends) == ""
    # a later year whose scores are all withheld for them: said, not a crash
    withheld = lasted.assign(distance_newest=float("nan"), change_to_newest=float("nan"))
    assert "withhold the 2018-19 scores of every district" in summary.lasted_sentence(withheld, trends)


def test_later_lists_say_which_indicators_they_were_built_from():
    by_year = pd.DataFrame({"end_year": ["2015-16", "2016-17", "2017-18", "2024-25"],
                            "built_from": [["a", "b", "c", "d"], ["a", "b"], ["a", "b"], ["c", "d"]]})
    text = summary._later_lists_sentence(by_year, "2015-16")
    assert "2 of the study's 6 indicators (a, b) for 2016-17 and 2017-18" in text
    assert "2 of the study's 6 indicators (c, d) for 2024-25" in text and "cannot be compared one for one" in text
    assert summary._later_lists_sentence(by_year.iloc[:1], "2015-16") == ""


def test_audit_page_shows_the_designated_and_the_near_misses_of_every_cut():
    from alliance_pipeline.reporting.identification import audit_table

    n = 12
    frame = pd.DataFrame({
        "district_code": [f"{i:02d}" for i in range(n)], "district_name": [f"D{i:02d}" for i in range(n)],
        "organization_type": "local district", "enrollment": pd.array([5000 - 420 * i for i in range(n)], dtype="Int64"),
        "enrollment_suppressed": False, "accountability_index": [50.0 + i for i in range(n)],
        "step1_kept": [i != 11 for i in range(n)],
    })
    frame["step2_kept"] = frame["step1_kept"] & (frame["enrollment"] >= 1000)  # 0..9 kept (9: 1,220), 10 not (800)
    frame["index_rank"] = pd.array([i + 1 if k else None for i, k in enumerate(frame["step2_kept"])], dtype="Int64")
    frame["step3_selected"] = frame["index_rank"].fillna(99) <= 3
    frame["step4_added"] = frame["district_code"] == "08"
    frame["designated"] = frame["step3_selected"] | frame["step4_added"]
    for column in ("step1_reason", "step2_reason", "step3_reason", "step4_reason", "admitted_by"):
        frame[column] = "r"
    frame["designation_year"], frame["index_year"] = "2017-18", "2015-16"
    table = audit_table(frame)
    why = dict(zip(table.page_rows["district_code"], table.page_rows["shown_because"]))
    assert [code for code, reason in why.items() if reason == "designated"] == ["00", "01", "02", "08"]
    assert [c for c, r in why.items() if r.startswith("near miss, step 3")] == ["03", "04", "05"]  # next 3 by index
    assert [c for c, r in why.items() if r.endswith("under the enrollment floor")] == ["10"]  # 800 students
    assert {c for c, r in why.items() if r.endswith("over the enrollment floor")} == {"09", "07"}  # 08 is designated
    assert len(table.rows) == n and len(table.csv_frame()) == n  # the full trail stays in the CSV and workbook
    assert "12 districts considered; step 1 (organization type) kept 11; step 2 (enrollment) kept 10" in table.notes[0]


def test_trend_rows_with_a_withheld_grade_are_left_blank_and_named():
    trends = pd.DataFrame({"district_code": ["W", "W", "A"], "district_name": ["Winchester School District"] * 2 + ["A SD"],
                           "school_year": ["2016-17", "2017-18", "2017-18"], "in_cohort": True,
                           "distance_to_state": [-5.0, 12.0, -3.0], "partial_grades": [False, True, False]})
    rows, note = every_year.without_partial(trends)
    assert rows["distance_to_state"].isna().tolist() == [False, True, False]
    assert note.endswith("Winchester 2017-18.") and "as in B1 and B2" in note
    assert every_year.without_partial(trends.assign(partial_grades=False))[1] == ""


def test_years_with_the_same_reason_are_one_row_on_the_page():
    from alliance_pipeline.reporting.today import coverage_table

    coverage = pd.DataFrame({"family": ["sbac", "sbac", "sbac", "sbac", "growth"], "held": False,
                             "school_year": ["2019-20", "2021-22", "2022-23", "2023-24", None],
                             "status": ["no test", "not in the source", "not in the source", "not in the source", "x"],
                             "reason": ["covid", "none", "none", "none", "y"]})
    table = coverage_table(coverage)
    assert list(table.page_rows["years"]) == ["2019-20", "2021-22 to 2023-24", "every year"]
    assert len(table.csv_frame()) == 5

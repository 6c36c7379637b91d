"""The report's opening and later sections from hand-made stored tables: what is said, and what is left blank."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
from hypothesis import given, settings, strategies as st

from alliance_pipeline.reporting import beyond, summary
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
    assert rows.at["N", "difference"].startswith("The study selected it through the T-score change indicators, which could "
                                                 "not be computed here: They need CMT results.")
    assert rows.at["X", "difference"] == "Identified here, not in the study's list."
    assert pd.isna(rows.at["A", "difference"]) and rows.at["A", "selected_here"] == ["SBAC change Math"]
    # a study district whose family was computed but is not in the top 3 here is said so, not blamed on missing data
    table = summary.study_comparison_table(study.assign(study_indicator_family=["", "", "SBAC change"]), identified,
                                           _unavailable_t_scores())
    assert table.rows.set_index("district_code").at["N", "difference"].startswith("Not in the top 3")


def test_robustness_labels_only_districts_the_default_method_identifies():
    frame = pd.DataFrame({
        "analysis": ["study"] * 3, "is_study": [True] * 3, "end_year": ["2015-16"] * 3,
        "district_code": ["A", "B", "C"], "district_name": ["A SD", "B SD", "C SD"],
        "identified_default": [True, True, False], "variants": [42] * 3, "times_identified": [42, 10, 0],
        "selection_frequency": [1.0, 10 / 42, 0.0], "label": ["robust", "fragile", "fragile"],
    })
    table = beyond.robustness_table(frame)
    assert list(table.rows["district_code"]) == ["A", "B"]  # C: never picked, default or variant
    assert list(table.rows["shown_label"]) == ["robust", "fragile"]
    assert list(table.rows["flag"].fillna("")) == ["", "fragile"] and list(table.rows["selected_in"]) == ["42 of 42", "10 of 42"]
    frame.loc[2, "times_identified"] = 3
    assert beyond.robustness_table(frame).rows.set_index("district_code").at["C", "shown_label"] == "not identified"


def test_margins_show_the_selected_and_the_best_left_out_per_indicator():
    frame = pd.DataFrame({
        "is_study": True, "indicator": ["I"] * 4, "district_code": list("ABCD"), "district_name": list("ABCD"),
        "rank_cohort": [1, 2, 3, 4], "selected": [True, True, False, False], "value": [9.0, 8.0, 7.5, 1.0],
        "margin": [1.5, 0.5, 0.5, 7.0], "margin_sd": [0.5, 0.05, 0.05, 2.0],
    })
    table = beyond.margins_table(frame, top_n=2)
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
    table = beyond.district_gaps_table(gaps, "2015-16")
    rows = table.rows.set_index("district_code")
    assert rows.at["A", "gap_math_white___black"] == 30.5 and pd.isna(rows.at["B", "gap_math_white___black"])
    assert rows.at["B", "withheld"] == "Math White - Black (Black or African American withheld)"
    assert pd.isna(rows.at["A", "withheld"]) and table.notes == ["1 of 4 district gaps in 2015-16 could not be computed."]


def test_gap_changes_unavailable_say_why_in_plain_words():
    changes = pd.DataFrame()
    changes.attrs["unavailable"] = "a gap change needs two consecutive school years of subgroup exports (have: 2015-16)"
    table = beyond.gap_changes_table(changes)
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

"""The pure report code: table rows, formatting, charts and the atomic report folder."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_pipeline.methods.identified_districts import INDICATORS
from alliance_pipeline.reporting import render
from alliance_pipeline.reporting.appendix_b import (
    EXCLUDED,
    RANKED,
    appendix_b_report,
    appendix_table,
    excluded_table,
    indicator_rows,
)
from alliance_pipeline.reporting.charts import bar_chart_svg, short_name
from alliance_pipeline.reporting.every_year import yearly_table

SBAC_MATH = INDICATORS[0]
GROWTH_ELA = INDICATORS[5]


def cohort(codes):
    return pd.DataFrame({"district_code": codes, "district_name": [f"D{c} School District" for c in codes],
                         "first_year": "2012-13", "last_year": "2016-17"})


def changes(rows):
    """sbac_score_changes-shaped rows: (code, subject, change, rank, reason)."""
    frame = pd.DataFrame(rows, columns=["district_code", "subject", "change", "rank_cohort", "exclusion_reason"])
    frame["district_name"] = "from table"
    frame["start_year"], frame["end_year"] = "2014-15", "2015-16"
    for column in ("score_start", "score_end"):
        frame[column] = 2400.0
    frame["n_start"] = frame["n_end"] = 100
    frame["change"] = frame["change"].astype("Float64")
    frame["rank_cohort"] = frame["rank_cohort"].astype("Int64")
    frame["excluded"] = frame["exclusion_reason"].notna()
    frame["in_cohort"] = True
    return frame


def test_rows_are_ranked_then_excluded_with_reasons_and_missing_rows_say_so():
    table = changes([
        ("B", "Math", 2.0, 2, None),
        ("A", "Math", 5.0, 1, None),
        ("C", "Math", None, None, "suppressed Math grade 3 in 2014-15"),
        ("D", "ELA", 1.0, 1, None),  # only an ELA row: missing for Math
    ])
    rows = indicator_rows(SBAC_MATH, table, cohort(["A", "B", "C", "D"]))
    assert list(rows["district_code"]) == ["A", "B", "C", "D"]
    assert list(rows["status"]) == [RANKED, RANKED, EXCLUDED, EXCLUDED]
    assert list(rows["reason"]) == [None, None, "suppressed Math grade 3 in 2014-15", "no Math row in sbac_score_changes"]
    assert list(rows["district_name"]) == [f"D{c} School District" for c in "ABCD"]  # names from the cohort


def test_unavailable_indicator_keeps_its_reason_and_draws_nothing():
    table = changes([])
    table.attrs["unavailable"] = "no CMT district exports"
    result = appendix_table(INDICATORS[2], table, cohort(["A"]), 3, {})
    assert result.unavailable == "no CMT district exports" and result.figures == [] and result.rows.empty
    assert "CMT" in result.unavailable_plain and "could not be computed" in result.unavailable_plain
    assert result.csv_frame().to_dict(orient="records") == [
        {"not_computed": result.unavailable_plain, "pipeline_reason": "no CMT district exports"}]  # never a bare header
    assert excluded_table([result]).rows.empty


def test_chart_highlights_top_n_and_the_excluded_list_names_the_table():
    table = changes([("A", "Math", 5.0, 1, None), ("B", "Math", 2.0, 2, None), ("C", "Math", None, None, "why")])
    result = appendix_table(SBAC_MATH, table, cohort(["A", "B", "C"]), 1, {})
    [figure] = result.figures
    assert figure.wide.startswith("data:image/svg+xml,%3Csvg ") and figure.narrow.startswith("data:image/svg+xml;base64,")
    assert not set('"&<>#') & set(figure.wide)  # nothing HTML escapes, no fragment
    assert "DA 5.00; DB 2.00" in figure.alt  # the text alternative carries the values
    assert result.rows.loc[result.rows["district_code"] == "C", ["score_start", "n_end"]].isna().all(axis=None)
    excluded = excluded_table([result]).rows
    assert excluded.to_dict(orient="records") == [
        {"table": "Table B1", "district_code": "C", "district_name": "DC School District", "reason": "why"}]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=8)), min_size=1, max_size=25))
def test_every_cohort_district_appears_once_ranked_first_in_rank_order(ranks):
    codes = [f"{i:07d}" for i in range(len(ranks))]
    table = changes([(c, "Math", None if r is None else float(-r), r, None if r else "excluded") for c, r in zip(codes, ranks)])
    rows = indicator_rows(SBAC_MATH, table, cohort(codes))
    assert sorted(rows["district_code"]) == codes
    status = list(rows["status"])
    assert status == sorted(status, key=lambda s: s != RANKED)
    shown = [int(r) for r in rows.loc[rows["status"] == RANKED, "rank_cohort"]]
    assert shown == sorted(shown) and len(shown) == sum(r is not None for r in ranks)
    assert rows.loc[rows["status"] == EXCLUDED, "reason"].notna().all()


def test_yearly_table_has_a_column_per_pair_and_names_each_exclusion():
    first = changes([("A", "Math", 5.0, 1, None), ("A", "ELA", 3.0, 1, None),
                     ("B", "Math", None, None, "suppressed ELA grade 3 in 2014-15"),
                     ("B", "ELA", None, None, "suppressed ELA grade 3 in 2014-15")])
    second = changes([("A", "Math", -1.0, 1, None), ("A", "ELA", 2.0, 1, None)])
    second["start_year"], second["end_year"] = "2015-16", "2016-17"
    table = yearly_table(pd.concat([first, second], ignore_index=True), cohort(["A", "B"]))
    rows = table.rows.set_index("district_code")
    assert [c.label for c in table.columns][2:] == [
        "Math 2014-15 to 2015-16", "ELA 2014-15 to 2015-16", "Math 2015-16 to 2016-17", "ELA 2015-16 to 2016-17",
        "Excluded because"]
    assert rows.at["A", "change_math_2015_16_2016_17"] == -1.0 and rows.at["A", "exclusions"] == ""
    assert pd.isna(rows.at["B", "change_math_2014_15_2015_16"])
    assert rows.at["B", "exclusions"] == ("2014-15 to 2015-16: suppressed ELA grade 3 in 2014-15; "
                                          "Math 2015-16 to 2016-17: no row; ELA 2015-16 to 2016-17: no row")


def test_yearly_table_rows_are_each_pairs_cohort():
    """A pair's districts are its end year's cohort (cohort_by_year): C joins with the 2016-17 cohort, so its
    2014-15 to 2015-16 change is not shown (and says why), though the export has it."""
    first = changes([("A", "Math", 5.0, 1, None), ("C", "Math", 4.0, 2, None)])
    second = changes([("A", "Math", -1.0, 1, None), ("C", "Math", 2.0, 2, None)])
    second["start_year"], second["end_year"] = "2015-16", "2016-17"
    by_year = pd.DataFrame({"school_year": ["2015-16", "2016-17", "2016-17"], "district_code": ["A", "A", "C"],
                            "cohort": ["old", "new", "new"]})
    table = yearly_table(pd.concat([first, second], ignore_index=True), cohort(["A"]), by_year)
    rows = table.rows.set_index("district_code")
    assert set(rows.index) == {"A", "C"}
    assert pd.isna(rows.at["C", "change_math_2014_15_2015_16"]) and rows.at["C", "change_math_2015_16_2016_17"] == 2.0
    assert rows.at["C", "exclusions"].startswith("2014-15 to 2015-16: not in that year's cohort; ")  # once for both subjects

def test_cells_show_rounded_values_and_keep_the_exact_one():
    assert render.fmt(pd.NA, "float2") == "—" and render.fmt(None) == "—" and render.fmt(float("nan"), "int") == "—"
    assert render.fmt(12.345678, "float2") == "12.35" and render.fmt(64.25, "float1") == "64.2"
    assert render.fmt(8348, "int") == "8,348" and render.fmt("0020011", "code") == "0020011"
    assert render.raw(0.1 + 0.2) == "0.30000000000000004" and float(render.raw(2489.8385116992713)) == 2489.8385116992713
    assert render.raw(pd.NA) == "" and render.raw(["a"]) == ""


def test_bar_chart_is_svg_with_text_labels():
    svg = bar_chart_svg(["Putnam", "Windsor"], [12.3, -1.5], [True, False], "Change", "Title", reference=0.0)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = "".join(root.itertext())
    assert "Putnam" in texts and "Windsor" in texts
    with pytest.raises(ValueError):
        bar_chart_svg(["a"], [1.0, 2.0], [True], "x", "t")
    assert short_name("Windsor Locks School District") == "Windsor Locks"


def study(codes, families=None):
    return pd.DataFrame({"district_code": codes, "district_name": [f"D{c} School District" for c in codes],
                         "study_indicator_family": families or [""] * len(codes)})


def _report(run_id: str, minute: int):
    identification = pd.DataFrame({
        "district_code": ["A"], "district_name": ["DA School District"], "organization_type": ["local district"],
        "enrollment": pd.array([1500], dtype="Int64"), "enrollment_suppressed": [False],
        "accountability_index": pd.array([55.5], dtype="Float64"), "index_rank": pd.array([1], dtype="Int64"),
        "step1_reason": ["kept"], "step1_kept": [True], "step2_reason": ["kept"], "step2_kept": [True], "step3_reason": ["rank 1"], "step3_selected": [True],
        "step4_reason": ["already selected"], "step4_added": [False], "designated": [True], "admitted_by": ["steps 1-3"],
        "designation_year": ["2017-18"], "index_year": ["2015-16"],
    })
    opportunity = identification[["district_code", "district_name", "accountability_index", "admitted_by", "index_year"]].assign(
        opportunity_rank=pd.array([1], dtype="Int64"))
    identified = pd.DataFrame({"district_code": ["A"], "district_name": ["DA"], "n_indicators": [1],
                               "indicators": [["SBAC change Math"]], "ranks": [[1]], "values": [[5.0]], "best_rank": [1]})
    growth = pd.DataFrame({"district_code": ["A"], "subject": ["ELA"], "school_year": ["2015-16"], "growth_rate": [50.0],
                           "matched_students": [10], "avg_pct_target_achieved": [80.0], "rank_state": [1],
                           "rank_cohort": pd.array([1], dtype="Int64"), "exclusion_reason": [None], "in_cohort": [True]})
    t = changes([])
    t.attrs["unavailable"] = "no CMT"
    tables = {"sbac_score_changes": changes([("A", "Math", 5.0, 1, None)]), "growth_rankings": growth,
              "sbac_yearly_changes": changes([("A", "Math", 5.0, 1, None), ("A", "ELA", 3.0, 1, None)]),
              "t_score_changes": t, "identified_districts": identified, "alliance_identification": identification,
              "opportunity_districts": opportunity, "study_identified_districts": study(["A", "B"]),
              **{name: pd.DataFrame() for name in ("identified_by_year", "sbac_score_trends", "identification_robustness",
                                                   "identification_margins", "subgroup_gaps", "subgroup_gap_summary",
                                                   "subgroup_gap_changes")}}
    sources = [{"asset": "raw_sbac_district", "school_year": "2015-16", "file": "f.csv", "sha256": "ab" * 32, "rows": 3, "title": "T"}]
    return appendix_b_report(tables, cohort(["A"]), sources, [("method", "top_n", "3")], 3,
                             datetime(2026, 11, 22, 12, minute, tzinfo=timezone.utc), run_id)


def test_report_folder_is_written_whole_and_latest_moves_only_on_success(tmp_path, monkeypatch):
    first = render.write_report(_report("run-one", 0), tmp_path)
    assert first.latest.resolve() == first.folder and first.html.is_file() and first.csvs["sbac_change_math"].is_file()
    page = first.html.read_text(encoding="utf-8")
    assert 'data-value="5.0"' in page and "no CMT" in page and "Growth rate ELA" not in page  # title is Table B4 ...
    assert "Table B4. SBAC ELA growth rate" in page

    def broken(report):
        raise RuntimeError("template error")

    monkeypatch.setattr(render, "render_markdown", broken)
    with pytest.raises(RuntimeError):
        render.write_report(_report("run-two", 1), tmp_path)
    assert (tmp_path / "latest").resolve() == first.folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20261122T120000Z_run-one", "latest"]  # nothing half-written

    monkeypatch.undo()
    second = render.write_report(_report("run-three", 2), tmp_path)
    assert (tmp_path / "latest").resolve() == second.folder and first.folder.is_dir()


@pytest.mark.parametrize("n", [3, 5, 8, 12])
def test_year_labels_never_run_together_and_always_show_the_newest(n):
    from alliance_pipeline.reporting.charts import year_labels

    years = [f"{2014 + i}-{(15 + i) % 100:02d}" for i in range(n)]
    for width in (3.0, 3.9, 7.0):
        positions, labels = year_labels(years, width)
        assert positions[-1] == n - 1 and len(labels) == len(positions)
        assert max(len(label) for label in labels) * 0.075 * len(labels) <= width  # ~0.075 in per character at 9 pt
    assert year_labels(years[:3], 7.0)[1] == years[:3]  # room enough: every year, written in full


def test_minified_svg_draws_the_same_and_phone_titles_wrap():
    from alliance_pipeline.reporting.charts import line_chart_svg, minify_svg, wrapped

    svg = line_chart_svg(years=["2014-15", "2015-16"], series={"A": [1.0, 2.0]}, ylabel="y", title="t", width=3.0)
    assert svg.startswith("<svg") and "<metadata" not in svg and "\n" not in svg and "font-family: 'DejaVu" not in svg.split("</style>")[1]
    root = ET.fromstring(svg)  # still well-formed XML, text kept as text
    assert "2014-15" in [t.strip() for t in root.itertext()]
    assert minify_svg('<?xml version="1.0"?>\n<svg><g id="x"><path d="M 1.234567 2.5"/></g></svg>') == '<svg><g><path d="M 1.23 2.5"/></g></svg>'
    assert all(len(line) <= 40 for line in wrapped("Identified districts, 2014-15 to 2015-16: share of variants", 3.9).splitlines())


def test_css_string_cannot_end_the_style_block():
    assert render.css_string('Math: White - Black') == '"Math: White - Black"'
    assert render.css_string('a"</style>') == '"a\\22 \\3c /style\\3e "'


def test_a_chart_whose_inputs_are_unchanged_is_read_back_not_drawn(tmp_path, monkeypatch):
    """Inside ``reusing``, a chart is kept by the hash of its inputs; the same inputs read it back (the very same SVG,
    nothing drawn), other inputs draw anew; the folder then keeps only the last block's charts. A block that fails
    leaves the folder as it was, and outside a block nothing is kept."""
    from alliance_pipeline.reporting import charts

    folder = tmp_path / "chart-cache"
    first = dict(labels=["A", "B"], values=[1.0, 2.0], highlighted=[True, False], xlabel="points", title="T")
    with charts.reusing(folder):
        drawn = charts.bar_chart_svg(**first)
        charts.line_chart_svg(years=["2014-15", "2015-16"], series={"A": [1.0, None]}, ylabel="y", title="L")
    assert len(list(folder.glob("*.svg"))) == 2
    assert drawn == charts.bar_chart_svg(**first)  # the same drawing, outside a block too

    def no_drawing(*args, **kwargs):
        raise AssertionError("drawn again")

    with monkeypatch.context() as patch:
        patch.setattr(charts.plt, "subplots", no_drawing)
        with charts.reusing(folder):
            assert charts.bar_chart_svg(**first) == drawn  # read back: nothing drawn
        with pytest.raises(AssertionError, match="drawn again"), charts.reusing(folder):
            charts.bar_chart_svg(**{**first, "values": [1.0, 2.5]})  # new inputs must be drawn
    assert len(list(folder.glob("*.svg"))) == 1  # the line chart was not used by the last complete block
    with pytest.raises(RuntimeError), charts.reusing(folder):
        charts.bar_chart_svg(**{**first, "title": "U"})
        raise RuntimeError("the report failed after this chart")
    assert len(list(folder.glob("*.svg"))) == 2  # a failed block prunes nothing (its new chart is kept)
    charts.bar_chart_svg(**{**first, "title": "V"})
    assert len(list(folder.glob("*.svg"))) == 2 and not [p for p in folder.iterdir() if p.suffix != ".svg"]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    with charts.reusing(blocked):  # the charts are drawn all the same; only their reuse is lost
        assert charts.bar_chart_svg(**first) == drawn

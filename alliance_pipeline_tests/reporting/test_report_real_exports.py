"""The report of the real exports, opened in headless Chromium: the cohort in the Parquet's rank order, every real year's answer to did it last, what it read said and nothing labelled that it did not compute."""

from __future__ import annotations

import pandas as pd
import pytest

from alliance_pipeline.reporting.appendix_b import ORDER
from alliance_pipeline_tests.browser import chromium_page, screenshot_path
from alliance_pipeline_tests.helpers import ReportRun
from alliance_pipeline_tests.reporting.page import (
    BY_NAME,
    PHONE,
    SECTION_KEYS,
    check_appendix_table,
    check_beyond_tables,
    check_lasted,
    check_layout,
    check_today,
    main_text,
    read_page_tables,
)


@pytest.mark.real_exports
@pytest.mark.browser
def test_real_exports_report_lists_the_cohort_in_parquet_rank_order(real_run):
    with chromium_page() as page:
        page.goto(real_run.html.as_uri())
        tables = read_page_tables(page)
        for key, name in zip(SECTION_KEYS, ORDER):
            indicator = BY_NAME[name]
            if indicator.asset == "t_score_changes":  # no CMT exports: shown as unavailable, in plain words
                reason = page.inner_text(f"[data-unavailable={key}]")
                assert "need each district's CMT results" in reason and "not publish" in reason and key not in tables
                assert "raw_cmt_district has no school years" in page.text_content(f"[data-unavailable={key}] details")
                continue
            check_appendix_table(real_run, key, indicator, tables[key])
        check_beyond_tables(real_run, tables)
        distance = next(row for row in tables["distance_to_state"] if row["district"] == "1620011")["cells"]
        assert distance["distance_math_2015_16"]["text"] == "—"  # Winchester: one rule in every table
        assert "Winchester 2014-15, 2015-16" in page.inner_text("section#every_year")
        winchester = next(row for row in tables["sbac_yearly_changes"] if row["district"] == "1620011")["cells"]
        assert winchester["change_math_2014_15_2015_16"]["text"] == "—"
        assert winchester["exclusions"]["text"].startswith("2014-15 to 2015-16: suppressed")
        excluded = {(row["cells"]["table"]["text"], row["district"]) for row in tables["excluded_districts"]}
        assert ("Table B1", "1620011") in excluded  # Winchester: suppressed grades in both years
        page.locator("#identification").screenshot(path=screenshot_path("identification-audit-real-exports.png"))

        # the study's eight beside this run's seven, and why New Britain is missing
        summary = page.inner_text("section#summary")
        assert "The study identified 8 districts; this run identifies 7, of which 7 are on the study's list." in summary
        assert ("New Britain is not identified here. It was not in the top 3 on any indicator computed here, so the study "
                "most likely selected it through the T-score change indicators") in summary
        lasted = real_run.table("did_it_last")
        assert f"Did it last? From 2015-16 to {lasted['newest_year'].iloc[0]}, the newest year with scores" in summary
        assert "reconstruction, not CSDE's own list" in page.inner_text("#opportunity_districts ~ p.description")
        glossary = page.inner_text("section#glossary")
        for term in ("Accountability Index:", "Scale score:", "Distance to the state:", "T-score:", "Margin (sd):"):
            assert term in glossary, term
        for jargon in ("Parquet", "methodology section", "cohort district(s)", "raw_cmt_district"):
            assert jargon not in main_text(page), jargon
        assert "Not computed: T-score change (Table B5 and Table B6)." in summary
        comparison = {row["district"]: row["cells"] for row in tables["study_comparison"]}
        study = real_run.table("study_identified_districts")
        identified = real_run.table("identified_districts")
        assert set(comparison) == set(study["district_code"]) | set(identified["district_code"])
        new_britain = comparison["0890011"]
        assert (new_britain["in_study"]["text"], new_britain["in_run"]["text"]) == ("yes", "no")
        assert "CMT" in new_britain["difference"]["text"]
        caveats = page.inner_text("section#caveats")
        for phrase in ("Descriptive, not causal", "Grades 3-8 only", "Small districts move more",
                       "How Long-term Planning Processes Can Improve State-Led Turnaround in Connecticut",
                       "https://portal.ct.gov/SDE/Alliance-Districts/Alliance-Districts"):
            assert phrase in caveats, phrase
        notes = page.inner_text("section#identified")
        assert "Not computed: T-score change Math and T-score change ELA. T-score changes compare" in notes
        growth_note = page.inner_text("section#growth_rate_math .note")
        assert "highest to lowest growth rate" in growth_note and "not a change" in growth_note
        assert "most to least improved" in page.inner_text("section#sbac_change_math .note")
        changes = page.inner_text("section#equity [data-unavailable=subgroup_gap_changes]")
        assert "two consecutive school years" in changes
        fragile = [row["district"] for row in tables["identified_districts"] if "flag-fragile" in row["classes"]]
        robust = real_run.table("identification_robustness")
        expected = set(robust[robust["is_study"] & robust["identified_default"] & (robust["label"] == "fragile")]["district_code"])
        assert set(fragile) == expected == {"0800011"}  # Meriden: picked in 10 of 42 variants
        check_layout(page, 1280)
        page.screenshot(path=screenshot_path("report-real-exports-1280.png"), full_page=True)
        check_layout(page, PHONE)
        page.screenshot(path=screenshot_path("report-real-exports-400px.png"), full_page=True)
    assert real_run.html.stat().st_size < 1_000_000
    t_csv = pd.read_csv(real_run.html.parent / "tables" / "tscore_change_math.csv")
    assert list(t_csv.columns) == ["not_computed", "pipeline_reason"] and "CMT" in t_csv.iloc[0, 0]  # not a bare header
    audit = real_run.table("alliance_identification")
    assert real_run.report_metadata["designated"].value == int(audit["designated"].sum()) == 33
    assert real_run.report_metadata["tables_available"].value == 4


@pytest.mark.real_exports
@pytest.mark.browser
def test_the_report_of_every_real_year_answers_did_it_last(combined_refresh):
    """The combined real folder (2007-08 to 2025-26): the Summary says whether the study's finding lasted, with the
    numbers of did_it_last; the later lists say what they were built from; every number of the new section equals
    its Parquet value; the page stays under 1.1 MB and fits 1280 and 400 px."""
    run = ReportRun(combined_refresh)
    # every real year, and "Alliance Districts today" (about 80 KB of tables: the cohorts, the current cohort's 36
    # districts, each group's years): the page stays under 1.1 MB
    assert run.html.stat().st_size < 1_100_000
    lasted = run.table("did_it_last")
    newest = lasted["newest_year"].iloc[0]
    with chromium_page() as page:
        page.goto(run.html.as_uri())
        tables = read_page_tables(page)
        assert check_lasted(run, tables) > 30
        summary = page.inner_text("section#summary")
        assert f"Did it last? From 2015-16 to {newest}, the newest year with scores" in summary
        assert "The largest gain: Meriden in Math, from -50.1 to -28.0 points" in summary  # did_it_last, rounded
        assert "Later years' lists apply the same top-3 rule to the indicators each year has" in summary
        assert check_today(run, tables) > 40
        today = page.inner_text("section#today")
        assert "the current one is the FY2023 cohort" in today and "watch list, not a designation" in today
        notes = page.inner_text("section#did_it_last")
        assert "built from 2 of the study's 6 indicators" in notes and "Not comparable one for one" in notes
        panels = page.eval_on_selector_all("section#did_it_last img[data-chart^=multiple_]", "imgs => imgs.map(i => i.alt)")
        identified = set(run.table("identified_districts")["district_name"])
        marked = [alt for alt in panels if "identified in the study years" in alt]
        assert len(marked) == len(identified) and panels[:len(marked)] == marked  # identified first, and marked
        check_layout(page, 1280)
        page.locator("section#did_it_last").screenshot(path=screenshot_path("report-did-it-last-1280.png"))
        check_layout(page, PHONE)
        page.locator("section#did_it_last").screenshot(path=screenshot_path("report-did-it-last-400px.png"))
        page.locator("section#summary").screenshot(path=screenshot_path("report-summary-every-year-400px.png"))


def test_the_real_report_says_what_it_read_and_labels_nothing_it_did_not_compute(combined_refresh):
    """Issue 35 on the combined real folder: no gap over the districts that happened to publish is called
    statewide; a list built from one year's growth rates has one label everywhere; the coverage table has one
    reason column; Source lines name EdSight's files; no unsourced claim; no generated-data notice on real data."""
    run = ReportRun(combined_refresh)
    html = run.html.read_text(encoding="utf-8")
    assert "Generated data, not real results" not in html
    assert "draws on information EdSight does not publish" not in html and "low and uneven participation" not in html
    summary = run.table("subgroup_gap_summary")
    assert len(summary) and not summary.loc[summary["scope"] == "state", "complete"].all()
    with chromium_page() as page:
        page.goto(run.html.as_uri())
        tables = read_page_tables(page)
        scopes = [row["cells"]["scope_label"]["text"] for row in tables["subgroup_gap_summary"]]
        partial = summary[~summary["complete"].astype(bool)]
        assert sum("that published both groups" in text for text in scopes) == len(partial)
        assert not [text for text in scopes if text.startswith("Statewide") and "every district" not in text]
        newest = summary[summary["school_year"] == summary["school_year"].max()]
        if not newest.loc[newest["scope"] == "state", "complete"].all():
            assert "districts statewide that published both groups" in page.inner_text("section#summary")
        # one label for a growth-only list, in both tables that show it
        by_year = run.table("identified_by_year")
        growth_only = {end for end, built in zip(by_year["end_year"], by_year["built_from"])
                       if all(str(name).startswith("Growth rate") for name in built)}
        assert growth_only
        robustness = run.table("identification_robustness")
        for key, years in (("identified_by_year", growth_only), ("identification_robustness",
                                                                 growth_only & set(robustness["end_year"]))):
            assert years, key
            labels = {row["cells"]["years"]["text"] for row in tables[key]}
            for year in years:
                assert f"{year} (growth rates of that year)" in labels, (key, labels)
                assert not [label for label in labels if label.endswith(f"to {year}")], (key, labels)
        heads = page.eval_on_selector_all("#table-data_coverage thead th", "ths => ths.map(t => t.textContent.trim())")
        assert heads == ["Export", "School year", "Status", "Why"]
        source = page.evaluate("() => document.querySelector('#table-sbac_change_math').closest('.scroll')"
                               ".nextElementSibling.innerText")
        assert source.startswith("Source: EdSight's Smarter Balanced") and ".csv" in source, source
        assert "stored as sbac_score_changes" in source, source

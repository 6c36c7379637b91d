"""The report: built from the Parquet assets, opened in headless Chromium at laptop and phone widths,
every number on the page checked against the stored table it came from.

The session's one full run on the sample and one on the real exports (conftest).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.reporting.appendix_b import ORDER
from alliance_pipeline.reporting.render import HTML_NAME, LATEST
from alliance_pipeline_tests.browser import chromium_page, screenshot_path
from alliance_pipeline_tests.reporting.page import (
    BY_NAME,
    PHONE,
    SECTION_KEYS,
    SECTIONS,
    check_appendix_table,
    check_beyond_tables,
    check_lasted,
    check_layout,
    read_page_tables,
    same_value,
)


@pytest.mark.browser
def test_sample_report_in_chromium_matches_the_parquet_assets(sample_run):
    assert sample_run.html.is_file() and (sample_run.reports / LATEST).is_symlink()
    html = sample_run.html.read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html  # self-contained: styles and charts inline
    assert "flag-nan" not in html and ">nan<" not in html
    requests: list[str] = []
    with chromium_page() as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(sample_run.html.as_uri())
        page.wait_for_load_state("load")
        assert page.eval_on_selector_all("section[data-section]", "els => els.map(e => e.dataset.section)") == SECTIONS
        charts = dict(page.eval_on_selector_all(
            "img[data-chart]", "imgs => imgs.map(i => [i.dataset.chart, i.complete && i.naturalWidth > 0])"))
        expected = {*SECTION_KEYS, "opportunity_districts", "trend_math", "trend_ela", "robustness_study", "gaps_math", "gaps_ela"}
        assert expected <= set(charts) and all(charts.values())
        assert len([key for key in charts if key.startswith("multiple_")]) == 30  # one small chart per cohort district
        tables = read_page_tables(page)
        checked = sum(check_appendix_table(sample_run, key, BY_NAME[name], tables[key]) for key, name in zip(SECTION_KEYS, ORDER))
        assert checked > 6 * 30 * 3

        yearly = sample_run.table("sbac_yearly_changes").set_index(["district_code", "subject", "start_year"])
        shown_yearly = {row["district"]: row["cells"] for row in tables["sbac_yearly_changes"]}
        assert len(shown_yearly) == 30
        for (code, subject, start), record in yearly.iterrows():
            if code in shown_yearly:
                column = f"change_{subject.lower()}_{start}_{record['end_year']}".replace("-", "_")
                assert same_value(record["change"], shown_yearly[code][column], "float2"), (code, column)

        # the plans section: each district's mean of its plans, read from plan_indicators
        plans = sample_run.table("plan_indicators").groupby("district_code")[["continuation_share", "capacity_share"]].mean()
        shown_plans = {row["district"]: row["cells"] for row in tables["plan_districts"]}
        assert set(shown_plans) == set(plans.index) and len(shown_plans) == 30
        for code, record in plans.iterrows():
            for column in ("continuation_share", "capacity_share"):
                assert same_value(record[column], shown_plans[code][column], "percent"), (code, column)

        identified = sample_run.table("identified_districts")
        robustness = sample_run.table("identification_robustness")
        study = robustness[robustness["is_study"]].set_index("district_code")
        assert [row["district"] for row in tables["identified_districts"]] == list(identified["district_code"])
        for row, (_, record) in zip(tables["identified_districts"], identified.iterrows()):
            assert row["cells"]["n_indicators"]["value"] == str(record["n_indicators"])
            for name, rank in zip(record["indicators"], record["ranks"]):
                assert f"{name} (rank {rank}," in row["cells"]["selected_by"]["text"]
            frequency = study.at[record["district_code"], "selection_frequency"]
            assert same_value(frequency, row["cells"]["selection_frequency"], "percent")
            assert row["cells"]["label"]["text"] == study.at[record["district_code"], "label"]
        assert check_beyond_tables(sample_run, tables) > 200
        gap_changes = sample_run.table("subgroup_gap_changes")
        shown_changes = tables["subgroup_gap_changes"]
        assert len(shown_changes) == int((gap_changes["scope"] != "district").sum())  # districts: workbook and CSV

        check_lasted(sample_run, tables)

        audit = sample_run.table("alliance_identification")
        shown = {row["district"]: row for row in tables["identification_audit"]}
        # the page: the designated districts and the near misses of each cut; the CSV: every district considered
        assert set(audit.loc[audit["designated"], "district_code"]) <= set(shown) <= set(audit["district_code"])
        assert len(shown) < len(audit) and {row["cells"]["shown_because"]["text"] for row in shown.values()} >= {"designated"}
        trail = pd.read_csv(sample_run.html.parent / "tables" / "identification_audit.csv", dtype={"district_code": str})
        assert sorted(trail["district_code"]) == sorted(audit["district_code"])
        for _, record in audit[audit["district_code"].isin(shown)].iterrows():
            cells = shown[record["district_code"]]["cells"]
            for step in ("step1_reason", "step2_reason", "step3_reason", "step4_reason"):
                assert cells[step]["text"] == record[step]
            assert same_value(record["accountability_index"], cells["accountability_index"], "float2")
        opportunity = sample_run.table("opportunity_districts")
        assert [row["district"] for row in tables["opportunity_districts"]] == list(opportunity.sort_values("opportunity_rank")["district_code"])

        sources = {(row["cells"]["asset"]["text"], row["cells"]["school_year"]["text"]): row["cells"]["sha256"]["text"]
                   for row in tables["data_sources"]}
        raw = read_parquet(sample_run.warehouse / "raw_sbac_district" / "2015-16.parquet").attrs["source"]
        assert sources[("raw_sbac_district", "2015-16")] == raw["sha256"] and len(raw["sha256"]) == 64
        settings = page.eval_on_selector_all("table[data-table=settings] tbody tr",
                                             "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
        assert ["method", "top_n", "3"] in settings and ["identification_settings", "lowest_n", "30"] in settings
        check_layout(page, 1280)
        page.screenshot(path=screenshot_path("appendix-b-report.png"), full_page=True)
        page.screenshot(path=screenshot_path("appendix-b-report-top.png"))  # the README's picture
        check_layout(page, PHONE)
        page.screenshot(path=screenshot_path("appendix-b-report-400px.png"), full_page=True)
        page.screenshot(path=screenshot_path("appendix-b-report-400px-top.png"))
    assert all(url.startswith(("file:", "data:")) for url in requests), requests


@pytest.mark.browser
def test_report_prints_as_a_clean_document(sample_run):
    """Print to PDF: no navigation bar, tables unclipped (no scroll boxes), citations' addresses written out."""
    with chromium_page() as page:
        page.goto(sample_run.html.as_uri())
        page.emulate_media(media="print")
        assert page.evaluate("() => getComputedStyle(document.querySelector('nav')).display") == "none"
        assert page.evaluate("() => getComputedStyle(document.querySelector('.scroll')).overflowX") == "visible"
        assert page.evaluate("() => getComputedStyle(document.querySelector('header')).backgroundColor") in ("rgba(0, 0, 0, 0)", "transparent")
        pdf = screenshot_path("appendix-b-report.pdf")
        page.pdf(path=str(pdf), format="Letter", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 50_000


def test_report_files_and_ui_metadata(sample_run):
    folder = sample_run.html.parent.resolve()
    assert folder.parent == sample_run.reports.resolve() and not folder.name.startswith(".")
    csv = pd.read_csv(folder / "tables" / "sbac_change_math.csv", dtype={"district_code": str})
    stored = sample_run.table("sbac_score_changes")
    stored = stored[(stored["subject"] == "Math") & stored["in_cohort"]].set_index("district_code")
    for _, row in csv.iterrows():
        expected = stored.loc[row["district_code"], "change"]
        if pd.isna(expected):
            assert pd.isna(row["change"]) and row["status"] == "excluded"
        else:
            assert row["change"] == pytest.approx(float(expected), rel=0, abs=1e-9)
    for key in ("identification_robustness", "identification_margins", "subgroup_gap_summary", "study_comparison", "distance_to_state"):
        assert (folder / "tables" / f"{key}.csv").is_file(), key
    markdown = (folder / "appendix-b.md").read_text(encoding="utf-8")
    for name in ORDER:
        assert name.split()[0] in markdown
    assert "Identification audit" in markdown and "| Rank | District" in markdown.replace("  ", "")
    assert "## Read with care" in markdown and "Descriptive, not causal" in markdown
    metadata = sample_run.report_metadata
    assert metadata["report"].value == str(folder / HTML_NAME)
    first = stored[stored["rank_cohort"] == 1]["district_name"].iloc[0]
    assert metadata["table/sbac_change_math"].value.splitlines()[2].replace(" ", "").startswith(f"|1|{first}".replace(" ", ""))
    assert metadata["tables_available"].value == 6
    assert "districts were in the top 3" in metadata["summary"].value
    assert leftovers(sample_run.reports) == []


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))

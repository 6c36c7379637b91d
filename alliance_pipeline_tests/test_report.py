"""The report: built from the Parquet assets, opened in headless Chromium, numbers checked against Parquet.

The session's one full run on the sample and one on the real exports (conftest); the
page is read in a real browser and every numeric cell is compared with the
stored table it came from.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.methods.identify import INDICATORS
from alliance_pipeline.reporting.appendix_b import ORDER
from alliance_pipeline.reporting.render import HTML_NAME, LATEST, fmt
from alliance_pipeline_tests.browser import chromium_page, screenshot_path

SECTION_KEYS = [name.lower().replace("-", "").replace(" ", "_") for name in ORDER]
BY_NAME = {indicator.name: indicator for indicator in INDICATORS}
VALUE_COLUMNS = {
    "sbac_score_changes": ["score_start", "score_end", "n_start", "n_end", "change"],
    "growth_rankings": ["matched_students", "growth_rate", "avg_pct_target_achieved", "rank_state"],
    "t_score_changes": ["t_base", "t_end", "change"],
}


HTML = Path(LATEST) / HTML_NAME


class ReportRun:
    """A session refresh (conftest) seen from the report: its page and the report asset's metadata."""

    def __init__(self, refreshed):
        self.warehouse, self.reports, self.table = refreshed.warehouse, refreshed.reports, refreshed.table
        self.html = refreshed.reports / HTML
        self.report_metadata = refreshed.metadata("appendix_b_report")


@pytest.fixture(scope="module")
def sample_run(sample_refresh) -> ReportRun:
    return ReportRun(sample_refresh)


@pytest.fixture(scope="module")
def real_run(real_refresh) -> ReportRun:
    return ReportRun(real_refresh)


def read_page_tables(page) -> dict[str, list[dict]]:
    """Every report table as the browser shows it: per row, the district, status and each cell's text and value."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('table[data-table]')].map(t => [
            t.dataset.table,
            [...t.querySelectorAll('tbody tr[data-district]')].map(tr => ({
                district: tr.dataset.district, status: tr.dataset.status || null,
                cells: Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map(td => [
                    td.dataset.col, {text: td.innerText.trim(), value: td.dataset.value ?? null}])),
            })),
        ]))"""
    )


def _same(stored, shown: dict, kind: str) -> bool:
    if stored is None or stored is pd.NA or (isinstance(stored, float) and math.isnan(stored)):
        return shown["value"] == "" and shown["text"] == "—"
    return float(shown["value"]) == float(stored) and shown["text"] == fmt(stored, kind)


def check_appendix_table(run: ReportRun, key: str, indicator, rows: list[dict]) -> int:
    """The page's rows are the cohort in Parquet rank order, each number equal to the stored one."""
    table = run.table(indicator.asset)
    stored = table[(table["subject"] == indicator.subject) & table["in_cohort"]].set_index("district_code")
    ranked = stored[stored["rank_cohort"].notna()].sort_values(["rank_cohort", "district_name"])
    shown_ranked = [row["district"] for row in rows if row["status"] == "ranked"]
    assert shown_ranked == list(ranked.index), key
    cohort = set(run.table("alliance_cohort")["district_code"])
    assert {row["district"] for row in rows} == cohort, key
    kinds = {"n_start": "int", "n_end": "int", "matched_students": "int", "rank_state": "rank",
             "growth_rate": "float1", "avg_pct_target_achieved": "float1"}
    checked = 0
    for row in rows:
        record = stored.loc[row["district"]]
        if row["status"] == "ranked":
            assert row["cells"]["rank_cohort"]["value"] == str(int(record["rank_cohort"]))
            assert row["cells"]["reason"]["text"] == ""
            columns = VALUE_COLUMNS[indicator.asset]
        else:  # excluded: never a blank or a zero, always the reason the asset recorded
            assert row["cells"]["rank_cohort"]["text"] == "excluded"
            assert row["cells"]["reason"]["text"] == record["exclusion_reason"], row
            columns = [c for c in VALUE_COLUMNS[indicator.asset] if c != "change"]
            assert row["cells"].get("change", {"text": "—"})["text"] == "—"
        for column in columns:
            assert _same(record[column], row["cells"][column], kinds.get(column, "float2")), (key, row["district"], column)
            checked += 1
    return checked


@pytest.mark.browser
def test_sample_report_in_chromium_matches_the_parquet_assets(sample_run):
    assert sample_run.html.is_file() and (sample_run.reports / LATEST).is_symlink()
    html = sample_run.html.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # self-contained: nothing fetched
    requests: list[str] = []
    with chromium_page() as page:
        page.on("request", lambda request: requests.append(request.url))
        page.goto(sample_run.html.as_uri())
        page.wait_for_load_state("load")
        sections = page.eval_on_selector_all("section[data-section]", "els => els.map(e => e.dataset.section)")
        assert sections == [*SECTION_KEYS, "sbac_yearly_changes", "identified_districts", "excluded_districts", "identification_audit",
                            "settings", "data_sources"]
        charts = page.eval_on_selector_all(
            "img[data-chart]", "imgs => imgs.map(i => [i.dataset.chart, i.complete && i.naturalWidth > 0])")
        assert dict(charts) == {**{key: True for key in SECTION_KEYS}, "opportunity_districts": True}
        tables = read_page_tables(page)
        checked = sum(check_appendix_table(sample_run, key, BY_NAME[name], tables[key]) for key, name in zip(SECTION_KEYS, ORDER))
        assert checked > 6 * 30 * 3

        yearly = sample_run.table("sbac_yearly_changes").set_index(["district_code", "subject", "start_year"])
        shown_yearly = {row["district"]: row["cells"] for row in tables["sbac_yearly_changes"]}
        assert len(shown_yearly) == 30
        for (code, subject, start), record in yearly.iterrows():
            if code in shown_yearly:
                column = f"change_{subject.lower()}_{start}_{record['end_year']}".replace("-", "_")
                assert _same(record["change"], shown_yearly[code][column], "float2"), (code, column)

        identified = sample_run.table("identified_districts")
        assert [row["district"] for row in tables["identified_districts"]] == list(identified["district_code"])
        for row, (_, record) in zip(tables["identified_districts"], identified.iterrows()):
            assert row["cells"]["n_indicators"]["value"] == str(record["n_indicators"])
            for name, rank in zip(record["indicators"], record["ranks"]):
                assert f"{name} (rank {rank}," in row["cells"]["selected_by"]["text"]

        audit = sample_run.table("alliance_identification")
        shown = {row["district"]: row for row in tables["identification_audit"]}
        assert set(shown) == set(audit["district_code"])
        for _, record in audit.iterrows():
            cells = shown[record["district_code"]]["cells"]
            for step in ("step1_reason", "step2_reason", "step3_reason", "step4_reason"):
                assert cells[step]["text"] == record[step]
            assert _same(record["accountability_index"], cells["accountability_index"], "float2")
        opportunity = sample_run.table("opportunity_districts")
        assert [row["district"] for row in tables["opportunity_districts"]] == list(opportunity.sort_values("opportunity_rank")["district_code"])

        sources = {(row["cells"]["asset"]["text"], row["cells"]["school_year"]["text"]): row["cells"]["sha256"]["text"]
                   for row in tables["data_sources"]}
        raw = read_parquet(sample_run.warehouse / "raw_sbac_district" / "2015-16.parquet").attrs["source"]
        assert sources[("raw_sbac_district", "2015-16")] == raw["sha256"] and len(raw["sha256"]) == 64
        settings = page.eval_on_selector_all("table[data-table=settings] tbody tr",
                                             "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
        assert ["method", "top_n", "3"] in settings and ["identification_settings", "lowest_n", "30"] in settings
        page.screenshot(path=screenshot_path("appendix-b-report.png"), full_page=True)
        page.screenshot(path=screenshot_path("appendix-b-report-top.png"))  # the README's picture
    assert all(url.startswith(("file:", "data:")) for url in requests), requests


def test_report_files_and_ui_metadata(sample_run):
    folder = sample_run.html.parent.resolve()
    assert folder.parent == sample_run.reports.resolve() and not folder.name.startswith(".")
    csv = pd.read_csv(folder / "tables" / "sbac_change_math.csv", dtype={"district_code": str})
    stored = sample_run.table("sbac_score_changes")
    stored = stored[(stored["subject"] == "Math") & stored["in_cohort"]].set_index("district_code")
    for _, row in csv.iterrows():
        assert row["change"] == pytest.approx(float(stored.loc[row["district_code"], "change"]), rel=0, abs=1e-9)
    markdown = (folder / "appendix-b.md").read_text(encoding="utf-8")
    for name in ORDER:
        assert name.split()[0] in markdown
    assert "Identification audit" in markdown and "| Rank | District" in markdown.replace("  ", "")
    metadata = sample_run.report_metadata
    assert metadata["report"].value == str(folder / HTML_NAME)
    first = stored[stored["rank_cohort"] == 1]["district_name"].iloc[0]
    assert metadata["table/sbac_change_math"].value.splitlines()[2].replace(" ", "").startswith(f"|1|{first}".replace(" ", ""))
    assert metadata["tables_available"].value == 6
    assert leftovers(sample_run.reports) == []


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


@pytest.mark.real_exports
@pytest.mark.browser
def test_real_exports_report_lists_the_cohort_in_parquet_rank_order(real_run):
    with chromium_page() as page:
        page.goto(real_run.html.as_uri())
        tables = read_page_tables(page)
        for key, name in zip(SECTION_KEYS, ORDER):
            indicator = BY_NAME[name]
            if indicator.asset == "t_score_changes":  # no CMT exports: shown as unavailable, with the reason
                reason = page.inner_text(f"[data-unavailable={key}]")
                assert "no CMT district exports" in reason and key not in tables
                continue
            check_appendix_table(real_run, key, indicator, tables[key])
        winchester = next(row for row in tables["sbac_yearly_changes"] if row["district"] == "1620011")["cells"]
        assert winchester["change_math_2014_15_2015_16"]["text"] == "—"
        assert winchester["exclusions"]["text"].startswith("2014-15 to 2015-16: suppressed")
        excluded = {(row["cells"]["table"]["text"], row["district"]) for row in tables["excluded_districts"]}
        assert ("Table B1", "1620011") in excluded  # Winchester: suppressed grades in both years
        page.locator("#identification_audit").screenshot(path=screenshot_path("identification-audit-real-exports.png"))
    audit = real_run.table("alliance_identification")
    assert real_run.report_metadata["designated"].value == int(audit["designated"].sum()) == 33
    assert real_run.report_metadata["tables_available"].value == 4

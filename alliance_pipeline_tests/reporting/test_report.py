"""The report: built from the Parquet assets, opened in headless Chromium at laptop and phone widths,
every number on the page checked against the stored table it came from.

The session's one full run on the sample and one on the real exports (conftest).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.methods.identified_districts import INDICATORS
from alliance_pipeline.reporting.appendix_b import ORDER
from alliance_pipeline.reporting.equity import GAP_ORDER, scope_label
from alliance_pipeline.reporting.render import HTML_NAME, LATEST, fmt
from alliance_pipeline_tests.browser import chromium_page, screenshot_path

SECTION_KEYS = [name.lower().replace("-", "").replace(" ", "_") for name in ORDER]
SECTIONS = ["summary", "today", "caveats", "glossary", "identified", *SECTION_KEYS, "did_it_last", "every_year", "robustness",
            "equity", "plans", "excluded", "identification", "settings_and_sources"]
BY_NAME = {indicator.name: indicator for indicator in INDICATORS}
VALUE_COLUMNS = {
    "sbac_score_changes": ["score_start", "score_end", "n_start", "n_end", "change"],
    "growth_rankings": ["matched_students", "growth_rate", "avg_pct_target_achieved", "rank_state"],
    "t_score_changes": ["t_base", "t_end", "change"],
}
KINDS = {"n_start": "int", "n_end": "int", "matched_students": "int", "rank_state": "rank",
         "growth_rate": "float1", "avg_pct_target_achieved": "float1"}
PHONE = 400

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
    """Every report table as the browser shows it: per row, the district, status, classes and each cell's text and value."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('table[data-table]')].map(t => [
            t.dataset.table,
            [...t.querySelectorAll('tbody tr[data-district]')].map(tr => ({
                district: tr.dataset.district, status: tr.dataset.status || null, classes: tr.className,
                cells: Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map(td => [
                    td.dataset.col, {text: td.innerText.trim(), value: td.dataset.value ?? null}])),
            })),
        ]))"""
    )


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _same(stored, shown: dict, kind: str) -> bool:
    if _missing(stored):
        return shown["value"] == "" and shown["text"] == "—"
    return float(shown["value"]) == float(stored) and shown["text"] == fmt(stored, kind)


def check_today(run: ReportRun, tables: dict[str, list[dict]]) -> int:
    """The "Alliance Districts today" tables as shown equal the Parquet assets: the cohorts' counts, and every number
    of each group's yearly rows (doing_now, the group's own rows, in the stored order of subject and year)."""
    designations = run.table("alliance_designations").drop_duplicates("cohort")
    shown = [row["cells"]["count"]["text"] for row in tables["statute_cohorts"]]
    assert shown == [f"{n} (the statute's {s})" for n, s in designations[["designated_count", "statute_count"]].itertuples(index=False)]
    doing = run.table("doing_now")
    checked = 0
    for number, group in enumerate(doing["group"].drop_duplicates()):
        key = "doing_now" if number == 0 else f"doing_now_{number + 1}"
        stored = doing[(doing["group"] == group) & doing["district_code"].isna()].sort_values(
            ["subject", "school_year"], kind="stable")
        rows = tables[key]
        assert len(rows) == len(stored)
        for row, record in zip(rows, stored.to_dict(orient="records")):
            assert row["cells"]["school_year"]["text"] == record["school_year"]
            for column in ("share_met", "state_share", "distance_to_state", "distance_change_since_first",
                           "distance_change_since_study_end"):
                assert _same(record[column], row["cells"][column], "float1"), (key, record["school_year"], column)
                checked += 1
    return checked


def check_appendix_table(run: ReportRun, key: str, indicator, rows: list[dict]) -> int:
    """The page's rows are the cohort in Parquet rank order, each number equal to the stored one; an excluded
    district shows no partial value, only the reason."""
    table = run.table(indicator.asset)
    stored = table[(table["subject"] == indicator.subject) & table["in_cohort"]].set_index("district_code")
    ranked = stored[stored["rank_cohort"].notna()].sort_values(["rank_cohort", "district_name"])
    assert [row["district"] for row in rows if row["status"] == "ranked"] == list(ranked.index), key
    assert {row["district"] for row in rows} == set(run.table("alliance_cohort")["district_code"]), key
    checked = 0
    for row in rows:
        record = stored.loc[row["district"]]
        if row["status"] == "ranked":
            assert row["cells"]["rank_cohort"]["value"] == str(int(record["rank_cohort"]))
            assert row["cells"]["reason"]["text"] == ""
            for column in VALUE_COLUMNS[indicator.asset]:
                assert _same(record[column], row["cells"][column], KINDS.get(column, "float2")), (key, row["district"], column)
                checked += 1
        else:  # excluded: never a blank or a zero or a partial score, always the reason the asset recorded
            assert row["cells"]["rank_cohort"]["text"] == "excluded"
            assert row["cells"]["reason"]["text"] == record["exclusion_reason"], row
            for column in VALUE_COLUMNS[indicator.asset]:
                assert row["cells"][column] == {"text": "—", "value": ""}, (key, row["district"], column)
                checked += 1
    return checked


def check_rows(rows: list[dict], frame: pd.DataFrame, keys: dict[str, str], values: dict[str, tuple[str, str]]) -> int:
    """Each page row matches exactly one stored record by its key cells; every value cell equals the stored value.
    ``keys``: page column -> stored column; ``values``: page column -> (stored column, display kind)."""
    index = {tuple(str(v) for v in record[list(keys.values())]): record for _, record in frame.iterrows()}
    assert len(index) == len(frame) == len(rows), (len(index), len(frame), len(rows))
    checked = 0
    for row in rows:
        record = index[tuple(row["cells"][column]["text"] for column in keys)]
        for column, (stored, kind) in values.items():
            assert _same(record[stored], row["cells"][column], kind), (column, row["cells"][column], record[stored])
            checked += 1
    return checked


def check_lasted(run: ReportRun, tables: dict[str, list[dict]]) -> int:
    """The "Did it last?" table: every distance equals its did_it_last value."""
    lasted = run.table("did_it_last").drop_duplicates(["district_code", "identified_end_year", "subject"])
    lasted = lasted.set_index(["district_code", "subject", "identified_end_year"])
    assert len(tables["did_it_last"]) == len(lasted)
    checked = 0
    for row in tables["did_it_last"]:
        cells = row["cells"]
        record = lasted.loc[(row["district"], cells["subject"]["text"], cells["identified"]["text"].split(", ")[1])]
        for column in ("distance_at_identification", "distance_newest", "change_to_newest"):
            assert _same(record[column], cells[column], "float1"), (row["district"], column)
            checked += 1
    return checked


def main_text(page) -> str:
    """What an analyst reads: the page's text without the technical details folded under <details>."""
    return page.evaluate("""() => { const main = document.querySelector('main').cloneNode(true);
        main.querySelectorAll('details').forEach(d => d.remove()); return main.innerText; }""")


def check_beyond_tables(run: ReportRun, tables: dict[str, list[dict]]) -> int:
    """Years, robustness and equity tables: every number equals its Parquet value."""
    checked = 0
    by_year = run.table("identified_by_year")
    shown = [(row["cells"]["years"]["text"].split(" to ")[1], row["district"]) for row in tables["identified_by_year"]]
    assert sorted(shown) == sorted(zip(by_year["end_year"], by_year["district_code"]))

    trends = run.table("sbac_score_trends")
    cohort_trends = trends[trends["in_cohort"]].set_index(["district_code", "subject", "school_year"])
    for row in tables["distance_to_state"]:
        for (code, subject, year), record in cohort_trends.loc[[row["district"]]].iterrows():
            column = f"distance_{subject}_{year}".lower().replace("-", "_")
            # a score over some grades only (a grade withheld) is left blank, as B1 and B2 leave the district out
            expected = pd.NA if record["partial_grades"] else record["distance_to_state"]
            assert _same(expected, row["cells"][column], "float1"), (code, column)
            checked += 1
    assert len(tables["distance_to_state"]) == trends.loc[trends["in_cohort"], "district_code"].nunique()

    robustness = run.table("identification_robustness")
    robustness = robustness.assign(years=[f"{a} to {b}" + (" (the study's years)" if s else "") for a, b, s in
                                          zip(robustness["change_start_year"], robustness["end_year"], robustness["is_study"])])
    # the page: the districts the default method picks and any other picked in at least a quarter of the variants
    shown_robustness = robustness[robustness["identified_default"] | (robustness["selection_frequency"] >= 0.25)]
    checked += check_rows(tables["identification_robustness"], shown_robustness,
                          {"years": "years", "district_code": "district_code"},
                          {"selection_frequency": ("selection_frequency", "percent")})
    for row in tables["identification_robustness"]:
        record = robustness[(robustness["years"] == row["cells"]["years"]["text"])
                            & (robustness["district_code"] == row["district"])].iloc[0]
        assert row["cells"]["selected_in"]["text"] == f"{record['times_identified']} of {record['variants']}"
        label = row["cells"]["shown_label"]["text"]
        assert label == (record["label"] if record["identified_default"] else "not identified")
        assert ("flag-fragile" in row["classes"]) == (label == "fragile")

    margins = run.table("identification_margins")
    study = margins[margins["is_study"]]
    for row in tables["identification_margins"]:
        record = study[(study["indicator"] == row["cells"]["indicator"]["text"]) & (study["district_code"] == row["district"])]
        assert len(record) == 1
        for column, kind in (("value", "float2"), ("margin", "float2"), ("margin_sd", "float2"), ("rank_cohort", "rank")):
            assert _same(record.iloc[0][column], row["cells"][column], kind), (row["district"], column)
            checked += 1
        assert row["cells"]["role"]["text"] == ("selected" if record.iloc[0]["selected"] else "first left out")
    assert {row["district"] for row in tables["identification_margins"]} >= set(study.loc[study["selected"], "district_code"])

    summary = run.table("subgroup_gap_summary")
    labels = [scope_label(record) for record in summary.to_dict(orient="records")]
    for row in tables["subgroup_gap_summary"]:
        cells = row["cells"]
        record = summary[(summary["school_year"] == cells["school_year"]["text"]) & (summary["subject"] == cells["subject"]["text"])
                         & (summary["gap"] == cells["gap"]["text"]) & pd.Series([label == cells["scope_label"]["text"] for label in labels], index=summary.index)]
        assert len(record) == 1
        for column in ("reference_proficiency", "focal_proficiency", "gap_value"):
            assert _same(record.iloc[0][column], cells[column], "float1"), column
            checked += 1
    assert len(tables["subgroup_gap_summary"]) == len(summary)

    gaps = run.table("subgroup_gaps")
    year = max(gaps["school_year"])
    key = f"subgroup_gaps_{year.replace('-', '_')}"
    cohort_gaps = gaps[gaps["in_cohort"] & (gaps["school_year"] == year)]
    assert {row["district"] for row in tables[key]} == set(cohort_gaps["district_code"])
    for row in tables[key]:
        for _, record in cohort_gaps[cohort_gaps["district_code"] == row["district"]].iterrows():
            column = f"gap_{record['subject']}_{record['gap']}".lower().replace("-", "_").replace(" ", "_")
            assert _same(record["gap_value"], row["cells"][column], "float1"), (row["district"], column)
            assert record["gap"] in GAP_ORDER
            if record["excluded"]:  # never a gap of 0: blank, and the withheld group named
                assert f"{record['subject']} {record['gap']} (" in row["cells"]["withheld"]["text"]
            checked += 1
    return checked


def check_layout(page, width: int) -> None:
    """Nothing overflows the window sideways, no table is wider than its screen, navigation wraps, the narrow
    chart renderings are the ones shown on a phone, and every chart has a text alternative."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    outside = page.evaluate(
        """w => [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')
               && e.getBoundingClientRect().right > w + 0.5).map(e => e.tagName + '.' + e.className)""", width)
    assert outside == []
    # no table is wider than its screen: none scrolls sideways inside its box either (a file name or a SHA-256 wraps)
    scrolling = page.evaluate("""() => [...document.querySelectorAll('.scroll')].filter(e => e.scrollWidth > e.clientWidth)
        .map(e => e.querySelector('table').id + ': ' + (e.scrollWidth - e.clientWidth) + ' px')""")
    assert scrolling == [], (width, scrolling)
    nav = page.evaluate("() => { const n = document.querySelector('nav'); return [n.scrollWidth, n.clientWidth]; }")
    assert nav[0] <= nav[1]
    charts = page.evaluate(
        """() => [...document.querySelectorAll('img[data-chart]')].map(i => ({
            key: i.dataset.chart, ok: i.complete && i.naturalWidth > 0, alt: i.alt,
            narrow: (i.previousElementSibling || {}).srcset || null, shown: i.currentSrc, width: i.getBoundingClientRect().width,
            natural: i.naturalWidth}))""")
    for chart in charts:
        assert chart["ok"] and len(chart["alt"]) > 30, chart["key"]
        if chart["narrow"] and width <= 700:  # the narrow rendering, shown at (nearly) its natural size: 8-9 pt labels
            assert chart["shown"] == chart["narrow"] and chart["width"] >= 0.85 * min(chart["natural"], width - 40), chart
        elif chart["narrow"]:
            assert chart["shown"] != chart["narrow"], chart["key"]


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
                assert _same(record["change"], shown_yearly[code][column], "float2"), (code, column)

        # the plans section: each district's mean of its plans, read from plan_indicators
        plans = sample_run.table("plan_indicators").groupby("district_code")[["continuation_share", "capacity_share"]].mean()
        shown_plans = {row["district"]: row["cells"] for row in tables["plan_districts"]}
        assert set(shown_plans) == set(plans.index) and len(shown_plans) == 30
        for code, record in plans.iterrows():
            for column in ("continuation_share", "capacity_share"):
                assert _same(record[column], shown_plans[code][column], "percent"), (code, column)

        identified = sample_run.table("identified_districts")
        robustness = sample_run.table("identification_robustness")
        study = robustness[robustness["is_study"]].set_index("district_code")
        assert [row["district"] for row in tables["identified_districts"]] == list(identified["district_code"])
        for row, (_, record) in zip(tables["identified_districts"], identified.iterrows()):
            assert row["cells"]["n_indicators"]["value"] == str(record["n_indicators"])
            for name, rank in zip(record["indicators"], record["ranks"]):
                assert f"{name} (rank {rank}," in row["cells"]["selected_by"]["text"]
            frequency = study.at[record["district_code"], "selection_frequency"]
            assert _same(frequency, row["cells"]["selection_frequency"], "percent")
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


def test_the_workbook_opens_as_a_spreadsheet_user_sees_it(sample_run):
    """appendix-b.xlsx opened with openpyxl: a README sheet, then one sheet per table of the report; codes are
    text with their zeros; numbers are numbers equal to the Parquet values; headers are the report's labels."""
    import openpyxl

    folder = sample_run.html.parent.resolve()
    book = openpyxl.load_workbook(folder / "appendix-b.xlsx")
    csvs = sorted(path.stem for path in (folder / "tables").glob("*.csv"))
    assert book.sheetnames[0] == "README" and sorted(book.sheetnames[1:]) == sorted(name[:31] for name in csvs)
    assert "file to open in a spreadsheet" in " ".join(str(c.value) for c in book["README"]["A"] if c.value)
    sheet = book["sbac_change_math"]
    header = [cell.value for cell in sheet[1]]
    assert "District" in header and "Code" in header and not any("_" in str(h) for h in header if h)
    code, change = header.index("Code"), header.index(next(h for h in header if h and h.lower().startswith("change")))
    stored = sample_run.table("sbac_score_changes")
    stored = stored[(stored["subject"] == "Math") & stored["in_cohort"]].set_index("district_code")["change"]
    seen = 0
    for row in sheet.iter_rows(min_row=2, values_only=True):
        assert isinstance(row[code], str) and len(row[code]) == 7 and row[code].isdigit()  # 0020011, not 20011
        expected = stored.loc[row[code]]
        if pd.isna(expected):
            assert row[change] is None
        else:
            assert isinstance(row[change], float) and row[change] == pytest.approx(float(expected), abs=1e-12)
            seen += 1
    assert seen > 10


def test_a_hostile_name_is_text_in_the_workbook_and_inert_in_the_csv(tmp_path):
    import openpyxl

    from alliance_pipeline.reporting.model import Column, Report, ReportTable, Section
    from alliance_pipeline.reporting.render import write_report

    names = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(A1)", "<script>alert(1)</script>"]
    rows = pd.DataFrame({"district_name": names, "district_code": ["0010011"] * 4, "change": [-1.5, 2.0, -3.25, 0.0]})
    table = ReportTable("hostile", "Hostile names", "", "test", [
        Column("district_name", "District"), Column("district_code", "Code", "code"), Column("change", "Change", "float1")],
        rows)
    report = Report(title="t", subtitle="s", generated_at=pd.Timestamp("2026-12-01T00:00:00Z").to_pydatetime(),
                    run_id="abcdefgh", sections=[Section("x", "X", "X", tables=[table])], appendix_b=[],
                    identified=table, opportunity=table)
    files = write_report(report, tmp_path)
    sheet = openpyxl.load_workbook(files.folder / "appendix-b.xlsx")["hostile"]
    for row, name in zip(sheet.iter_rows(min_row=2), names):
        assert row[0].value == name and row[0].data_type == "s"  # text, never a formula
        assert row[2].data_type == "n"  # negative numbers stay numbers
    csv_text = (files.folder / "tables" / "hostile.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in csv_text and "'+cmd" in csv_text and "'@SUM" in csv_text and ",-1.5" in csv_text
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "<script>alert" not in files.html.read_text(encoding="utf-8")


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

"""The report's page as the tests read it in headless Chromium, and the checks of what it shows against the
Parquet assets (every number on the page is a value of a stored table); shared by the sample's and the real
exports' report tests."""

from __future__ import annotations

import math

import pandas as pd

from alliance_pipeline.methods.identified_districts import INDICATORS
from alliance_pipeline.reporting.appendix_b import ORDER
from alliance_pipeline.reporting.equity import GAP_ORDER, scope_label
from alliance_pipeline.reporting.render import fmt
from alliance_pipeline_tests.helpers import ReportRun

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


def missing_value(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def same_value(stored, shown: dict, kind: str) -> bool:
    if missing_value(stored):
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
                assert same_value(record[column], row["cells"][column], "float1"), (key, record["school_year"], column)
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
                assert same_value(record[column], row["cells"][column], KINDS.get(column, "float2")), (key, row["district"], column)
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
            assert same_value(record[stored], row["cells"][column], kind), (column, row["cells"][column], record[stored])
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
            assert same_value(record[column], cells[column], "float1"), (row["district"], column)
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
            assert same_value(expected, row["cells"][column], "float1"), (code, column)
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
            assert same_value(record.iloc[0][column], row["cells"][column], kind), (row["district"], column)
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
            assert same_value(record.iloc[0][column], cells[column], "float1"), column
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
            assert same_value(record["gap_value"], row["cells"][column], "float1"), (row["district"], column)
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

"""The report's tables (methodology section 7), built from the stored indicator tables.

``appendix_b_report`` takes the Parquet tables as read back (``frame.attrs``
included) and returns a ``Report``: display tables whose every number is a
value of a stored table (selected, joined to the cohort and ordered, never
recomputed), plus the charts drawn from those same values. ``render.py``
turns a Report into HTML, Markdown and CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from alliance_pipeline.methods.identify import INDICATORS, Indicator
from alliance_pipeline.reporting.charts import bar_chart_svg, data_uri, short_name

EXCLUDED = "excluded"
RANKED = "ranked"


@dataclass(frozen=True)
class Column:
    name: str  # column of the display table
    label: str
    kind: str = "text"  # text | code | rank | int | float1 | float2 | list


@dataclass
class ReportTable:
    key: str  # file stem and HTML id, e.g. "sbac_change_math"
    title: str
    description: str
    source: str  # the Parquet asset(s) the rows come from
    columns: list[Column]
    rows: pd.DataFrame  # the display rows; may carry "status" and "reason"
    unavailable: str | None = None
    chart: str | None = None  # data: URI of an SVG
    chart_alt: str = ""
    notes: list[str] = field(default_factory=list)

    def records(self) -> list[dict]:
        return self.rows.to_dict(orient="records")

    def csv_frame(self) -> pd.DataFrame:
        names = [c.name for c in self.columns] + [c for c in ("status", "reason") if c in self.rows.columns]
        frame = self.rows[[n for n in dict.fromkeys(names) if n in self.rows.columns]].copy()
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = frame[column].map(lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
        return frame


@dataclass
class Report:
    title: str
    subtitle: str
    generated_at: datetime
    run_id: str
    appendix_b: list[ReportTable]
    identified: ReportTable
    excluded: ReportTable
    audit: ReportTable
    opportunity: ReportTable
    settings: list[tuple[str, str, str]]  # (group, name, value)
    sources: ReportTable
    yearly: ReportTable

    def tables(self) -> list[ReportTable]:
        return [*self.appendix_b, self.yearly, self.identified, self.excluded, self.audit, self.opportunity, self.sources]


# --- Appendix B: one table per indicator -------------------------------------------------

TITLES = {
    "SBAC change Math": "Table B1. Change in weighted SBAC Math scale score",
    "SBAC change ELA": "Table B2. Change in weighted SBAC ELA scale score",
    "Growth rate Math": "Table B3. SBAC Math growth rate",
    "Growth rate ELA": "Table B4. SBAC ELA growth rate",
    "T-score change Math": "Table B5. Change in Math T-score (CMT to SBAC)",
    "T-score change ELA": "Table B6. Change in ELA T-score (CMT to SBAC)",
}
ORDER = list(TITLES)


def _first(frame: pd.DataFrame, column: str, default: str) -> str:
    values = frame[column].dropna() if column in frame.columns else []
    return str(values.iloc[0]) if len(values) else default


def _columns(indicator: Indicator, rows: pd.DataFrame, settings: dict[str, str]) -> tuple[list[Column], str, str]:
    """Display columns, the chart's x label and the description, per source table."""
    head = [Column("rank_cohort", "Rank", "rank"), Column("district_name", "District"), Column("district_code", "Code", "code")]
    if indicator.asset == "sbac_score_changes":
        start = _first(rows, "start_year", settings.get("change_start_year", "start"))
        end = _first(rows, "end_year", settings.get("change_end_year", "end"))
        columns = head + [
            Column("score_start", f"Score {start}", "float2"), Column("score_end", f"Score {end}", "float2"),
            Column("n_start", f"n {start}", "int"), Column("n_end", f"n {end}", "int"),
            Column("change", "Change", "float2"),
        ]
        text = (f"Test-taker-weighted {indicator.subject} scale score (grades in scope) in {start} and {end}; "
                "a district with a suppressed grade in either year is excluded (methodology section 2).")
        return columns, f"Change in weighted scale score, {start} to {end}", text
    if indicator.asset == "growth_rankings":
        year = _first(rows, "school_year", settings.get("growth_year", ""))
        columns = head + [
            Column("matched_students", "Matched students", "int"), Column("growth_rate", "Growth rate (%)", "float1"),
            Column("avg_pct_target_achieved", "Avg. % of target achieved", "float1"),
            Column("rank_state", "Statewide rank", "rank"),
        ]
        text = f"Percentage of matched students meeting their growth target in {year}, all grades (methodology section 3)."
        return columns, f"Growth rate {year} (%)", text
    base = _first(rows, "base_year", settings.get("t_base_year", "base"))
    end = _first(rows, "end_year", settings.get("t_end_year", "end"))
    columns = head + [
        Column("t_base", f"T-score {base}", "float2"), Column("t_end", f"T-score {end}", "float2"),
        Column("change", "Change", "float2"),
    ]
    text = (f"District {indicator.subject} T-score on the CMT scale in {base} and {end} (methodology section 4); "
            "suppression-filtered like the SBAC change.")
    return columns, f"Change in T-score, {base} to {end}", text


def indicator_rows(indicator: Indicator, table: pd.DataFrame, cohort: pd.DataFrame) -> pd.DataFrame:
    """Every cohort district for one indicator: ranked ones by rank, then the excluded with their reason.

    A cohort district the table has no row for is shown as excluded ("no row in ..."),
    never as a blank or a zero.
    """
    subset = table[table["subject"] == indicator.subject] if len(table) else table
    subset = subset.drop(columns=["district_name"], errors="ignore")
    rows = cohort[["district_code", "district_name"]].merge(subset, on="district_code", how="left", indicator="_found")
    ranked = rows["rank_cohort"].notna() if "rank_cohort" in rows.columns else pd.Series(False, index=rows.index)
    reason = rows["exclusion_reason"] if "exclusion_reason" in rows.columns else pd.Series(pd.NA, index=rows.index)
    missing_row = f"no {indicator.subject} row in {indicator.asset}"
    rows["status"] = ranked.map({True: RANKED, False: EXCLUDED})
    reasons = [
        None if is_ranked else (missing_row if found == "left_only" else (str(why) if pd.notna(why) else f"no {indicator.value} value"))
        for is_ranked, found, why in zip(ranked, rows["_found"], reason)
    ]
    rows["reason"] = pd.Series(reasons, index=rows.index, dtype=object)  # None stays None (not NaN) for ranked rows
    rows = rows.drop(columns=["_found"])
    rows["_order"] = ranked.map({True: 0, False: 1})
    rows = rows.sort_values(["_order", "rank_cohort", "district_name"], na_position="last").drop(columns=["_order"])
    return rows.reset_index(drop=True)


def appendix_table(
    indicator: Indicator, table: pd.DataFrame, cohort: pd.DataFrame, top_n: int, settings: dict[str, str]
) -> ReportTable:
    number, _, title = TITLES[indicator.name].partition(". ")
    key = indicator.name.lower().replace("-", "").replace(" ", "_")
    unavailable = table.attrs.get("unavailable")
    rows = indicator_rows(indicator, table, cohort) if not unavailable else cohort[["district_code", "district_name"]].iloc[0:0]
    columns, xlabel, description = _columns(indicator, rows, settings)
    result = ReportTable(key, TITLES[indicator.name], description, indicator.asset, columns, rows, unavailable=unavailable)
    if unavailable:
        return result
    ranked = rows[rows["status"] == RANKED]
    if len(ranked):
        result.chart = data_uri(
            bar_chart_svg(
                [short_name(n) for n in ranked["district_name"]],
                [float(v) for v in ranked[indicator.value]],
                [int(r) <= top_n for r in ranked["rank_cohort"]],
                xlabel, f"{number}: {title}", reference=0.0 if indicator.value == "change" else None,
            )
        )
        result.chart_alt = f"{number}: {indicator.value} of {len(ranked)} ranked cohort districts, most improved first"
    result.notes.append(f"Top {top_n} (ties included) drawn in dark blue; {int((rows['status'] == EXCLUDED).sum())} "
                        "cohort district(s) excluded, listed after the ranked ones with the reason.")
    return result


# --- Identified, excluded, identification audit ------------------------------------------

def identified_table(identified: pd.DataFrame) -> ReportTable:
    rows = identified.copy()
    rows["selected_by"] = [
        [f"{name} (rank {rank}, {value:.2f})" for name, rank, value in zip(names, ranks, values)]
        for names, ranks, values in zip(rows["indicators"], rows["ranks"], rows["values"])
    ] if len(rows) else []
    missing = identified.attrs.get("unavailable_indicators") or {}
    table = ReportTable(
        "identified_districts", "Identified districts (top performers)",
        "Cohort districts in the top N of at least one available indicator (methodology section 5).",
        "identified_districts",
        [Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("n_indicators", "Indicators", "int"), Column("best_rank", "Best rank", "rank"),
         Column("selected_by", "Selected by (rank, value)", "list")],
        rows,
    )
    table.notes = [f"{name} was not available: {why}" for name, why in missing.items()]
    return table


def excluded_table(appendix: list[ReportTable]) -> ReportTable:
    frames = []
    for table in appendix:
        if table.unavailable:
            continue
        excluded = table.rows[table.rows["status"] == EXCLUDED][["district_code", "district_name", "reason"]].copy()
        excluded.insert(0, "table", table.title.partition(". ")[0])
        frames.append(excluded)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["table", "district_code", "district_name", "reason"])
    return ReportTable(
        "excluded_districts", "Excluded cohort districts",
        "Cohort districts left out of a table, with the reason recorded in the indicator asset (methodology section 2).",
        "sbac_score_changes, growth_rankings, t_score_changes",
        [Column("table", "Table"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("reason", "Reason")],
        rows,
    )


def audit_table(identification: pd.DataFrame) -> ReportTable:
    rows = identification.copy()
    rows["_order"] = (~rows["designated"]).astype(int)
    rows = rows.sort_values(["_order", "index_rank", "district_name"], na_position="last").drop(columns=["_order"])
    rows = rows.reset_index(drop=True)
    designation = _first(rows, "designation_year", "")
    index_year = _first(rows, "index_year", "")
    table = ReportTable(
        "identification_audit", f"Identification audit: Alliance Districts for {designation}",
        f"Every district and each CSDE step's decision, using the {index_year} Accountability Index and enrollment "
        "(methodology section 6). Designated districts first, by index rank.",
        "alliance_identification",
        [Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("organization_type", "Organization type"), Column("enrollment", "Enrollment", "int"),
         Column("accountability_index", "Accountability Index", "float2"), Column("index_rank", "Index rank", "rank"),
         Column("step1_reason", "Step 1: type"), Column("step2_reason", "Step 2: enrollment"),
         Column("step3_reason", "Step 3: lowest index"), Column("step4_reason", "Step 4: prior designation"),
         Column("admitted_by", "Designated by")],
        rows,
    )
    designated = rows[rows["designated"]]
    table.notes = [
        f"{len(designated)} designated: {int(rows['step3_selected'].sum())} by steps 1-3, "
        f"{int(rows['step4_added'].sum())} added by step 4; {len(rows)} districts considered.",
    ]
    suppressed = rows[rows["enrollment_suppressed"]]
    if len(suppressed):
        table.notes.append("Enrollment suppressed (treated as unknown): " + ", ".join(suppressed["district_name"]))
    return table


def opportunity_table(opportunity: pd.DataFrame) -> ReportTable:
    rows = opportunity.sort_values("opportunity_rank").reset_index(drop=True)
    table = ReportTable(
        "opportunity_districts", "Opportunity Districts",
        f"The designated districts with the lowest {_first(rows, 'index_year', '')} Accountability Index.",
        "opportunity_districts",
        [Column("opportunity_rank", "Rank", "rank"), Column("district_name", "District"),
         Column("district_code", "Code", "code"), Column("accountability_index", "Accountability Index", "float2"),
         Column("admitted_by", "Designated by")],
        rows,
    )
    if len(rows):
        table.chart = data_uri(
            bar_chart_svg([short_name(n) for n in rows["district_name"]], [float(v) for v in rows["accountability_index"]],
                          [True] * len(rows), "Accountability Index", "Opportunity Districts: Accountability Index")
        )
        table.chart_alt = f"Accountability Index of the {len(rows)} Opportunity Districts, lowest first"
    return table


def yearly_table(yearly: pd.DataFrame, cohort: pd.DataFrame) -> ReportTable:
    """Each cohort district's change for every consecutive pair of SBAC years (sbac_yearly_changes).

    One column per pair and subject; a change the asset excluded is "—" in its
    cell and named with its reason in the last column.
    """
    table = ReportTable(
        "sbac_yearly_changes", "Year over year: change in weighted SBAC scale score",
        "The section 2 change for every pair of consecutive school years loaded; a new year's export adds "
        "its pair here with no code change.",
        "sbac_yearly_changes",
        [Column("district_name", "District"), Column("district_code", "Code", "code")],
        cohort[["district_code", "district_name"]].iloc[0:0],
        unavailable=yearly.attrs.get("unavailable"),
    )
    if table.unavailable:
        return table
    rows = cohort[["district_code", "district_name"]].sort_values("district_name").reset_index(drop=True)
    notes: dict[str, list[str]] = {code: [] for code in rows["district_code"]}
    pairs = yearly[["start_year", "end_year"]].drop_duplicates().sort_values("end_year").itertuples(index=False)
    for start, end in pairs:
        for subject in ("Math", "ELA"):
            name = f"change_{subject.lower()}_{start}_{end}".replace("-", "_")
            block = yearly[(yearly["start_year"] == start) & (yearly["end_year"] == end) & (yearly["subject"] == subject)]
            block = block.set_index("district_code")
            rows[name] = [block["change"].get(code, pd.NA) for code in rows["district_code"]]
            table.columns.append(Column(name, f"{subject} {start} to {end}", "float2"))
            for code in rows["district_code"]:
                if code not in block.index:
                    notes[code].append(f"{subject} {start} to {end}: no row")
                elif bool(block.at[code, "excluded"]):
                    note = f"{start} to {end}: {block.at[code, 'exclusion_reason']}"
                    if note not in notes[code]:  # district scope: the same reason for both subjects
                        notes[code].append(note)
    rows["exclusions"] = pd.Series(["; ".join(notes[code]) for code in rows["district_code"]], dtype=object)
    table.columns.append(Column("exclusions", "Excluded because"))
    table.rows = rows
    return table


def sources_table(sources: list[dict]) -> ReportTable:
    rows = pd.DataFrame(sources, columns=["asset", "school_year", "file", "sha256", "rows", "title"])
    rows = rows.sort_values(["asset", "school_year"]).reset_index(drop=True)
    return ReportTable(
        "data_sources", "Data sources",
        "The exports (and the cohort reference table) behind every number above, as recorded in the raw Parquet assets.",
        "raw_* assets, alliance_cohort",
        [Column("asset", "Asset", "code"), Column("school_year", "School year"), Column("file", "File", "code"),
         Column("rows", "Rows", "int"), Column("sha256", "SHA-256", "code"), Column("title", "Report title")],
        rows,
    )


def appendix_b_report(
    tables: dict[str, pd.DataFrame],
    cohort: pd.DataFrame,
    sources: list[dict],
    settings: list[tuple[str, str, str]],
    top_n: int,
    generated_at: datetime,
    run_id: str = "",
) -> Report:
    """The whole report from the stored tables.

    ``tables`` maps asset names (sbac_score_changes, sbac_yearly_changes, growth_rankings,
    t_score_changes, identified_districts, alliance_identification,
    opportunity_districts) to their Parquet tables; ``sources`` lists the raw
    exports' provenance; ``settings`` the method settings as (group, name, value).
    """
    flat = {name: value for _, name, value in settings}
    by_name = {indicator.name: indicator for indicator in INDICATORS}
    appendix = [appendix_table(by_name[name], tables[by_name[name].asset], cohort, top_n, flat) for name in ORDER]
    start, end = flat.get("change_start_year", ""), flat.get("change_end_year", "")
    return Report(
        title=f"Alliance Districts: Appendix B tables, {start} to {end}",
        subtitle=f"{len(cohort)} Alliance Districts (cohort {_first(cohort, 'first_year', '')} to "
                 f"{_first(cohort, 'last_year', '')}); every number is read from the pipeline's Parquet assets.",
        generated_at=generated_at,
        run_id=run_id,
        appendix_b=appendix,
        identified=identified_table(tables["identified_districts"]),
        excluded=excluded_table(appendix),
        audit=audit_table(tables["alliance_identification"]),
        opportunity=opportunity_table(tables["opportunity_districts"]),
        settings=settings,
        sources=sources_table(sources),
        yearly=yearly_table(tables["sbac_yearly_changes"], cohort),
    )

"""The report's tables (methodology section 7), built from the stored indicator tables.

``appendix_b_report`` takes the Parquet tables as read back (``frame.attrs``
included) and returns a ``Report``: display tables whose every number is a
value of a stored table (selected, joined to the cohort and ordered, never
recomputed), plus the charts drawn from those same values. ``render.py``
turns a Report into HTML, Markdown and CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.methods import designations
from alliance_pipeline.methods.identified_districts import INDICATORS, Indicator
from alliance_pipeline.reporting import beyond, now, plans, summary, today
from alliance_pipeline.reporting.charts import bar_chart_svg, chart_figure, short_name
from alliance_pipeline.reporting.model import EXCLUDED, RANKED, Column, Report, ReportTable, Section
from alliance_pipeline.sample_identity import is_generated_sha256
from alliance_pipeline.school_year import sort_years

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


@dataclass(frozen=True)
class Layout:
    """How one indicator's table reads: its columns, chart label, description and ordering note."""

    columns: list[Column]
    xlabel: str
    description: str
    order: str  # how the rows are sorted, in words that fit the indicator (a change or a level)
    if_unavailable: str  # what the table needs, in an analyst's words


def _layout(indicator: Indicator, rows: pd.DataFrame, settings: dict[str, str]) -> Layout:
    head = [Column("rank_cohort", "Rank", "rank"), Column("district_name", "District"), Column("district_code", "Code", "code")]
    if indicator.asset == "sbac_score_changes":
        start = _first(rows, "start_year", settings.get("change_start_year", "start"))
        end = _first(rows, "end_year", settings.get("change_end_year", "end"))
        columns = head + [
            Column("score_start", f"Score {start}", "float2"), Column("score_end", f"Score {end}", "float2"),
            Column("n_start", f"Tested {start}", "int"), Column("n_end", f"Tested {end}", "int"),
            Column("change", "Change", "float2"),
        ]
        text = (f"The district's average {indicator.subject} scale score over grades 3-8, each grade weighted by its "
                f"number of students tested, in {start} and {end}, and the change between them. A district whose "
                "score for a grade was withheld (fewer students than CSDE publishes) in either year is left out.")
        return Layout(columns, f"Change in weighted scale score, {start} to {end}", text,
                      "Sorted from most to least improved (a change between two years).",
                      f"Score changes need the Smarter Balanced district exports for {start} and {end}.")
    if indicator.asset == "growth_rankings":
        year = _first(rows, "school_year", settings.get("growth_year", ""))
        columns = head + [
            Column("matched_students", "Matched students", "int"), Column("growth_rate", "Growth rate (%)", "float1"),
            Column("avg_pct_target_achieved", "Avg. % of target achieved", "float1"),
            Column("rank_state", "Statewide rank", "rank"),
        ]
        text = (f"The share of students, followed from one grade to the next, who met the growth target CSDE set for "
                f"them in {year}, all grades.")
        return Layout(columns, f"Growth rate {year} (%)", text,
                      f"Sorted from highest to lowest growth rate. This is a level for {year}, not a change over time.",
                      f"Growth rates need CSDE's Smarter Balanced growth export for {year}.")
    base = _first(rows, "base_year", settings.get("t_base_year", "base"))
    end = _first(rows, "end_year", settings.get("t_end_year", "end"))
    columns = head + [
        Column("t_base", f"T-score {base}", "float2"), Column("t_end", f"T-score {end}", "float2"),
        Column("change", "Change", "float2"),
    ]
    text = (f"The district's {indicator.subject} result in {base} (Connecticut Mastery Test) and in {end} "
            "(Smarter Balanced) converted to one common scale, and the change between them; districts with a "
            "withheld grade are left out, as for the score change.")
    return Layout(columns, f"Change in T-score, {base} to {end}", text,
                  "Sorted from most to least improved (a change between two years).",
                  f"T-score changes compare {base} Connecticut Mastery Test (CMT) results with {end} Smarter Balanced "
                  "results, so they need each district's CMT results. CSDE does not publish those as EdSight district "
                  "exports, and none were among the files this run read, so the T-score tables (B5 and B6) could not be computed.")


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
    """One Appendix B table. An excluded district's cells are blank: the asset keeps the partial values it could
    compute (e.g. over the grades that were published), but they are not the indicator and are not shown as one."""
    number, _, title = TITLES[indicator.name].partition(". ")
    key = indicator.name.lower().replace("-", "").replace(" ", "_")
    unavailable = table.attrs.get("unavailable")
    rows = indicator_rows(indicator, table, cohort) if not unavailable else cohort[["district_code", "district_name"]].iloc[0:0]
    layout = _layout(indicator, rows, settings)
    result = ReportTable(key, TITLES[indicator.name], layout.description, indicator.asset, layout.columns, rows,
                         unavailable=unavailable, unavailable_plain=layout.if_unavailable if unavailable else None)
    if unavailable:
        return result
    values = [c.name for c in layout.columns if c.name not in ("rank_cohort", "district_name", "district_code")]
    excluded = rows["status"] == EXCLUDED
    for column in values:
        rows[column] = rows[column].astype(object).where(~excluded, None)
    ranked = rows[rows["status"] == RANKED]
    if len(ranked):
        labels = [short_name(n) for n in ranked["district_name"]]
        numbers = [float(v) for v in ranked[indicator.value]]
        result.figures.append(chart_figure(
            bar_chart_svg, key, f"{number}, bar chart of {layout.xlabel.lower()} for {len(ranked)} ranked cohort districts: "
            + "; ".join(f"{label} {value:.2f}" for label, value in zip(labels, numbers)) + ".",
            labels=labels, values=numbers, highlighted=[int(r) <= top_n for r in ranked["rank_cohort"]],
            xlabel=layout.xlabel, title=f"{number}: {title}", reference=0.0 if indicator.value == "change" else None,
            digits=2 if indicator.value == "change" else 1,
        ))
    n = int(excluded.sum())
    result.notes.append(f"{layout.order} The top {top_n} (ties included) are drawn in dark blue. " + (
        "Every cohort district could be ranked." if n == 0 else
        f"{n} cohort {'district' if n == 1 else 'districts'} could not be ranked; {'it is' if n == 1 else 'they are'} "
        "listed last with the reason, and the cells are left blank rather than showing partial values."))
    return result


# --- Identified, excluded, identification audit ------------------------------------------

def study_robustness(robustness: pd.DataFrame, margins: pd.DataFrame) -> pd.DataFrame:
    """Per district, the study analysis's selection frequency and label (identification_robustness) and its
    largest margin in cohort standard deviations over the indicators that selected it (identification_margins): a
    district needs only one indicator to be picked, so its firmest pick is the one that says how firmly it was."""
    study = robustness[robustness["is_study"]] if len(robustness) else robustness
    columns = ["district_code", "times_identified", "variants", "selection_frequency", "label"]
    frame = study[columns].copy() if len(study) else pd.DataFrame(columns=columns)
    chosen = margins[margins["is_study"] & margins["selected"].astype(bool)] if len(margins) else margins
    strongest = chosen.groupby("district_code")["margin_sd"].max() if len(chosen) else pd.Series(dtype=float)
    frame["strongest_margin_sd"] = [strongest.get(code, pd.NA) for code in frame["district_code"]]
    return frame.set_index("district_code")


def identified_table(
    identified: pd.DataFrame, robustness: pd.DataFrame, margins: pd.DataFrame, plain: dict[str, str] | None = None
) -> ReportTable:
    """The identified districts with how firmly each was picked; ``plain`` explains each indicator that could not
    be computed (indicator name -> an analyst's sentence), else the pipeline's reason is shown."""
    rows = identified.copy()
    rows["selected_by"] = [
        [f"{name} (rank {rank}, {value:.2f})" for name, rank, value in zip(names, ranks, values)]
        for names, ranks, values in zip(rows["indicators"], rows["ranks"], rows["values"])
    ] if len(rows) else []
    robust = study_robustness(robustness, margins)
    for column in ("times_identified", "variants", "selection_frequency", "label", "strongest_margin_sd"):
        rows[column] = [robust[column].get(code, pd.NA) if column in robust else pd.NA for code in rows["district_code"]]
    rows["selected_in"] = [
        f"{int(times)} of {int(total)}" if pd.notna(times) else None for times, total in zip(rows["times_identified"], rows["variants"])
    ]
    rows["flag"] = ["fragile" if isinstance(label, str) and label == "fragile" else None for label in rows["label"]]
    missing = identified.attrs.get("unavailable_indicators") or {}
    table = ReportTable(
        "identified_districts", "The most improved Alliance Districts",
        "Cohort districts in the top 3 of at least one indicator that could be computed, with how firmly each was "
        "picked: the share of 42 reasonable variations of the method (grades, suppression rule, top 2/3/4, ...) "
        "that pick it too, and its largest margin over the cut-off among the indicators that picked it (in standard "
        "deviations of that indicator over the cohort).",
        "identified_districts, identification_robustness, identification_margins",
        [Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("n_indicators", "Indicators", "int"), Column("best_rank", "Best rank", "rank"),
         Column("selected_by", "Selected by (rank, value)", "list"),
         Column("selected_in", "Picked in variants"), Column("selection_frequency", "Share of variants", "percent"),
         Column("label", "Robustness"), Column("strongest_margin_sd", "Largest margin (sd)", "float2")],
        rows,
    )
    fragile = rows[rows["flag"] == "fragile"]
    explained: dict[str, list[str]] = {}
    for name, why in missing.items():
        explained.setdefault((plain or {}).get(name) or f"({why}).", []).append(name)
    table.notes = [f"Not computed: {' and '.join(names)}. {why}" for why, names in explained.items()]
    if robust.empty:
        table.notes.append("How firmly each district was picked could not be computed (no robustness rows).")
    else:
        table.notes.append(
            "Robust: picked in at least 80% of the variants; fragile: in fewer than half"
            + (f". Fragile here: {', '.join(fragile['district_name'])}: treat as a weak finding." if len(fragile) else
               "; none of these districts is fragile.")
        )
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
        "Cohort districts left out of a table, with the reason: a district is left out of a score table when CSDE "
        "withheld a grade's results, so its average would cover only some grades.",
        "sbac_score_changes, growth_rankings, t_score_changes",
        [Column("table", "Table"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("reason", "Reason")],
        rows,
    )


NEAR_MISSES = 3  # districts shown on each side of a cut in the audit's summary


def audit_summary_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The audit rows the page shows: every designated district and, on each side of every cut, the districts
    nearest it (step 2: the largest left out and the smallest kept under the enrollment floor; step 3: the
    lowest-index districts left out), each with why it is shown. The CSV and the workbook keep every row."""
    kept1 = rows[rows["step1_kept"].astype(bool)]
    below = kept1[~kept1["step2_kept"].astype(bool)].sort_values("enrollment", ascending=False).head(NEAR_MISSES)
    above = kept1[kept1["step2_kept"].astype(bool)].sort_values("enrollment").head(NEAR_MISSES)
    considered = rows[rows["step2_kept"].astype(bool) & ~rows["step3_selected"].astype(bool)]
    left_out = considered.sort_values("index_rank").head(NEAR_MISSES)
    why = {code: "designated" for code in rows.loc[rows["designated"].astype(bool), "district_code"]}
    for frame, text in ((left_out, "near miss, step 3: just above the lowest-index cut"),
                        (below, "near miss, step 2: just under the enrollment floor"),
                        (above, "near miss, step 2: just over the enrollment floor")):
        for code in frame["district_code"]:
            why.setdefault(code, text)
    shown = rows[rows["district_code"].isin(why)].copy()
    shown["shown_because"] = shown["district_code"].map(why)
    return shown.reset_index(drop=True)


def audit_table(identification: pd.DataFrame) -> ReportTable:
    rows = identification.copy()
    rows["_order"] = (~rows["designated"]).astype(int)
    rows = rows.sort_values(["_order", "index_rank", "district_name"], na_position="last").drop(columns=["_order"])
    rows = rows.reset_index(drop=True)
    designation = _first(rows, "designation_year", "")
    index_year = _first(rows, "index_year", "")
    page = audit_summary_rows(rows) if len(rows) else None
    if page is not None:
        rows["shown_because"] = rows["district_code"].map(dict(zip(page["district_code"], page["shown_because"])))
    table = ReportTable(
        "identification_audit", f"Identification audit: Alliance Districts for {designation}",
        f"CSDE's four steps applied to the {index_year} Accountability Index and enrollment: the designated "
        f"districts and, on each side of every cut, the {NEAR_MISSES} districts nearest it. The workbook and the CSV "
        f"hold every one of the {len(rows)} districts considered, with each step's decision.",
        "alliance_identification",
        [Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("shown_because", "Shown because"),
         Column("organization_type", "Organization type"), Column("enrollment", "Enrollment", "int"),
         Column("accountability_index", "Accountability Index", "float2"), Column("index_rank", "Index rank", "rank"),
         Column("step1_reason", "Step 1: type"), Column("step2_reason", "Step 2: enrollment"),
         Column("step3_reason", "Step 3: lowest index"), Column("step4_reason", "Step 4: prior designation"),
         Column("admitted_by", "Designated by")],
        rows, page_rows=page,
    )
    designated = rows[rows["designated"]]
    kept1, kept2 = int(rows["step1_kept"].sum()), int(rows["step2_kept"].sum())
    table.notes = [
        f"{len(rows)} districts considered; step 1 (organization type) kept {kept1}; step 2 (enrollment) kept "
        f"{kept2}; step 3 selected the {int(rows['step3_selected'].sum())} with the lowest index; step 4 added "
        f"{int(rows['step4_added'].sum())} earlier Alliance Districts: {len(designated)} designated.",
    ]
    suppressed = rows[rows["enrollment_suppressed"]]
    if len(suppressed):
        table.notes.append("Enrollment suppressed (treated as unknown): " + ", ".join(suppressed["district_name"]))
    return table


def opportunity_table(opportunity: pd.DataFrame) -> ReportTable:
    rows = opportunity.sort_values("opportunity_rank").reset_index(drop=True)
    table = ReportTable(
        "opportunity_districts", "Opportunity Districts",
        f"The designated districts with the lowest {_first(rows, 'index_year', '')} Accountability Index. "
        + summary.OPPORTUNITY_CAVEAT,
        "opportunity_districts",
        [Column("opportunity_rank", "Rank", "rank"), Column("district_name", "District"),
         Column("district_code", "Code", "code"), Column("accountability_index", "Accountability Index", "float2"),
         Column("admitted_by", "Designated by")],
        rows,
    )
    if len(rows):
        labels = [short_name(n) for n in rows["district_name"]]
        values = [float(v) for v in rows["accountability_index"]]
        table.figures.append(chart_figure(
            bar_chart_svg, "opportunity_districts", f"Dot chart, Accountability Index of the {len(rows)} Opportunity Districts, lowest "
            "first: " + "; ".join(f"{label} {value:.1f}" for label, value in zip(labels, values)) + ".",
            labels=labels, values=values, highlighted=[True] * len(rows), xlabel="Accountability Index (axis not from 0)",
            title="Opportunity Districts: Accountability Index", zero_based=False, digits=1,
        ))
    return table


def yearly_table(yearly: pd.DataFrame, cohort: pd.DataFrame, by_year: pd.DataFrame | None = None) -> ReportTable:
    """Each cohort district's change for every consecutive pair of SBAC years (sbac_yearly_changes).

    One column per pair and subject; a pair's cohort is the cohort of its end year (section 11), so the rows are
    every district of any pair's cohort and a district outside a pair's cohort is "—" there, said in the last
    column, as is a change the asset excluded, with its reason.
    """
    table = ReportTable(
        "sbac_yearly_changes", "Year over year: change in weighted SBAC scale score",
        "The change in weighted score (as in B1 and B2) for every pair of consecutive school years loaded; a newly "
        "published year adds its pair here.",
        "sbac_yearly_changes",
        [Column("district_name", "District"), Column("district_code", "Code", "code")],
        cohort[["district_code", "district_name"]].iloc[0:0],
        unavailable=yearly.attrs.get("unavailable"),
    )
    if table.unavailable:
        return table
    members = yearly[yearly["in_cohort"].astype(bool)] if "in_cohort" in yearly else yearly.iloc[0:0]
    of_year = designations.cohort_codes(by_year) if by_year is not None and len(by_year) else {}
    rows = pd.concat([cohort[["district_code", "district_name"]], members[["district_code", "district_name"]]])
    rows = rows.drop_duplicates("district_code").sort_values("district_name").reset_index(drop=True)
    notes: dict[str, list[str]] = {code: [] for code in rows["district_code"]}
    pairs = yearly[["start_year", "end_year"]].drop_duplicates().sort_values("end_year").itertuples(index=False)
    for start, end in pairs:
        in_pair = of_year.get(end, set(cohort["district_code"]))
        for subject in ("Math", "ELA"):
            name = f"change_{subject.lower()}_{start}_{end}".replace("-", "_")
            block = yearly[(yearly["start_year"] == start) & (yearly["end_year"] == end) & (yearly["subject"] == subject)]
            block = block.set_index("district_code")
            rows[name] = [block["change"].get(code, pd.NA) if code in in_pair else pd.NA for code in rows["district_code"]]
            table.columns.append(Column(name, f"{subject} {start} to {end}", "float2"))
            for code in rows["district_code"]:
                if code not in in_pair:
                    note = f"{start} to {end}: not in that year's cohort"
                    if note not in notes[code]:
                        notes[code].append(note)
                elif code not in block.index:
                    notes[code].append(f"{subject} {start} to {end}: no row")
                elif bool(block.at[code, "excluded"]):
                    note = f"{start} to {end}: {block.at[code, 'exclusion_reason']}"
                    if note not in notes[code]:  # district scope: the same reason for both subjects
                        notes[code].append(note)
    if "cohort" in members and len(members):
        named = members.drop_duplicates("end_year").sort_values("end_year")
        table.description += " The districts are those of each pair's cohort (its end year's): " + "; ".join(
            f"pairs ending {', '.join(group['end_year'])}: the {label}" for label, group in named.groupby("cohort", sort=False)) + "."
    rows["exclusions"] = pd.Series(["; ".join(notes[code]) for code in rows["district_code"]], dtype=object)
    table.columns.append(Column("exclusions", "Excluded because"))
    table.rows = rows
    return table


def sources_table(sources: list[dict]) -> ReportTable:
    rows = pd.DataFrame(sources, columns=["asset", "school_year", "file", "sha256", "rows", "title"])
    rows = rows.sort_values(["asset", "school_year"]).reset_index(drop=True)
    return ReportTable(
        "data_sources", "Data sources",
        "The exports (and the cohort reference table) behind every number above, as recorded when each was loaded: "
        "the file, its rows, and its SHA-256 fingerprint (which changes if a single byte of the file does).",
        "raw_* assets, alliance_cohort",
        [Column("asset", "Asset", "code"), Column("school_year", "School year"), Column("file", "File", "code"),
         Column("rows", "Rows", "int"), Column("sha256", "SHA-256", "code"), Column("title", "Report title")],
        rows,
    )


def settings_table(settings: list[tuple[str, str, str]]) -> ReportTable:
    rows = pd.DataFrame(settings, columns=["resource", "setting", "value"])
    return ReportTable(
        "settings", "Method settings",
        "The settings the method ran with (for engineers: the method and identification_settings resources).",
        "method and identification_settings resources",
        [Column("resource", "Resource", "code"), Column("setting", "Setting", "code"), Column("value", "Value")],
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
    plans_sample: bool = False,
    lineage: dict[str, list[str]] | None = None,
) -> Report:
    """The whole report from the stored tables.

    ``tables`` maps asset names to their Parquet tables: the study's (sbac_score_changes,
    sbac_yearly_changes, growth_rankings, t_score_changes, identified_districts,
    alliance_identification, opportunity_districts, study_identified_districts) and
    the later sections' (identified_by_year, sbac_score_trends, identification_robustness,
    identification_margins, subgroup_gaps, subgroup_gap_summary, subgroup_gap_changes).
    ``sources`` lists the raw exports' provenance; ``settings`` the method settings
    as (group, name, value).
    """
    flat = {name: value for _, name, value in settings}
    by_name = {indicator.name: indicator for indicator in INDICATORS}
    appendix = [appendix_table(by_name[name], tables[by_name[name].asset], cohort, top_n, flat) for name in ORDER]
    plain: dict[str, str] = {}  # indicator -> why it could not be computed, in plain words
    missing: dict[str, list[ReportTable]] = {}  # indicator family ("T-score change") -> its unavailable tables
    for name, table in zip(ORDER, appendix):
        if table.unavailable:
            plain[name] = table.unavailable_plain
            missing.setdefault(name.rsplit(" ", 1)[0], []).append(table)
    identified = identified_table(tables["identified_districts"], tables["identification_robustness"],
                                  tables["identification_margins"], plain)
    study = summary.study_comparison_table(tables["study_identified_districts"], tables["identified_districts"], missing)
    opportunity = opportunity_table(tables["opportunity_districts"])
    audit = audit_table(tables["alliance_identification"])
    years = beyond.years_section(tables["sbac_score_trends"], yearly_table(tables["sbac_yearly_changes"], cohort,
                                                                          tables.get("cohort_by_year")))
    lasted = today.lasted_section(
        tables.get("did_it_last", pd.DataFrame()), tables["identified_by_year"], tables["sbac_score_trends"],
        set(tables["identified_districts"]["district_code"]),
        summary.lasted_sentence(tables.get("did_it_last", pd.DataFrame()), tables["sbac_score_trends"]))
    if "data_coverage" in tables and len(tables["data_coverage"]):
        years.tables.append(today.coverage_table(tables["data_coverage"]))
    robustness = beyond.robustness_section(tables["identification_robustness"], tables["identification_margins"], top_n,
                                           beyond.growth_only_years(tables["identified_by_year"]))
    equity = beyond.equity_section(tables["subgroup_gaps"], tables["subgroup_gap_summary"], tables["subgroup_gap_changes"])
    start, end = flat.get("change_start_year", ""), flat.get("change_end_year", "")
    plan_section = plans.plans_section(
        tables["plan_codes"], tables["plan_indicators"], tables["intercoder_reliability"],
        tables["plan_indicators_compared"], set(tables["identified_districts"]["district_code"]), plans_sample,
        str(tables["plan_codebook"]["codebook_version"].iloc[0]) if len(tables["plan_codebook"]) else "",
    ) if "plan_indicators" in tables else None
    designated = tables.get("alliance_designations", pd.DataFrame())
    current = designations.current_cohort(designated, tables.get("cohort_by_year", pd.DataFrame()))
    trends = tables["sbac_score_trends"]
    scale_end = sort_years(trends["school_year"].dropna())[-1] if len(trends) else None
    today_now = now.today_section(designated, tables.get("watch_list", pd.DataFrame()),
                                  tables.get("doing_now", pd.DataFrame()), current, scale_end)
    changed = now.measure_change_sentence(tables.get("doing_now", pd.DataFrame()), scale_end)
    if changed:
        lasted.paragraphs.append(changed)
    notice = generated_notice(sources, plans_sample)
    opening = summary.summary_section(tables, cohort, missing, identified, study, flat)
    if notice:
        opening.paragraphs.insert(0, notice)
    sections = [
        opening,
        today_now,
        summary.caveats_section(tables, flat),
        summary.glossary_section(tables),
        Section("identified", "Which Alliance Districts improved most?", "Identified", tables=[identified]),
        *[Section(table.key, table.title, table.title.partition(". ")[0], tables=[table]) for table in appendix],
        lasted,
        years,
        robustness,
        equity,
        *([plan_section] if plan_section else []),
        Section("excluded", "Districts left out of a table", "Excluded", tables=[excluded_table(appendix)]),
        Section("identification", audit.title, "CSDE identification", tables=[audit, opportunity]),
        Section("settings_and_sources", "Settings and data sources", "Sources",
                tables=[settings_table(settings), sources_table(sources)]),
    ]
    for table in (table for section in sections for table in section.tables):
        table.exports = exports_line(table.source, lineage or {}, sources)
    return Report(
        title="How are Connecticut's Alliance Districts doing?",
        subtitle=f"The 2017 UConn/CCER study's indicators for {start} to {end}, every later year, CSDE's "
                 f"identification, robustness and equity, for the {len(cohort)} Alliance Districts designated "
                 f"{_first(cohort, 'first_year', '')} to {_first(cohort, 'last_year', '')}.",
        generated_at=generated_at,
        run_id=run_id,
        sections=sections,
        appendix_b=appendix,
        identified=identified,
        opportunity=opportunity,
        notice=notice,
    )


def exports_line(source: str, lineage: dict[str, list[str]], sources: list[dict]) -> str:
    """The files a table's rows come from, in words: each EdSight export family upstream of the stored tables named
    in ``source`` (``lineage``: asset -> the raw assets and reference tables it is computed from), with its years
    and files; the Data sources table lists each file with its SHA-256."""
    described = {family.asset_name: family.description for family in FAMILIES.values()}
    names = [name.strip() for name in source.replace(" and ", ", ").split(",") if name.strip()]
    upstream = sorted({raw for name in names for raw in lineage.get(name, [])} | {n for n in names if n in described},
                      key=lambda raw: (raw not in described, raw))  # EdSight's exports first, then reference tables
    parts = []
    for raw in upstream:
        files = sorted((str(s.get("school_year") or ""), str(s.get("file") or "")) for s in sources if s.get("asset") == raw)
        if raw in described and files:
            years = files[0][0] if len(files) == 1 else f"{files[0][0]} to {files[-1][0]}"
            shown = ", ".join(name for _, name in files[:2]) + (f" and {len(files) - 2} more" if len(files) > 2 else "")
            parts.append(f"EdSight's {described[raw]}, {years} ({shown})")
        elif files:  # a reference table kept in data/reference/
            parts.append(f"the project's reference table {files[0][1]}")
    return "; ".join(parts)


def generated_notice(sources: list[dict], plans_sample: bool) -> str | None:
    """What the report must say first when its data are the bundled sample's generated files (told by SHA-256:
    ``sample_identity``), or None when every export read is real."""
    exports = [source for source in sources if str(source.get("asset", "")).startswith("raw_")]
    generated = [source for source in exports if is_generated_sha256(str(source.get("sha256") or ""))]
    if not generated:
        return None
    which = ("every export this report was built from is" if len(generated) == len(exports)
             else f"{len(generated)} of the {len(exports)} exports this report was built from are")
    plans = " Its coded plans are the bundled sample's, also generated." if plans_sample else ""
    return (f"Generated data, not real results: {which} from the project's bundled sample, which pairs real "
            "Connecticut district names with numbers drawn from a seeded model, so no finding here is about a real "
            f"district.{plans} Set ALLIANCE_EDSIGHT_DIR to a folder of real EdSight exports for real results.")

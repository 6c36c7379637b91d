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

from alliance_pipeline.methods import designations
from alliance_pipeline.methods.identified_districts import INDICATORS, Indicator
from alliance_pipeline.reporting import equity, every_year, identification, now, plans, robustness, summary, today
from alliance_pipeline.reporting import sources as sources_of
from alliance_pipeline.reporting.charts import bar_chart_svg, chart_figure, short_name
from alliance_pipeline.reporting.model import EXCLUDED, RANKED, Column, Report, ReportTable, Section, first_value
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
        start = first_value(rows, "start_year", settings.get("change_start_year", "start"))
        end = first_value(rows, "end_year", settings.get("change_end_year", "end"))
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
        year = first_value(rows, "school_year", settings.get("growth_year", ""))
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
    base = first_value(rows, "base_year", settings.get("t_base_year", "base"))
    end = first_value(rows, "end_year", settings.get("t_end_year", "end"))
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


def _appendix(tables: dict[str, pd.DataFrame], cohort: pd.DataFrame, top_n: int, flat: dict[str, str]):
    """The study's Appendix B: one table per indicator (``ORDER``); for each indicator that could not be computed,
    why in plain words, and its unavailable tables by indicator family ("T-score change")."""
    by_name = {indicator.name: indicator for indicator in INDICATORS}
    appendix = [appendix_table(by_name[name], tables[by_name[name].asset], cohort, top_n, flat) for name in ORDER]
    plain: dict[str, str] = {}
    missing: dict[str, list[ReportTable]] = {}
    for name, table in zip(ORDER, appendix):
        if table.unavailable:
            plain[name] = table.unavailable_plain
            missing.setdefault(name.rsplit(" ", 1)[0], []).append(table)
    return appendix, plain, missing


def _later_sections(tables: dict[str, pd.DataFrame], cohort: pd.DataFrame, top_n: int, plans_sample: bool):
    """The sections beyond the study's tables: today (section 13), did it last and every year (sections 8 and 11),
    robustness (9), equity (10) and the coded plans (12, when the plan tables are there)."""
    yearly = every_year.yearly_table(tables["sbac_yearly_changes"], cohort, tables.get("cohort_by_year"))
    years = every_year.years_section(tables["sbac_score_trends"], yearly)
    lasted = today.lasted_section(
        tables.get("did_it_last", pd.DataFrame()), tables["identified_by_year"], tables["sbac_score_trends"],
        set(tables["identified_districts"]["district_code"]),
        summary.lasted_sentence(tables.get("did_it_last", pd.DataFrame()), tables["sbac_score_trends"]))
    if "data_coverage" in tables and len(tables["data_coverage"]):
        years.tables.append(today.coverage_table(tables["data_coverage"]))
    robust_part = robustness.robustness_section(tables["identification_robustness"], tables["identification_margins"],
                                                top_n, every_year.growth_only_years(tables["identified_by_year"]))
    equity_part = equity.equity_section(tables["subgroup_gaps"], tables["subgroup_gap_summary"],
                                        tables["subgroup_gap_changes"])
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
    return today_now, lasted, years, robust_part, equity_part, plan_section


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
    appendix, plain, missing = _appendix(tables, cohort, top_n, flat)
    identified = identified_table(tables["identified_districts"], tables["identification_robustness"],
                                  tables["identification_margins"], plain)
    study = summary.study_comparison_table(tables["study_identified_districts"], tables["identified_districts"], missing)
    opportunity = identification.opportunity_table(tables["opportunity_districts"])
    audit = identification.audit_table(tables["alliance_identification"])
    today_now, lasted, years, robust_part, equity_part, plan_section = _later_sections(tables, cohort, top_n,
                                                                                       plans_sample)
    notice = sources_of.generated_notice(sources, plans_sample)
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
        robust_part,
        equity_part,
        *([plan_section] if plan_section else []),
        Section("excluded", "Districts left out of a table", "Excluded", tables=[excluded_table(appendix)]),
        Section("identification", audit.title, "CSDE identification", tables=[audit, opportunity]),
        Section("settings_and_sources", "Settings and data sources", "Sources",
                tables=[sources_of.settings_table(settings), sources_of.sources_table(sources)]),
    ]
    for table in (table for section in sections for table in section.tables):
        table.exports = sources_of.exports_line(table.source, lineage or {}, sources)
    return Report(title="How are Connecticut's Alliance Districts doing?", subtitle=_subtitle(cohort, flat),
                  generated_at=generated_at, run_id=run_id, sections=sections, appendix_b=appendix,
                  identified=identified, opportunity=opportunity, notice=notice)


def _subtitle(cohort: pd.DataFrame, flat: dict[str, str]) -> str:
    start, end = flat.get("change_start_year", ""), flat.get("change_end_year", "")
    return (f"The 2017 UConn/CCER study's indicators for {start} to {end}, every later year, CSDE's "
            f"identification, robustness and equity, for the {len(cohort)} Alliance Districts designated "
            f"{first_value(cohort, 'first_year', '')} to {first_value(cohort, 'last_year', '')}.")



"""The report's sections beyond the study (methodology sections 8-10): years, robustness, equity.

Each function selects, joins and orders rows of the stored tables
(identified_by_year, sbac_score_trends, identification_robustness,
identification_margins, subgroup_gap_summary, subgroup_gaps,
subgroup_gap_changes); no number is recomputed here.
"""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.reporting.model import Column, ReportTable, Section
from alliance_pipeline.reporting.charts import (
    COHORT, STATE, SUBJECT_COLOURS, Figure, bar_chart_svg, chart_figure, data_uri, line_chart_svg, short_name,
)

SUBJECTS = ("Math", "ELA")
GAP_ORDER = ["White - Black", "White - Hispanic", "Not eligible - meal eligible", "Not ELL - ELL",
             "Not special education - special education"]
SCOPES = {"state": "Statewide", "cohort": "Alliance cohort", "non_cohort": "Other districts"}
ROBUSTNESS = ("A district picked by a fraction of a point is a weaker finding than one picked however the method's "
              "reasonable choices are made. Each identified district is recomputed under 42 variants of the method, "
              "and its distance to the top-3 cut-off is measured.")
EQUITY = ("The study looked at all students only. CSDE also publishes results by group (race and ethnicity, meal "
          "eligibility, English learners, special education). For each district the gap is the share of the reference "
          "group meeting the standard minus the share of the focal group.")


def _column_name(*parts: str) -> str:
    return "_".join(parts).lower().replace("-", "_").replace(" ", "_")


def _unavailable(key: str, title: str, source: str, why: str, plain: str) -> ReportTable:
    return ReportTable(key, title, "", source, [], pd.DataFrame(), unavailable=why, unavailable_plain=plain)


def said_missing(section: Section, frame: pd.DataFrame, key: str, title: str, plain: str) -> bool:
    """When the stored table ``key`` has no rows, add a table saying so (in plain words and the pipeline's own)."""
    if not frame.empty:
        return False
    section.tables.append(_unavailable(key, title, key, frame.attrs.get("unavailable", "no rows"), plain))
    return True


# --- Section 8: every year ---------------------------------------------------------------

def growth_only_years(by_year: pd.DataFrame) -> set[str]:
    """The years whose list is built from growth rates alone: a level of that one year, not a change."""
    if by_year.empty or "built_from" not in by_year:
        return set()
    return {end for end, built in zip(by_year["end_year"], by_year["built_from"])
            if len(built) and all(str(name).startswith("Growth rate") for name in built)}


def span_label(start: str, end: str, growth_only: set[str]) -> str:
    """The years a list covers, said the same way in every table: 'A to B' for a change, 'B (growth rates of that
    year)' for a list built from one year's growth rates."""
    return f"{end} (growth rates of that year)" if end in growth_only else f"{start} to {end}"


def identified_by_year_table(by_year: pd.DataFrame) -> ReportTable:
    rows = by_year.sort_values(["end_year", "best_rank", "district_name"]).reset_index(drop=True)
    growth_only = growth_only_years(rows)
    rows["years"] = [span_label(start, end, growth_only) for start, end in zip(rows["change_start_year"], rows["end_year"])]
    rows["selected_by"] = [
        [f"{name} (rank {rank}, {value:.2f})" for name, rank, value in zip(names, ranks, values)]
        for names, ranks, values in zip(rows["indicators"], rows["ranks"], rows["values"])
    ]
    table = ReportTable(
        "identified_by_year", "Identified districts, year by year",
        "The study's top-3 rule applied to each year's change (and that year's growth rates where CSDE published "
        "them), from whichever indicators exist for the year.",
        "identified_by_year",
        [Column("years", "Change years"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("n_indicators", "Indicators", "int"), Column("selected_by", "Selected by (rank, value)", "list")],
        rows,
    )
    for end, block in rows.groupby("end_year", sort=True):
        built, missing = list(block["built_from"].iloc[0]), list(block["not_available"].iloc[0])
        names = [entry.partition(": ")[0] for entry in missing]
        table.notes.append(f"{end}: built from {len(built)} of the study's 6 indicators ({', '.join(built)})" + (
            f"; not computed: {', '.join(names)} (the table 'Years with no data, and why' says which exports are "
            "missing and why). Not comparable one for one with the study's list." if names else "."))
    return table


def trend_figures(trends: pd.DataFrame) -> list[Figure]:
    """Per subject, the statewide and the cohort's weighted mean score, year by year."""
    figures = []
    years = sorted(trends["school_year"].unique())
    for subject in SUBJECTS:
        block = trends[trends["subject"] == subject].drop_duplicates("school_year").set_index("school_year")
        if block.empty:
            continue
        state = [float(block.at[y, "state_mean"]) if y in block.index else None for y in years]
        cohort = [float(block.at[y, "cohort_mean"]) if y in block.index else None for y in years]
        alt = (f"Line chart, {subject} average scale score by year: statewide "
               + ", ".join(f"{y} {v:.1f}" for y, v in zip(years, state) if v is not None)
               + "; Alliance cohort " + ", ".join(f"{y} {v:.1f}" for y, v in zip(years, cohort) if v is not None) + ".")
        named = _cohorts_named(block)
        figures.append(chart_figure(
            line_chart_svg, f"trend_{subject.lower()}", alt + named,
            f"{subject}: the cohort's average stays below the state's.{named}",
            years=years, series={"Statewide": state, "Alliance cohort": cohort},
            colours={"Statewide": STATE, "Alliance cohort": COHORT}, ylabel="Weighted scale score",
            title=f"{subject}: statewide and Alliance cohort average, grades 3-8",
        ))
    return figures


def _cohorts_named(block: pd.DataFrame) -> str:
    """Which cohort each year's line is (section 11: the cohort of a year is its statute cohort), e.g. " The Alliance
    cohort line is the FY2013 cohort (...) to 2016-17, then the FY2018 cohort (...)."."""
    if "cohort" not in block or block["cohort"].isna().all():
        return ""
    runs: list[list] = []
    for year, label in block["cohort"].sort_index().items():
        if runs and runs[-1][0] == label:
            runs[-1][2] = year
        else:
            runs.append([label, year, year])
    if len(runs) == 1:
        return f" The Alliance cohort line is the {runs[0][0]} in every year."
    return " The Alliance cohort line is " + ", then ".join(
        f"the {label} ({first} to {last})" if first != last else f"the {label} ({first})" for label, first, last in runs
    ) + ": different sets of districts."


def without_partial(trends: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The trend rows with a distance left blank where a grade's results were withheld (``partial_grades``): the
    rule of B1 and B2, so a score over some grades only is never compared with full ones. Returns the rows and a
    note naming what was left out ("" when nothing was)."""
    if "partial_grades" not in trends or not trends["partial_grades"].astype(bool).any():
        return trends, ""
    partial = trends["partial_grades"].astype(bool)
    rows = trends.copy()
    rows["distance_to_state"] = rows["distance_to_state"].mask(partial)
    left = trends[partial & trends["in_cohort"].astype(bool)]
    named = [f"{short_name(name)} {', '.join(sorted(set(block['school_year'])))}"
             for name, block in left.groupby("district_name", sort=True)]
    note = ("Left blank, as in B1 and B2, where CSDE withheld a grade's results, so the district's average would "
            "cover only some grades: " + "; ".join(named) + ".") if named else ""
    return rows, note


def district_multiples(trends: pd.DataFrame, identified: set[str] = frozenset()) -> list[Figure]:
    """One small chart per cohort district: its distance to the state average per year, Math and ELA, with the
    cohort's distance dashed; every panel on the same vertical scale so they compare at a glance. The districts
    in ``identified`` (codes) come first, framed and titled as identified."""
    trends, _ = without_partial(trends)
    cohort = trends[trends["in_cohort"].astype(bool)]
    if cohort.empty:
        return []
    years = sorted(trends["school_year"].unique())
    values = [float(v) for v in pd.concat([cohort["distance_to_state"], cohort["cohort_distance_to_state"]]).dropna()]
    low, high = min(values + [0.0]), max(values + [0.0])
    pad = (high - low) * 0.08 or 1.0
    ylim = (low - pad, high + pad)
    figures = []
    order = sorted(cohort.groupby(["district_code", "district_name"], sort=False), key=lambda item: item[0][0] not in identified)
    for (code, name), block in order:
        series, colours, styles, parts = {}, {}, {}, []
        for subject in SUBJECTS:
            rows = block[block["subject"] == subject].set_index("school_year")
            series[subject] = [float(rows.at[y, "distance_to_state"]) if y in rows.index and pd.notna(rows.at[y, "distance_to_state"]) else None
                               for y in years]
            series[f"cohort {subject}"] = [float(rows.at[y, "cohort_distance_to_state"]) if y in rows.index else None for y in years]
            colours[subject] = colours[f"cohort {subject}"] = SUBJECT_COLOURS[subject]
            styles[f"cohort {subject}"] = ":"
            parts.append(f"{subject} " + ", ".join(f"{y} {v:+.1f}" for y, v in zip(years, series[subject]) if v is not None))
        marked = code in identified
        title = short_name(name) + (" (identified)" if marked else "")
        svg = data_uri(line_chart_svg(years=years, series=series, ylabel="Points vs state", title=title,
                                      colours=colours, styles=styles, width=3.0, height=2.1, ylim=ylim, legend=False,
                                      reference=0.0, marked=marked, markers=False))
        figures.append(Figure(f"multiple_{code}", svg, svg,
                              f"{name}{', identified in the study years' if marked else ''}: distance to the state "
                              f"average by year, {'; '.join(parts)}.", title))
    return figures


def distance_table(trends: pd.DataFrame) -> ReportTable:
    """Each district of a year's cohort: its distance to the state average, per subject and year (sbac_score_trends);
    a district outside a year's cohort (before or after its designation) is blank that year."""
    trends, partial = without_partial(trends)
    cohort = trends[trends["in_cohort"].astype(bool)]
    years = sorted(trends["school_year"].unique())
    rows = cohort[["district_code", "district_name"]].drop_duplicates().sort_values("district_name").reset_index(drop=True)
    columns = [Column("district_name", "District"), Column("district_code", "Code", "code")]
    for subject in SUBJECTS:
        block = cohort[cohort["subject"] == subject].set_index(["district_code", "school_year"])["distance_to_state"]
        for year in years:
            name = _column_name("distance", subject, year)
            rows[name] = [block.get((code, year), pd.NA) for code in rows["district_code"]]
            columns.append(Column(name, f"{subject} {year}", "float1"))
    means = cohort.drop_duplicates(["subject", "school_year"]).set_index(["subject", "school_year"])["cohort_distance_to_state"]
    table = ReportTable(
        "distance_to_state", "Distance to the state average, by year",
        "Each cohort district's weighted scale score minus the statewide weighted average of that year and subject "
        "(negative: below the state).",
        "sbac_score_trends", columns, rows,
    )
    table.notes.append("The cohort of each year as a whole: " + "; ".join(
        f"{subject} {year} {means[(subject, year)]:+.1f}" for subject in SUBJECTS for year in years if (subject, year) in means.index)
        + "." + _cohorts_named(cohort.drop_duplicates("school_year").set_index("school_year")).replace(
            "Alliance cohort line", "cohort of each year"))
    if partial:
        table.notes.append(partial)
    return table


def years_section(trends: pd.DataFrame, yearly: ReportTable) -> Section:
    years = sorted(trends["school_year"].unique()) if len(trends) else []
    section = Section(
        "every_year", "Every year, not only the study's", "Years",
        paragraphs=[
            "The study compared 2014-15 with 2015-16. The same rules are applied here to every school year in the "
            f"exports ({', '.join(years) or 'none'}); a newly published year appears here as soon as it is loaded.",
        ],
    )
    if len(trends):
        section.figures = trend_figures(trends)
        section.tables.append(distance_table(trends))
    section.tables.append(yearly)
    return section


# --- Section 9: robustness ---------------------------------------------------------------

def robustness_table(robustness: pd.DataFrame, growth_only: set[str] = frozenset()) -> ReportTable:
    """Every district that any variant picked, per analysis; a label only where the default method picks it."""
    rows = robustness[robustness["identified_default"].astype(bool) | (robustness["times_identified"] > 0)].copy()
    rows = rows.sort_values(["is_study", "end_year", "identified_default", "selection_frequency", "district_name"],
                            ascending=[False, True, False, False, True]).reset_index(drop=True)
    rows["years"] = [span_label(start, end, growth_only) + (" (the study's years)" if study else "")
                     for start, end, study in zip(rows["change_start_year"], rows["end_year"], rows["is_study"].astype(bool))]
    rows["default"] = ["yes" if flag else "no" for flag in rows["identified_default"].astype(bool)]
    rows["selected_in"] = [f"{int(t)} of {int(v)}" for t, v in zip(rows["times_identified"], rows["variants"])]
    rows["shown_label"] = [label if flag else "not identified" for label, flag in zip(rows["label"], rows["identified_default"].astype(bool))]
    rows["flag"] = ["fragile" if label == "fragile" else None for label in rows["shown_label"]]
    return ReportTable(
        "identification_robustness", "How often each district is picked across 42 variants of the method",
        "Variants: grades 3-8, 3-5 or 6-8; leaving a district out for a withheld grade in any subject or only in "
        "that subject; state averages over all scored students or only published grades; top 2, 3 or 4; and the "
        "default grades minus one grade at a time. Robust: picked in at least 80% of them; fragile: fewer than half. "
        "Shown here: the districts the study's method identifies and any other picked in at least a quarter of the "
        "variants; the workbook and the CSV list every district any variant picked.",
        "identification_robustness",
        [Column("years", "Change years"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("default", "Identified by the study's method"), Column("selected_in", "Picked in variants"),
         Column("selection_frequency", "Share", "percent"), Column("shown_label", "Robustness")],
        rows, page_rows=rows[rows["identified_default"].astype(bool) | (rows["selection_frequency"] >= 0.25)].reset_index(drop=True),
    )


def _study_years(robustness: pd.DataFrame) -> str:
    study = robustness[robustness["is_study"].astype(bool)]
    return f"{study['change_start_year'].iloc[0]} to {study['end_year'].iloc[0]}" if len(study) else "the study's years"


def margins_table(margins: pd.DataFrame, top_n: int, years: str) -> ReportTable:
    """For the study's pair: per indicator, the selected districts and the best one left out, with the distance to
    the cut-off in the indicator's units and in cohort standard deviations."""
    study = margins[margins["is_study"].astype(bool)].copy()
    selected = study[study["selected"].astype(bool)]
    others = study[~study["selected"].astype(bool) & study["rank_cohort"].notna()]
    runner_up = others.sort_values(["indicator", "rank_cohort"]).groupby("indicator", sort=False).head(1)
    rows = pd.concat([selected, runner_up]).sort_values(["indicator", "rank_cohort"], kind="stable").reset_index(drop=True)
    rows["role"] = ["selected" if flag else "first left out" for flag in rows["selected"].astype(bool)]
    rows["flag"] = ["close" if pd.notna(sd) and sd < 0.1 else None for sd in rows["margin_sd"]]
    table = ReportTable(
        "identification_margins", f"How close each selection was, {years}",
        f"For each indicator, the districts in the top {top_n} and the best district left out. Margin: for a "
        "selected district, how far it was above the best one left out; for the one left out, how far it was below "
        "the last selected. In the indicator's units and in standard deviations of the indicator over the cohort.",
        "identification_margins",
        [Column("indicator", "Indicator"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("rank_cohort", "Rank", "rank"), Column("role", "Role"), Column("value", "Value", "float2"),
         Column("margin", "Margin", "float2"), Column("margin_sd", "Margin (sd)", "float2")],
        rows,
    )
    close = rows[rows["flag"] == "close"]
    if len(close):
        table.notes.append("Margins under 0.1 standard deviations (shaded) are thin: a slightly different rule or "
                           "a few students' scores could change the pick: "
                           + ", ".join(f"{short_name(n)} ({i})" for n, i in zip(close["district_name"], close["indicator"])) + ".")
    return table


def robustness_section(robustness: pd.DataFrame, margins: pd.DataFrame, top_n: int,
                       growth_only: set[str] = frozenset()) -> Section:
    section = Section("robustness", "How firm is the list of identified districts?", "Robustness", paragraphs=[ROBUSTNESS])
    if said_missing(section, robustness, "identification_robustness", "Robustness",
                     "No identified districts could be recomputed from the exports this run read."):
        return section
    years = _study_years(robustness)
    study = robustness[robustness["is_study"].astype(bool) & robustness["identified_default"].astype(bool)]
    study = study.sort_values(["selection_frequency", "district_name"], ascending=[False, True])
    if len(study):
        labels = [short_name(n) for n in study["district_name"]]
        shares = [float(v) * 100 for v in study["selection_frequency"]]
        section.figures.append(chart_figure(
            bar_chart_svg, "robustness_study", f"Bar chart, share of the 42 variants that pick each identified district ({years}): "
            + "; ".join(f"{label} {share:.0f}%" for label, share in zip(labels, shares)) + ".",
            labels=labels, values=shares, highlighted=[label != "fragile" for label in study["label"]],
            xlabel="Share of variants that pick the district (%)", title=f"Identified districts, {years}: share of variants",
            reference=80.0, digits=0,
        ))
    section.tables += [robustness_table(robustness, growth_only), margins_table(margins, top_n, years)]
    return section


# --- Section 10: equity ------------------------------------------------------------------

def _groups_withheld(reason: str) -> str:
    """'Black or African American: Total ... suppressed (export row 29)' -> 'Black or African American'."""
    return " and ".join(dict.fromkeys(part.split(":")[0].strip() for part in str(reason).split("; ") if ":" in part))


def gap_summary_table(summary: pd.DataFrame) -> ReportTable:
    rows = summary.copy()
    rows["_gap"] = rows["gap"].map({g: i for i, g in enumerate(GAP_ORDER)})
    rows["_scope"] = rows["scope"].map({s: i for i, s in enumerate(SCOPES)})
    rows = rows.sort_values(["school_year", "subject", "_gap", "_scope"]).drop(columns=["_gap", "_scope"]).reset_index(drop=True)
    rows["scope_label"] = [scope_label(row) for row in rows.to_dict(orient="records")]
    table = ReportTable(
        "subgroup_gap_summary", "Achievement gaps: across the state, the Alliance cohort and the other districts",
        "Share of students meeting or exceeding the standard (Smarter Balanced levels 3 and 4), reference group "
        "minus focal group, in percentage points, from the summed counts of the districts that published both "
        "groups (one set of districts for both sides of a gap).",
        "subgroup_gap_summary",
        [Column("school_year", "Year"), Column("subject", "Subject"), Column("gap", "Gap"),
         Column("scope_label", "Districts summed"), Column("reference_proficiency", "Reference group (%)", "float1"),
         Column("focal_proficiency", "Focal group (%)", "float1"), Column("gap_value", "Gap (points)", "float1"),
         Column("rows_left_out", "Withheld rows left out", "int")],
        rows,
    )
    table.notes.append("A figure for the whole state (or the whole cohort) exists only where no district's count was "
                       "withheld; elsewhere the exports do not allow one, so the row gives the districts that "
                       "published both groups, and says how many of the districts with such students they are. "
                       "Withheld counts are never counted as zero.")
    return table


def scope_label(row: dict) -> str:
    """'Statewide' only for a figure over every district; otherwise the districts it sums, counted."""
    name = SCOPES.get(row["scope"], row["scope"])
    if row.get("complete"):
        return f"{name}: every district ({int(row['districts'])})"
    where = {"state": "districts statewide", "cohort": "Alliance districts", "non_cohort": "other districts"}[row["scope"]]
    return f"{int(row['paired_districts'])} of {int(row['districts'])} {where} that published both groups"


def gap_figures(summary: pd.DataFrame) -> list[Figure]:
    """Latest year, per subject: each gap in the cohort and statewide (percentage points, from zero)."""
    if summary.empty:
        return []
    year = max(summary["school_year"])
    figures = []
    for subject in SUBJECTS:
        block = summary[(summary["school_year"] == year) & (summary["subject"] == subject) & summary["scope"].isin(["state", "cohort"])]
        block = block.assign(_g=block["gap"].map({g: i for i, g in enumerate(GAP_ORDER)}), _s=block["scope"].map({"cohort": 0, "state": 1}))
        block = block.dropna(subset=["gap_value"]).sort_values(["_g", "_s"])
        if block.empty:
            continue
        labels = [f"{gap} ({'cohort' if scope == 'cohort' else 'state'}, {int(n)} districts)"
                  for gap, scope, n in zip(block["gap"], block["scope"], block["paired_districts"])]
        values = [float(v) for v in block["gap_value"]]
        figures.append(chart_figure(
            bar_chart_svg, f"gaps_{subject.lower()}", f"Bar chart, {subject} achievement gaps in {year}, percentage points: "
            + "; ".join(f"{label} {value:.1f}" for label, value in zip(labels, values)) + ".",
            labels=labels, values=values, highlighted=[scope == "cohort" for scope in block["scope"]],
            xlabel="Gap in percentage points meeting the standard",
            title=f"{subject} gaps, {year}: cohort (dark) and state, districts that published both groups",
            digits=1,
        ))
    return figures


def district_gaps_table(gaps: pd.DataFrame, year: str) -> ReportTable:
    """Each cohort district's five gaps per subject in one year; a gap that could not be computed is blank and
    named, with the group whose count CSDE withheld, in the last column."""
    cohort = gaps[gaps["in_cohort"].astype(bool) & (gaps["school_year"] == year)]
    rows = cohort[["district_code", "district_name"]].drop_duplicates().sort_values("district_name").reset_index(drop=True)
    columns = [Column("district_name", "District"), Column("district_code", "Code", "code")]
    withheld: dict[str, list[str]] = {code: [] for code in rows["district_code"]}
    for subject in SUBJECTS:
        for gap in GAP_ORDER:
            block = cohort[(cohort["subject"] == subject) & (cohort["gap"] == gap)].set_index("district_code")
            if block.empty:
                continue
            name = _column_name("gap", subject, gap)
            rows[name] = [block["gap_value"].get(code, pd.NA) for code in rows["district_code"]]
            columns.append(Column(name, f"{subject}: {gap}", "float1"))
            for code, reason in block.loc[block["excluded"].astype(bool), "exclusion_reason"].items():
                withheld[code].append(f"{subject} {gap} ({_groups_withheld(reason)} withheld)")
    rows["withheld"] = [("; ".join(withheld[code]) or None) for code in rows["district_code"]]
    columns.append(Column("withheld", "Not computed because"))
    blank = sum(len(v) for v in withheld.values())
    table = ReportTable(
        f"subgroup_gaps_{year.replace('-', '_')}", f"Gaps in each Alliance District, {year}",
        "Reference minus focal group, percentage points meeting the standard. A blank cell is a gap that could not "
        "be computed because CSDE withheld a group's count (too few students), never a gap of zero.",
        "subgroup_gaps", columns, rows,
    )
    table.notes.append(f"{blank} of {len(rows) * (len(columns) - 3)} district gaps in {year} could not be computed.")
    return table


def gap_changes_table(changes: pd.DataFrame) -> ReportTable:
    if changes.attrs.get("unavailable"):
        return _unavailable(
            "subgroup_gap_changes", "Change in each gap", "subgroup_gap_changes", changes.attrs["unavailable"],
            "Whether a gap narrowed needs subgroup results for at least two consecutive school years; the exports this "
            "run read have fewer, so no change is shown.")
    rows = changes[(changes["scope"] != "district") | changes["in_cohort"].astype(bool)].copy()
    across = {"state": "Across the state", "cohort": "Alliance cohort", "non_cohort": "Other districts"}
    rows["scope_label"] = [f"{across[scope]}: {name}" if scope in across else name
                           for scope, name in zip(rows["scope"], rows["district_name"])]
    rows["_scope"] = rows["scope"].map({"state": 0, "cohort": 1, "non_cohort": 2, "district": 3})
    rows["_gap"] = rows["gap"].map({g: i for i, g in enumerate(GAP_ORDER)})
    rows = rows.sort_values(["_scope", "scope_label", "subject", "_gap", "end_year"]).drop(columns=["_scope", "_gap"])
    rows = rows.reset_index(drop=True)
    rows["years"] = [f"{s} to {e}" for s, e in zip(rows["start_year"], rows["end_year"])]
    rows["reason"] = [_groups_withheld(r) + " withheld" if excluded else None
                      for r, excluded in zip(rows["exclusion_reason"], rows["excluded"].astype(bool))]
    return ReportTable(
        "subgroup_gap_changes", "Change in each gap between consecutive years",
        "Gap in the later year minus the gap in the earlier one, in percentage points: negative means the gap "
        "narrowed. Shown here across the state, for the cohort and for the other districts, each summed over the "
        "districts whose gap was computed in both years (one set of districts); the workbook and the CSV add "
        "each Alliance District's.",
        "subgroup_gap_changes",
        [Column("scope_label", "Scope or district"), Column("district_code", "Code", "code"), Column("subject", "Subject"),
         Column("gap", "Gap"), Column("years", "Years"), Column("gap_start", "Gap before", "float1"),
         Column("gap_end", "Gap after", "float1"), Column("change", "Change", "float1"),
         Column("reason", "Not computed because")],
        rows, page_rows=rows[rows["scope"] != "district"].reset_index(drop=True),
    )


def equity_section(gaps: pd.DataFrame, summary: pd.DataFrame, changes: pd.DataFrame) -> Section:
    section = Section("equity", "Equity: gaps between groups of students", "Equity", paragraphs=[EQUITY])
    if said_missing(section, summary, "subgroup_gap_summary", "Achievement gaps",
                     "No subgroup exports were among the files this run read."):
        return section
    section.figures = gap_figures(summary)
    section.tables.append(gap_summary_table(summary))
    section.tables.append(district_gaps_table(gaps, max(gaps["school_year"])))
    section.tables.append(gap_changes_table(changes))
    return section

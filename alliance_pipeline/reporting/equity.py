"""The report's section 10, equity: the gaps between groups of students for the state, the cohort and the other
districts, each district's gaps and how they changed (from subgroup_gap_summary, subgroup_gaps and
subgroup_gap_changes; no number is recomputed here)."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.reporting.charts import Figure, bar_chart_svg, chart_figure
from alliance_pipeline.reporting.every_year import SUBJECTS
from alliance_pipeline.reporting.model import Column, ReportTable, Section, column_name, said_missing, unavailable_table

GAP_ORDER = ["White - Black", "White - Hispanic", "Not eligible - meal eligible", "Not ELL - ELL",
             "Not special education - special education"]
SCOPES = {"state": "Statewide", "cohort": "Alliance cohort", "non_cohort": "Other districts"}
EQUITY = ("The study looked at all students only. CSDE also publishes results by group (race and ethnicity, meal "
          "eligibility, English learners, special education). For each district the gap is the share of the reference "
          "group meeting the standard minus the share of the focal group.")


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
            name = column_name("gap", subject, gap)
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
        return unavailable_table(
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

"""The report's identification tables (methodology section 6): CSDE's four steps as an audit, with the districts
nearest each cut, and the Opportunity Districts (from alliance_identification and opportunity_districts)."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.reporting import summary
from alliance_pipeline.reporting.charts import bar_chart_svg, chart_figure, short_name
from alliance_pipeline.reporting.model import Column, ReportTable, first_value

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
    designation = first_value(rows, "designation_year", "")
    index_year = first_value(rows, "index_year", "")
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
        f"The designated districts with the lowest {first_value(rows, 'index_year', '')} Accountability Index. "
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

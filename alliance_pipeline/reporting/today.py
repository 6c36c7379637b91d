"""Report tables of section 11 (Today's EdSight): did the improvement last, and which years have no data."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.reporting import every_year, model
from alliance_pipeline.reporting.model import Column, ReportTable, Section


def did_it_last_table(lasted: pd.DataFrame) -> ReportTable:
    """Per identified district and subject: its distance to the state when identified, in the newest year held,
    and the change between them (from ``did_it_last``)."""
    rows = lasted.drop_duplicates(["district_code", "identified_end_year", "subject"]).copy()
    rows["identified"] = [f"{'by the study' if how == 'study' else 'later'}, {year}"
                          for how, year in zip(rows["identified_in"], rows["identified_end_year"])]
    rows["again"] = [", ".join(years) if len(years) else "no" for years in rows["identified_again"]]
    rows["flag"] = [None if pd.isna(change) or change >= 0 else "lost ground" for change in rows["change_to_newest"]]
    newest = str(rows["newest_year"].iloc[0]) if len(rows) else ""
    return ReportTable(
        "did_it_last", "Did it last? Identified districts' distance to the state since",
        f"Each district's weighted SBAC score minus the state's, in scale-score points, in the year it was "
        f"identified and in {newest}, the newest year held; a positive change means it moved closer to (or further "
        "above) the state average. 'Identified again' lists the later years whose lists include it (later lists "
        "are built from the indicators their year has; see 'Identified districts, year by year').",
        "did_it_last",
        [Column("identified", "Identified"), Column("district_name", "District"),
         Column("district_code", "Code", "code"), Column("subject", "Subject"),
         Column("distance_at_identification", "Distance then", "float1"),
         Column("distance_newest", f"Distance in {newest}", "float1"),
         Column("change_to_newest", "Change", "float1"), Column("again", "Identified again")],
        rows.reset_index(drop=True),
    )


def coverage_table(coverage: pd.DataFrame) -> ReportTable:
    """The school years an export family has no data for, and why (from ``data_coverage``)."""
    rows = coverage[~coverage["held"].astype(bool)].copy()
    rows["years"] = rows["school_year"].fillna("every year")
    rows = rows.reset_index(drop=True)
    # named apart from a table's "status"/"reason", which the page shows as a second "Excluded because" column
    plain = {"status": "availability", "reason": "why"}
    page_rows = _runs_of_years(rows).rename(columns=plain)
    rows = rows.rename(columns=plain)
    return ReportTable(
        "data_coverage", "Years with no data, and why",
        "'No test': no Smarter Balanced test was given; 'not published': CSDE published no such results; 'not in "
        "the source': the export folder holds no file for that year (it may exist on EdSight). Years with the same "
        "reason are shown together; the workbook and the CSV list one row per year.",
        "data_coverage",
        [Column("family", "Export"), Column("years", "School year"), Column("availability", "Status"),
         Column("why", "Why")],
        rows, page_rows=page_rows,
    )


def _runs_of_years(rows: pd.DataFrame) -> pd.DataFrame:
    """Consecutive rows of one export with the same status and reason as one row, their years as 'A to B'."""
    runs: list[dict] = []
    for record in rows.to_dict(orient="records"):
        last = runs[-1] if runs else None
        if last and (last["family"], last["status"], last["reason"]) == (record["family"], record["status"], record["reason"]):
            last["_years"].append(record["years"])
        else:
            runs.append({**record, "_years": [record["years"]]})
    for run in runs:
        years = run.pop("_years")
        run["years"] = years[0] if len(years) == 1 else f"{years[0]} to {years[-1]}"
    return pd.DataFrame(runs, columns=rows.columns)


LASTED = ("Whether the districts that improved most kept their gains: each identified district's distance to the "
          "state average when it was identified and in the newest year held, each Alliance District's distance year "
          "by year, and the lists the same rule gives in later years.")


def lasted_section(lasted: pd.DataFrame, by_year: pd.DataFrame, trends: pd.DataFrame, identified: set[str],
                   finding: str) -> Section:
    """Did it last? The finding (the Summary's sentence), the identified districts' distance to the state then and
    now, one small chart per cohort district (identified ones first and marked), and the later years' lists with
    the indicators each was built from."""
    section = Section("did_it_last", "Did it last?", "Did it last?", paragraphs=[LASTED, *([finding] if finding else [])])
    if len(lasted):
        section.tables.append(did_it_last_table(lasted))
    if len(trends):
        section.multiples = every_year.district_multiples(trends, identified)
    if not model.said_missing(section, by_year, "identified_by_year", "Identified districts, year by year",
                                "No year had the indicators needed to identify districts."):
        section.tables.append(every_year.identified_by_year_table(by_year))
    return section

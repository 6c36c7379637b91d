"""Report tables of section 11 (Today's EdSight): did the improvement last, and which years have no data."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.reporting.model import Column, ReportTable


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
    return ReportTable(
        "data_coverage", "Years with no data, and why",
        "'No test': no Smarter Balanced test was given; 'not published': CSDE published no such results; 'not in "
        "the source': the export folder holds no file for that year (it may exist on EdSight).",
        "data_coverage",
        [Column("family", "Export"), Column("years", "School year"), Column("status", "Status"),
         Column("reason", "Why")],
        rows.reset_index(drop=True),
    )

"""Group equity: subgroup proficiency and gaps (methodology section 10). Each asset calls the pure function of the
same name.

    subgroup_proficiency  -> methods.equity.subgroup_proficiency
    subgroup_gaps         -> methods.equity.subgroup_gaps
    subgroup_gap_summary  -> methods.equity.subgroup_gap_summary
    subgroup_gap_changes  -> methods.equity.subgroup_gap_changes
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, reason_unavailable, table_asset, unavailable
from alliance_pipeline.defs.common.groups import EQUITY
from alliance_pipeline.defs.common.metadata import preview, years_in
from alliance_pipeline.edsight.families import SUBGROUP_FAMILIES
from alliance_pipeline.methods import equity

CODE_VERSION = "beyond-1"


def subgroup_export_asset(compute, description: str, metadata, preview_columns: list[str]) -> dg.AssetsDefinition:
    """A section 10 table computed from the four subgroup families (every stored year) and the cohort.

    ``compute`` is the pure function of the same name, called with family -> school year -> raw table;
    ``metadata(frame)`` gives the asset's own metadata. Unavailable, with the reason, when no subgroup
    export was loaded.
    """
    name = compute.__name__

    def asset(
        context: dg.AssetExecutionContext,
        raw_sbac_subgroup_race: dict[str, pd.DataFrame],
        raw_sbac_subgroup_ell: dict[str, pd.DataFrame],
        raw_sbac_subgroup_special_education: dict[str, pd.DataFrame],
        raw_sbac_subgroup_meal: dict[str, pd.DataFrame],
        alliance_cohort: pd.DataFrame,
    ):
        tables = (raw_sbac_subgroup_race, raw_sbac_subgroup_ell, raw_sbac_subgroup_special_education, raw_sbac_subgroup_meal)
        raw = dict(zip(SUBGROUP_FAMILIES, tables, strict=True))
        frame = compute(raw, alliance_cohort["district_code"])
        if not any(raw.values()):
            frame = unavailable(frame, "no subgroup exports (sbac-district-subgroups/) have been loaded")
        yield from finish(context, frame, metadata(frame), preview_columns)

    asset.__name__ = name
    return table_asset(EQUITY, description, CODE_VERSION)(asset)


subgroup_proficiency = subgroup_export_asset(
    equity.subgroup_proficiency,
    "Section 10: proficiency (Level 3&4 Met or Exceeded / scored x 100) of each group per district, subject and "
    "school year; meal eligible = F + R counts; a suppressed count makes the group unavailable, with the reason.",
    lambda frame: {
        "years": years_in(frame, "school_year"),
        "groups": ", ".join(equity.GROUPS),
        "groups_with_proficiency": int(frame["available"].astype(bool).sum()) if len(frame) else 0,
        "suppressed_or_incomplete": int((~frame["available"].astype(bool)).sum()) if len(frame) else 0,
    },
    ["school_year", "district_name", "subject", "group", "scored", "met", "proficiency", "unavailable_reason"],
)


subgroup_gap_summary = subgroup_export_asset(
    equity.subgroup_gap_summary,
    "Section 10: the five gaps for the whole state, the cohort and the other districts per subject and school "
    "year, from the summed published counts (rows with a suppressed count are missing from the sums, counted).",
    lambda frame: {
        "years": years_in(frame, "school_year"), "scopes": ", ".join(equity.SCOPES),
        "summary": preview(frame, rows=40, columns=["school_year", "scope", "subject", "gap", "gap_value", "rows_left_out"]),
    },
    ["school_year", "scope", "subject", "gap", "reference_proficiency", "focal_proficiency", "gap_value"],
)


@table_asset(
    EQUITY,
    "Section 10: the five gaps (White - Black, White - Hispanic, not eligible - meal eligible, not ELL - ELL, "
    "not special education - special education) per district, subject and school year; excluded with the reason "
    "when a group's count is suppressed or absent, never a gap of 0.",
    CODE_VERSION,
)


def subgroup_gaps(context: dg.AssetExecutionContext, subgroup_proficiency: pd.DataFrame):
    frame = equity.subgroup_gaps(subgroup_proficiency)
    reason = reason_unavailable(subgroup_proficiency)
    if reason:
        frame = unavailable(frame, reason)
    counts = frame.groupby(["gap", "excluded"]).size().unstack(fill_value=0) if len(frame) else pd.DataFrame()
    yield from finish(context, frame,
        {
            "years": years_in(frame, "school_year"),
            "gaps_computed": int((~frame["excluded"].astype(bool)).sum()) if len(frame) else 0,
            "gaps_excluded": int(frame["excluded"].astype(bool).sum()) if len(frame) else 0,
            "per_gap": preview(counts.rename(columns={False: "computed", True: "excluded"}).reset_index(), rows=10)
            if len(counts) else dg.MetadataValue.md("_no rows_"),
        },
        ["school_year", "district_name", "subject", "gap", "reference_proficiency", "focal_proficiency", "gap_value",
         "exclusion_reason"],
    )


@table_asset(
    EQUITY,
    "Section 10: the change of each gap between consecutive school years (negative = the gap narrowed), per "
    "district and for the state, the cohort and the other districts.",
    CODE_VERSION,
)


def subgroup_gap_changes(
    context: dg.AssetExecutionContext, subgroup_gaps: pd.DataFrame, subgroup_gap_summary: pd.DataFrame
):
    frame = equity.subgroup_gap_changes(subgroup_gaps, subgroup_gap_summary)
    reason = reason_unavailable(subgroup_gaps)
    if not reason and frame.empty:
        reason = f"a gap change needs two consecutive school years of subgroup exports (have: {years_in(subgroup_gaps, 'school_year')})"
    if reason:
        frame = unavailable(frame, reason)
    yield from finish(context, frame,
        {
            "year_pairs": ", ".join(f"{a} to {b}" for a, b in frame[["start_year", "end_year"]].drop_duplicates()
                                    .itertuples(index=False)) or "none",
            "changes_computed": int((~frame["excluded"].astype(bool)).sum()) if len(frame) else 0,
        },
        ["scope", "district_name", "subject", "gap", "start_year", "end_year", "gap_start", "gap_end", "change"],
    )

"""How the Alliance Districts are doing now (methodology section 13). Each asset calls the pure function of the
same name in ``methods.current``.

    group now
    sbac_share_met  -> methods.current.share_met
    doing_now       -> methods.current.doing_now
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, table_asset, unavailable
from alliance_pipeline.defs.common.groups import NOW
from alliance_pipeline.defs.common.metadata import preview, settings
from alliance_pipeline.defs.common.resources import MethodSettings
from alliance_pipeline.methods import current, designations, districts
from alliance_pipeline.reference import load_gaps

CODE_VERSION = "now-1"


@table_asset(
    NOW,
    "Section 13: every district's share of students meeting the standard (Level 3 and 4) per school year and "
    "subject, grades 3-8, from EdSight's all-grades-combined export; the state's share summed from the same "
    "export's districts, with its coverage; the distance between them.",
    CODE_VERSION,
)
def sbac_share_met(
    context: dg.AssetExecutionContext,
    raw_sbac_district_combined: dict[str, pd.DataFrame],
    raw_sbac_district: dict[str, pd.DataFrame],
):
    by_grade = {year: frame for year, frame in raw_sbac_district.items() if year in current.GRADE_11_YEARS}
    frame = current.share_met(raw_sbac_district_combined, by_grade)
    if frame.empty:
        frame = unavailable(frame, "no all-grades-combined Smarter Balanced export (sbac-district-combined/) is held")
    state = frame.drop_duplicates(["school_year", "subject"]) if len(frame) else frame
    yield from finish(context, frame, {
        "years": ", ".join(state["school_year"].drop_duplicates()) if len(state) else "none",
        "state": preview(state, rows=40, columns=["school_year", "subject", "grades", "state_share", "state_districts",
                                                  "state_coverage_pct"]) if len(state) else "none",
    }, ["school_year", "district_name", "subject", "share_met", "state_share", "distance_to_state"])


@table_asset(
    NOW,
    "Section 13: how they are doing now: the current cohort's and the study's identified districts' share meeting "
    "the standard, its distance to the state in every year to the newest, gap years with their reason, and the "
    "changes since the group's first year and the study's end year, each over one set of districts.",
    CODE_VERSION,
)
def doing_now(
    context: dg.AssetExecutionContext,
    sbac_share_met: pd.DataFrame,
    alliance_designations: pd.DataFrame,
    cohort_by_year: pd.DataFrame,
    study_identified_districts: pd.DataFrame,
    district_names: pd.DataFrame,
    method: MethodSettings,
):
    gaps = load_gaps("sbac_district_combined")
    newest = str(sbac_share_met["school_year"].max()) if len(sbac_share_met) else None
    groups = {}
    cohort = designations.current_cohort(alliance_designations, cohort_by_year)  # as the report names it
    if len(cohort):
        groups[f"the {cohort['cohort'].iloc[0]} cohort (current)"] = (set(cohort["district_code"]),
                                                                      str(cohort["first_year"].iloc[0]))
    if len(study_identified_districts):
        groups[f"the study's {len(study_identified_districts)} identified districts"] = (set(study_identified_districts["district_code"]),
                                                      method.change_start_year)
    frame = current.doing_now(sbac_share_met, groups, gaps, method.change_end_year,
                              districts.newest_names(district_names)) if newest else pd.DataFrame()
    if frame.empty:
        frame = unavailable(frame.reindex(columns=current.NOW_COLUMNS),
                            sbac_share_met.attrs.get("unavailable") or "no group of districts to follow")
    pooled = frame[frame["district_code"].isna() & (frame["school_year"] == newest)] if len(frame) else frame
    yield from finish(context, frame, {
        **settings(study_end_year=method.change_end_year),
        "newest_year": newest or "none",
        "groups": ", ".join(groups) or "none",
        "newest": preview(pooled, rows=10, columns=["group", "subject", "share_met", "state_share", "distance_to_state",
                                                    "distance_change_since_first",
                                                    "distance_change_since_study_end"]) if len(pooled) else "none",
    }, ["group", "district_name", "subject", "school_year", "status", "share_met", "distance_to_state"])

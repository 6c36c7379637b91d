"""Group every_year: the study's method on every later school year (methodology sections 8 and 11). Each asset calls
the pure function of the same name.

    identified_by_year  -> methods.yearly.identified_by_year
    sbac_score_trends   -> methods.yearly.sbac_score_trends
    did_it_last         -> methods.yearly.did_it_last

A new school year's exports extend every table here with no code change: each reads every stored year of what it
depends on.
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, reason_unavailable, table_asset, unavailable
from alliance_pipeline.defs.common.groups import EVERY_YEAR
from alliance_pipeline.defs.common.metadata import preview, settings, years_in
from alliance_pipeline.defs.common.resources import MethodSettings
from alliance_pipeline.methods import designations, districts, yearly

# The code versions these assets had before the folders followed the UI's groups (unchanged: same method).
CODE_VERSION = "beyond-1"
DID_IT_LAST_CODE_VERSION = "today-1"


@table_asset(
    EVERY_YEAR,
    "Section 8: the identified districts (section 5) of every end year the instance holds, from the indicators "
    "that exist for that year (SBAC change from the year held before y, growth rate of y, T-score change base "
    "to y), ranked within that year's cohort (section 11), each row listing what its year's set was built from.",
    CODE_VERSION,
)


def identified_by_year(
    context: dg.AssetExecutionContext,
    sbac_yearly_changes: pd.DataFrame,
    raw_sbac_growth: dict[str, pd.DataFrame],
    t_scores: pd.DataFrame,
    cohort_by_year: pd.DataFrame,
    district_names: pd.DataFrame,
    method: MethodSettings,
):
    t = None if reason_unavailable(t_scores) else t_scores
    frame = yearly.identified_by_year(
        sbac_yearly_changes, raw_sbac_growth, t, designations.cohort_codes(cohort_by_year), method.t_base_year,
        method.top_n, method.suppression_scope,
    )
    frame = designations.with_cohort(districts.with_newest_names(frame, districts.newest_names(district_names)),
                                     cohort_by_year, "end_year")
    if frame.empty:
        frame = unavailable(frame, "no school year has an SBAC change or a growth report to rank")
    built = frame.drop_duplicates("end_year")[["end_year", "change_start_year", "years_apart", "cohort", "built_from",
                                                "not_available"]]
    yield from finish(context, frame,
        {
            **settings(top_n=method.top_n, t_base_year=method.t_base_year, suppression_scope=method.suppression_scope),
            "end_years": years_in(frame, "end_year"),
            "identified_per_year": dg.MetadataValue.md(
                "\n".join(f"- **{year}**: {count}" for year, count in frame.groupby("end_year").size().items()) or "none"
            ),
            "built_from": preview(built, rows=20),
        },
        ["end_year", "district_code", "district_name", "indicators", "ranks"],
    )


@table_asset(
    EVERY_YEAR,
    "Section 8: every district's weighted SBAC score per subject and year against the statewide and the "
    "cohort's test-taker-weighted means (section 4.2's population; each year's own cohort, section 11).",
    CODE_VERSION,
)


def sbac_score_trends(
    context: dg.AssetExecutionContext,
    sbac_district_scores: dict[str, pd.DataFrame],
    cohort_by_year: pd.DataFrame,
    district_names: pd.DataFrame,
    method: MethodSettings,
):
    frame = yearly.sbac_score_trends(sbac_district_scores, designations.cohort_codes(cohort_by_year),
                                     method.moments_population)
    frame = designations.with_cohort(districts.with_newest_names(frame, districts.newest_names(district_names)),
                                     cohort_by_year, "school_year")
    if frame.empty:
        frame = unavailable(frame, "no SBAC district scores")
    gap = frame.drop_duplicates(["school_year", "subject"])[
        ["school_year", "subject", "state_mean", "cohort_mean", "cohort_distance_to_state"]]
    yield from finish(context, frame,
        {
            **settings(moments_population=method.moments_population, grades=method.grades),
            "years": years_in(frame, "school_year"),
            "cohort_gap_to_state": preview(gap.sort_values(["subject", "school_year"]), rows=40),
        },
        ["school_year", "district_code", "district_name", "subject", "score", "state_mean", "distance_to_state"],
    )


# --- section 9: robustness -------------------------------------------------------------------------


@table_asset(
    EVERY_YEAR,
    "Section 11, did it last? For each district the study identified and each district identified in a later "
    "year: its distance to the state in every later year, the change of that distance to the newest year, and "
    "whether it was identified again.",
    DID_IT_LAST_CODE_VERSION,
)


def did_it_last(
    context: dg.AssetExecutionContext,
    identified_districts: pd.DataFrame,
    identified_by_year: pd.DataFrame,
    sbac_score_trends: pd.DataFrame,
    method: MethodSettings,
):
    frame = yearly.did_it_last(identified_districts, identified_by_year, sbac_score_trends, method.change_end_year)
    if frame.empty:
        frame = unavailable(frame, "no identified district has a distance to the state (no SBAC scores)")
    newest = frame.drop_duplicates(["district_code", "identified_end_year", "subject"]) if len(frame) else frame
    yield from finish(context, frame, {
        **settings(study_end_year=method.change_end_year),
        "newest_year": str(frame["newest_year"].iloc[0]) if len(frame) else "none",
        "identifications": int(newest[["district_code", "identified_end_year"]].drop_duplicates().shape[0]) if len(frame) else 0,
        "change_to_newest": preview(newest, rows=40, columns=["identified_end_year", "district_name", "subject",
                                                              "distance_at_identification", "distance_newest",
                                                              "change_to_newest"]),
    }, ["identified_end_year", "district_name", "subject", "school_year", "distance_to_state", "change_to_newest"])

"""Beyond the study (methodology sections 8-10). Each asset calls the pure function of the same name.

    group every_year
    identified_by_year         -> methods.yearly.identified_by_year
    sbac_score_trends          -> methods.yearly.sbac_score_trends
    group robustness
    identification_robustness  -> methods.robustness.identification_robustness
    identification_margins     -> methods.robustness.identification_margins
    group equity
    subgroup_proficiency       -> methods.equity.subgroup_proficiency
    subgroup_gaps              -> methods.equity.subgroup_gaps
    subgroup_gap_summary       -> methods.equity.subgroup_gap_summary
    subgroup_gap_changes       -> methods.equity.subgroup_gap_changes

A new school year's exports extend every table here with no code change: each
reads every stored year of what it depends on.
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, reason_unavailable, table_asset, unavailable
from alliance_pipeline.defs.common.metadata import preview, settings
from alliance_pipeline.defs.common.resources import MethodSettings
from alliance_pipeline.edsight.families import SUBGROUP_FAMILIES, sort_years
from alliance_pipeline.methods import designations, districts, equity, robustness, yearly

CODE_VERSION = "beyond-1"


def _years(frame: pd.DataFrame, column: str) -> str:
    return ", ".join(sort_years(frame[column].dropna().unique())) if len(frame) else "none"


# --- section 8: every school year ---------------------------------------------------------------


@table_asset(
    "every_year",
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
    yield from finish(
        context, "identified_by_year", frame,
        {
            **settings(top_n=method.top_n, t_base_year=method.t_base_year, suppression_scope=method.suppression_scope),
            "end_years": _years(frame, "end_year"),
            "identified_per_year": dg.MetadataValue.md(
                "\n".join(f"- **{year}**: {count}" for year, count in frame.groupby("end_year").size().items()) or "none"
            ),
            "built_from": preview(built, rows=20),
        },
        ["end_year", "district_code", "district_name", "indicators", "ranks"],
    )


@table_asset(
    "every_year",
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
    yield from finish(
        context, "sbac_score_trends", frame,
        {
            **settings(moments_population=method.moments_population, grades=method.grades),
            "years": _years(frame, "school_year"),
            "cohort_gap_to_state": preview(gap.sort_values(["subject", "school_year"]), rows=40),
        },
        ["school_year", "district_code", "district_name", "subject", "score", "state_mean", "distance_to_state"],
    )


# --- section 9: robustness -------------------------------------------------------------------------


def _robustness_settings(method: MethodSettings) -> dict:
    return settings(
        grades=method.grades, suppression_scope=method.suppression_scope, moments_population=method.moments_population,
        top_n=method.top_n, change_years=f"{method.change_start_year} to {method.change_end_year}",
        growth_year=method.growth_year, t_years=f"{method.t_base_year} to {method.t_end_year}",
        cmt_reference_year=method.cmt_reference_year,
    )


def robustness_asset(compute, description: str, metadata, preview_columns: list[str]) -> dg.AssetsDefinition:
    """A section 9 table: ``compute`` (the pure function of the same name) on every stored year of the raw SBAC,
    CMT and growth exports, with the ``method`` resource's settings as the default; ``metadata(frame, default)``
    gives the asset's own metadata."""
    name = compute.__name__

    def asset(
        context: dg.AssetExecutionContext,
        raw_sbac_district: dict[str, pd.DataFrame],
        raw_cmt_district: dict[str, pd.DataFrame],
        raw_sbac_growth: dict[str, pd.DataFrame],
        alliance_cohort: pd.DataFrame,
        method: MethodSettings,
    ):
        inputs = robustness.Inputs(raw_sbac_district, raw_cmt_district, raw_sbac_growth, alliance_cohort,
                                   method.cmt_reference_year, method.t_base_year)
        default = robustness.Settings(
            tuple(sorted(method.grades)), method.suppression_scope, method.moments_population, method.top_n
        )
        study = robustness.study_analysis(
            method.change_start_year, method.change_end_year, method.growth_year, method.t_end_year
        )
        frame = compute(inputs, default, study)
        if frame.empty:
            frame = unavailable(frame, "no indicator could be ranked for any year (no SBAC pair and no growth report)")
        yield from finish(context, name, frame, {**_robustness_settings(method), **metadata(frame, default)},
                          preview_columns)

    asset.__name__ = name
    return table_asset("robustness", description, CODE_VERSION)(asset)


def _label_counts(frame: pd.DataFrame) -> dg.MetadataValue:
    identified = frame[frame["identified_default"]]
    return dg.MetadataValue.md(
        "\n".join(f"- **{label}**: {count}" for label, count in identified["label"].value_counts().items()) or "none"
    )


identification_robustness = robustness_asset(
    robustness.identification_robustness,
    "Section 9: how often each cohort district is identified across the variants of grade scope, suppression "
    "scope, moments population, top N and leave-one-grade-out (robust >= 0.8, fragile < 0.5), for the study's "
    "year pair and every end year.",
    lambda frame, default: {
        "variants": len(robustness.variants(default)),
        "variant_names": dg.MetadataValue.md("\n".join(f"- {v.name}" for v in robustness.variants(default))),
        "analyses": ", ".join(frame["analysis"].drop_duplicates()) or "none",
        "identified_by_label": _label_counts(frame),
    },
    ["analysis", "district_code", "district_name", "identified_default", "selection_frequency", "label"],
)


identification_margins = robustness_asset(
    robustness.identification_margins,
    "Section 9: each cohort district's distance to the cut-off of every indicator in the default setting, in the "
    "indicator's units and in cohort standard deviations, for the study's year pair and every end year.",
    lambda frame, default: {
        "indicators": ", ".join(frame["indicator"].drop_duplicates()) or "none",
        "study_selected_margins": preview(
            frame[frame["is_study"] & frame["selected"].astype(bool)], rows=30,
            columns=["indicator", "rank_cohort", "district_name", "value", "margin", "margin_sd"],
        ),
    },
    ["analysis", "indicator", "rank_cohort", "district_name", "value", "margin", "margin_sd"],
)


# --- section 10: equity --------------------------------------------------------------------------------


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
        yield from finish(context, name, frame, metadata(frame), preview_columns)

    asset.__name__ = name
    return table_asset("equity", description, CODE_VERSION)(asset)


subgroup_proficiency = subgroup_export_asset(
    equity.subgroup_proficiency,
    "Section 10: proficiency (Level 3&4 Met or Exceeded / scored x 100) of each group per district, subject and "
    "school year; meal eligible = F + R counts; a suppressed count makes the group unavailable, with the reason.",
    lambda frame: {
        "years": _years(frame, "school_year"),
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
        "years": _years(frame, "school_year"), "scopes": ", ".join(equity.SCOPES),
        "summary": preview(frame, rows=40, columns=["school_year", "scope", "subject", "gap", "gap_value", "rows_left_out"]),
    },
    ["school_year", "scope", "subject", "gap", "reference_proficiency", "focal_proficiency", "gap_value"],
)


@table_asset(
    "equity",
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
    yield from finish(
        context, "subgroup_gaps", frame,
        {
            "years": _years(frame, "school_year"),
            "gaps_computed": int((~frame["excluded"].astype(bool)).sum()) if len(frame) else 0,
            "gaps_excluded": int(frame["excluded"].astype(bool).sum()) if len(frame) else 0,
            "per_gap": preview(counts.rename(columns={False: "computed", True: "excluded"}).reset_index(), rows=10)
            if len(counts) else dg.MetadataValue.md("_no rows_"),
        },
        ["school_year", "district_name", "subject", "gap", "reference_proficiency", "focal_proficiency", "gap_value",
         "exclusion_reason"],
    )


@table_asset(
    "equity",
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
        reason = f"a gap change needs two consecutive school years of subgroup exports (have: {_years(subgroup_gaps, 'school_year')})"
    if reason:
        frame = unavailable(frame, reason)
    yield from finish(
        context, "subgroup_gap_changes", frame,
        {
            "year_pairs": ", ".join(f"{a} to {b}" for a, b in frame[["start_year", "end_year"]].drop_duplicates()
                                    .itertuples(index=False)) or "none",
            "changes_computed": int((~frame["excluded"].astype(bool)).sum()) if len(frame) else 0,
        },
        ["scope", "district_name", "subject", "gap", "start_year", "end_year", "gap_start", "gap_end", "change"],
    )

"""Group identification, the statute's designations (methodology sections 11 and 13). Each asset calls the pure
function of the same name.

    alliance_designations  -> methods.designations.alliance_designations
    cohort_by_year         -> methods.designations.cohort_by_year
    watch_list             -> methods.designations.watch_list
    designation_what_if    -> methods.designations.designation_what_if
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, table_asset, unavailable
from alliance_pipeline.defs.common.groups import IDENTIFICATION
from alliance_pipeline.defs.common.metadata import preview, settings
from alliance_pipeline.defs.common.partitions import held_years
from alliance_pipeline.defs.common.resources import IdentificationSettings
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.methods import designations
from alliance_pipeline.reference import load_gaps
from alliance_pipeline.school_year import starts_of

DESIGNATIONS_CODE_VERSION = "today-1"  # their code version from before the folders followed the UI's groups


def _rule(s: IdentificationSettings) -> designations.Rule:
    return designations.Rule(s.index_year, s.designation_year, s.enrollment_threshold, s.lowest_n,
                             s.prior_first_year, s.prior_last_year)


@table_asset(
    IDENTIFICATION,
    "Section 13: Alliance Districts as C.G.S. 10-262u designates them, in five-year cohorts (FY2013: the study's "
    "30; FY2018: section 6 on the 2015-16 index; FY2023: on the newest index published before it, plus every "
    "earlier designee), each district's steps and reasons, the statute's count beside the computed one, and each "
    "cohort's Opportunity Districts.",
    DESIGNATIONS_CODE_VERSION,
)


def alliance_designations(
    context: dg.AssetExecutionContext,
    raw_enrollment: dict[str, pd.DataFrame],
    raw_accountability: dict[str, pd.DataFrame],
    alliance_cohort: pd.DataFrame,
    identification_settings: IdentificationSettings,
):
    rule = _rule(identification_settings)
    frame, notes = designations.alliance_designations(raw_enrollment, raw_accountability, alliance_cohort, rule,
                                                      load_gaps("accountability")["school_year"].tolist())
    for note in notes:
        context.log.warning(note)
    frame.attrs["not_computed"] = notes
    counts = (frame.drop_duplicates("cohort")[["cohort", "first_year", "last_year", "index_year", "statute_count",
                                               "designated_count", "count_matches"]] if len(frame) else frame)
    yield from finish(context, frame, {
        **settings(enrollment_threshold=rule.enrollment_threshold, lowest_n=rule.lowest_n,
                   opportunity_count=designations.OPPORTUNITY_COUNT),
        "cohorts": preview(counts, rows=10) if len(counts) else "none",
        "not_computed": dg.MetadataValue.md("\n".join(f"- {note}" for note in notes) or "none"),
        "counts_differ_from_the_statute": dg.MetadataValue.md(", ".join(
            f"{c} ({n} computed, statute {s})" for c, n, s, ok in counts[["cohort", "designated_count", "statute_count",
                                                                          "count_matches"]].itertuples(index=False)
            if not ok) or "none") if len(counts) else "none",
    }, ["cohort", "index_year", "district_code", "district_name", "accountability_index", "designated",
        "admitted_by", "opportunity"])


@table_asset(
    IDENTIFICATION,
    "Sections 11 and 13: the cohort of each school year held: the statute cohort whose five years include it "
    "(FY2013, the study's 30, before and through 2016-17; FY2018 from 2017-18; FY2023 from 2022-23).",
    DESIGNATIONS_CODE_VERSION, deps=[family.asset_name for family in FAMILIES.values()],
)


def cohort_by_year(
    context: dg.AssetExecutionContext,
    alliance_cohort: pd.DataFrame,
    alliance_designations: pd.DataFrame,
):
    years = sorted({year for family_years in held_years(context.instance).values() for year in family_years})
    frame = designations.cohort_by_year(alliance_cohort, alliance_designations, years)
    if frame.empty:
        frame = unavailable(frame, "no school year is registered")
    per_year = frame.groupby(["school_year", "cohort"]).size().rename("districts").reset_index() if len(frame) else frame
    yield from finish(context, frame, {
        "cohort_per_year": preview(per_year.sort_values("school_year", key=starts_of)
                                   if len(per_year) else per_year, rows=40),
    }, ["school_year", "cohort", "district_code", "district_name"])


@table_asset(
    IDENTIFICATION,
    "Section 13: a watch list on the newest index year (not a designation): towns among the lowest that are not "
    "Alliance Districts of the current cohort, and its Alliance Districts now far from the lowest.",
    DESIGNATIONS_CODE_VERSION,
)


def watch_list(
    context: dg.AssetExecutionContext,
    raw_enrollment: dict[str, pd.DataFrame],
    raw_accountability: dict[str, pd.DataFrame],
    alliance_cohort: pd.DataFrame,
    alliance_designations: pd.DataFrame,
    identification_settings: IdentificationSettings,
):
    s = identification_settings
    frame = designations.watch_list(raw_enrollment, raw_accountability, alliance_cohort, alliance_designations,
                                    _rule(s), s.watch_far_rank)
    if frame.empty:
        frame = unavailable(frame, "no index year has both an accountability export and enrollment, or no cohort "
                            "is designated")
    yield from finish(context, frame, {
        **settings(lowest_n=s.lowest_n, far_rank=s.watch_far_rank, enrollment_threshold=s.enrollment_threshold),
        "index_year": str(frame["index_year"].iloc[0]) if len(frame) else "none",
        "label": "watch list: not a designation (no cohort after FY2023 is defined in law)",
    }, ["watch", "district_name", "accountability_index", "index_rank", "cohort"])


@table_asset(
    IDENTIFICATION,
    "Section 11, a what-if (not a designation): the FY2018 designation (the configured rule) under other rules "
    "(the lowest 25/30/35, an enrollment floor of 500/1,000/2,000, every index year): per alternative, the "
    "districts that enter and leave.",
    DESIGNATIONS_CODE_VERSION,
)


def designation_what_if(
    context: dg.AssetExecutionContext,
    raw_enrollment: dict[str, pd.DataFrame],
    raw_accountability: dict[str, pd.DataFrame],
    alliance_cohort: pd.DataFrame,
    identification_settings: IdentificationSettings,
):
    s = identification_settings
    frame = designations.designation_what_if(raw_enrollment, raw_accountability, alliance_cohort, _rule(s),
                                             s.what_if_lowest_n, s.what_if_enrollment_thresholds)
    if frame.empty:
        frame = unavailable(frame, f"no accountability export and enrollment for the configured index year {s.index_year}")
    yield from finish(context, frame, {
        **settings(index_year=s.index_year, lowest_n=s.what_if_lowest_n,
                   enrollment_thresholds=s.what_if_enrollment_thresholds),
        "alternatives": len(frame),
    }, ["alternative", "designated", "entering_districts", "leaving_districts"])

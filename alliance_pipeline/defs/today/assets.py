"""Today's EdSight (methodology section 11). Each asset calls the pure function of the same name.

    group ingest
    district_names         -> methods.districts.district_names
    rows_without_code      -> methods.districts.rows_without_code
    data_coverage          -> methods.districts.data_coverage
    group identification
    alliance_designations  -> methods.designations.alliance_designations
    cohort_by_year         -> methods.designations.cohort_by_year
    watch_list             -> methods.designations.watch_list
    designation_what_if    -> methods.designations.designation_what_if
    group every_year
    did_it_last            -> methods.yearly.did_it_last
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, table_asset, unavailable
from alliance_pipeline.defs.common.metadata import preview, settings
from alliance_pipeline.defs.common.resources import IdentificationSettings, MethodSettings
from alliance_pipeline.edsight.families import FAMILIES, sort_years
from alliance_pipeline.methods import designations, districts, yearly
from alliance_pipeline.paths import EDSIGHT_GAPS
from alliance_pipeline.reference import load_gaps

CODE_VERSION = "today-1"
RAW_INS = {family.asset_name: dg.AssetIn() for family in FAMILIES.values()}


def _raw(tables: dict) -> dict[str, dict[str, pd.DataFrame]]:
    """family -> school year -> raw table, from the raw assets' inputs (keyword raw_<family>)."""
    return {family.name: tables.get(family.asset_name) or {} for family in FAMILIES.values()}


def _rule(s: IdentificationSettings) -> designations.Rule:
    return designations.Rule(s.index_year, s.designation_year, s.enrollment_threshold, s.lowest_n,
                             s.prior_first_year, s.prior_last_year)


def _held_years(context: dg.AssetExecutionContext) -> dict[str, list[str]]:
    """family -> the school years registered (read and named correctly) on this instance."""
    return {name: sort_years(context.instance.get_dynamic_partitions(family.partitions_name))
            for name, family in FAMILIES.items()}


@table_asset(
    "ingest",
    "Section 11: every district code with every name the exports give it, the first and last school year of each "
    "name; a renamed district keeps its code and every table shows the name of the newest year held (newest).",
    CODE_VERSION, ins=RAW_INS,
)
def district_names(context: dg.AssetExecutionContext, **raw: dict[str, pd.DataFrame]):
    frame = districts.district_names(_raw(raw))
    renamed = frame[frame["district_code"].duplicated(keep=False)]
    if frame.empty:
        frame = unavailable(frame, "no export with district names has been loaded")
    yield from finish(context, "district_names", frame, {
        "codes": int(frame["district_code"].nunique()) if len(frame) else 0,
        "renamed_codes": int(renamed["district_code"].nunique()),
        "renames": preview(renamed, rows=40, columns=["district_code", "district_name", "first_year", "last_year", "newest"]),
    }, ["district_code", "district_name", "first_year", "last_year", "newest"])


@table_asset(
    "ingest",
    "Section 11: named rows EdSight published with a blank district code (a state agency, newly opened districts): "
    "real data, listed with the export row and values, kept out of every per-district table (nothing can join them).",
    CODE_VERSION, ins=RAW_INS,
)
def rows_without_code(context: dg.AssetExecutionContext, **raw: dict[str, pd.DataFrame]):
    frame = districts.rows_without_code(_raw(raw))
    yield from finish(context, "rows_without_code", frame, {
        "rows": len(frame),
        "by_export": dg.MetadataValue.md("\n".join(
            f"- {family} {year}: {count}" for (family, year), count in
            frame.groupby(["family", "school_year"]).size().items()) or "none"),
    }, ["family", "school_year", "district_name", "source_row", "values"])


@table_asset(
    "ingest",
    "Section 11: per export family, every school year from its first export to the newest year held, and why a "
    "year has no data ('no test', 'not published', 'not in the source'; data/reference/edsight-gaps.csv).",
    CODE_VERSION, deps=[family.asset_name for family in FAMILIES.values()],
)
def data_coverage(context: dg.AssetExecutionContext):
    held = _held_years(context)
    years = [year for family_years in held.values() for year in family_years]
    frame = districts.data_coverage(held, load_gaps(), sort_years(years)[-1] if years else None)
    missing = frame[~frame["held"]]
    yield from finish(context, "data_coverage", frame, {
        "gaps_reference": dg.MetadataValue.path(str(EDSIGHT_GAPS)),
        "newest_year": sort_years(years)[-1] if years else "none",
        "years_without_data": preview(missing, rows=80, columns=["family", "school_year", "status", "reason"]),
    }, ["family", "school_year", "held", "status", "reason"])


@table_asset(
    "identification",
    "Section 13: Alliance Districts as C.G.S. 10-262u designates them, in five-year cohorts (FY2013: the study's "
    "30; FY2018: section 6 on the 2015-16 index; FY2023: on the newest index published before it, plus every "
    "earlier designee), each district's steps and reasons, the statute's count beside the computed one, and each "
    "cohort's Opportunity Districts.",
    CODE_VERSION,
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
    yield from finish(context, "alliance_designations", frame, {
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
    "identification",
    "Sections 11 and 13: the cohort of each school year held: the statute cohort whose five years include it "
    "(FY2013, the study's 30, before and through 2016-17; FY2018 from 2017-18; FY2023 from 2022-23).",
    CODE_VERSION, deps=[family.asset_name for family in FAMILIES.values()],
)
def cohort_by_year(
    context: dg.AssetExecutionContext,
    alliance_cohort: pd.DataFrame,
    alliance_designations: pd.DataFrame,
):
    years = sorted({year for family_years in _held_years(context).values() for year in family_years})
    frame = designations.cohort_by_year(alliance_cohort, alliance_designations, years)
    if frame.empty:
        frame = unavailable(frame, "no school year is registered")
    per_year = frame.groupby(["school_year", "cohort"]).size().rename("districts").reset_index() if len(frame) else frame
    yield from finish(context, "cohort_by_year", frame, {
        "cohort_per_year": preview(per_year.sort_values("school_year", key=lambda c: c.str[:4].astype(int))
                                   if len(per_year) else per_year, rows=40),
    }, ["school_year", "cohort", "district_code", "district_name"])


@table_asset(
    "identification",
    "Section 13: a watch list on the newest index year (not a designation): towns among the lowest that are not "
    "Alliance Districts of the current cohort, and its Alliance Districts now far from the lowest.",
    CODE_VERSION,
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
    yield from finish(context, "watch_list", frame, {
        **settings(lowest_n=s.lowest_n, far_rank=s.watch_far_rank, enrollment_threshold=s.enrollment_threshold),
        "index_year": str(frame["index_year"].iloc[0]) if len(frame) else "none",
        "label": "watch list: not a designation (no cohort after FY2023 is defined in law)",
    }, ["watch", "district_name", "accountability_index", "index_rank", "cohort"])


@table_asset(
    "identification",
    "Section 11, a what-if (not a designation): the FY2018 designation (the configured rule) under other rules "
    "(the lowest 25/30/35, an enrollment floor of 500/1,000/2,000, every index year): per alternative, the "
    "districts that enter and leave.",
    CODE_VERSION,
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
    yield from finish(context, "designation_what_if", frame, {
        **settings(index_year=s.index_year, lowest_n=s.what_if_lowest_n,
                   enrollment_thresholds=s.what_if_enrollment_thresholds),
        "alternatives": len(frame),
    }, ["alternative", "designated", "entering_districts", "leaving_districts"])


@table_asset(
    "every_year",
    "Section 11, did it last? For each district the study identified and each district identified in a later "
    "year: its distance to the state in every later year, the change of that distance to the newest year, and "
    "whether it was identified again.",
    CODE_VERSION,
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
    yield from finish(context, "did_it_last", frame, {
        **settings(study_end_year=method.change_end_year),
        "newest_year": str(frame["newest_year"].iloc[0]) if len(frame) else "none",
        "identifications": int(newest[["district_code", "identified_end_year"]].drop_duplicates().shape[0]) if len(frame) else 0,
        "change_to_newest": preview(newest, rows=40, columns=["identified_end_year", "district_name", "subject",
                                                              "distance_at_identification", "distance_newest",
                                                              "change_to_newest"]),
    }, ["identified_end_year", "district_name", "subject", "school_year", "distance_to_state", "change_to_newest"])

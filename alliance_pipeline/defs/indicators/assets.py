"""Indicator assets (methodology sections 1-5). Each calls the pure function of the same name.

    sbac_district_scores  -> methods.sbac.district_scores
    sbac_score_changes    -> methods.sbac.score_changes
    sbac_yearly_changes   -> methods.sbac.yearly_changes
    growth_rankings       -> methods.growth.growth_rankings
    cmt_district_scores   -> methods.tscores.cmt_district_scores
    statewide_moments     -> methods.tscores.statewide_moments
    t_scores              -> methods.tscores.t_scores
    t_score_changes       -> methods.tscores.t_score_changes
    identified_districts  -> methods.identified_districts.identified_districts (imported as section_5)

An indicator whose inputs are absent (for example no CMT exports) is stored as
an empty table whose ``attrs["unavailable"]`` and metadata say why; the assets
after it carry that reason on, and ``identified_districts`` lists it.
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import (
    by_year,
    finish,
    finish_years,
    reason_unavailable,
    table_asset,
    unavailable,
    validated,
)
from alliance_pipeline.defs.common.groups import INDICATORS
from alliance_pipeline.defs.common.metadata import preview, settings
from alliance_pipeline.defs.common.partitions import YEAR_PARTITIONS
from alliance_pipeline.defs.common.resources import MethodSettings
from alliance_pipeline.methods import designations, districts, growth, sbac, tscores
from alliance_pipeline.methods import identified_districts as section_5
from alliance_pipeline.methods.ranking import add_cohort_ranks
from alliance_pipeline.school_year import sort_years

CODE_VERSION = "method-1"


def indicator_asset(description: str, **kwargs):
    return table_asset(INDICATORS, description, CODE_VERSION, **kwargs)


@indicator_asset(
    "Section 1: test-taker-weighted district scale score per subject over the grades in scope.",
    partitions_def=YEAR_PARTITIONS["sbac_district"],
)
def sbac_district_scores(context: dg.AssetExecutionContext, raw_sbac_district,  # one year: its table; a range: {year: table}
                         method: MethodSettings):
    tables, metadata = {}, {}
    for year, raw in by_year(context, raw_sbac_district).items():
        frame = tables[year] = sbac.district_scores(raw, method.grades, participation_threshold=method.participation_threshold)
        metadata[year] = {
            **settings(grades=method.grades, participation_threshold=method.participation_threshold),
            "low_participation": int(frame["low_participation"].sum()),
            "districts": int(frame["district_code"].nunique()),
            "with_suppressed_grades": int((frame["suppressed_grades"].map(len) > 0).sum()),
        }
    yield from finish_years(context, tables, metadata,
                            ["district_code", "district_name", "subject", "score", "n_total", "n_grades", "suppressed_grades"])


def _excluded_markdown(frame: pd.DataFrame) -> dg.MetadataValue:
    excluded = frame[frame["excluded"]].drop_duplicates(["district_code", "exclusion_reason"])
    return preview(excluded, rows=50, columns=["district_code", "district_name", "subject", "exclusion_reason"])


def _top_markdown(frame: pd.DataFrame, value: str, rows: int = 10) -> dg.MetadataValue:
    ranked = frame[frame["rank_cohort"].notna()].sort_values(["subject", "rank_cohort"])
    ranked = ranked.groupby("subject").head(rows)
    return preview(ranked, rows=2 * rows, columns=["subject", "rank_cohort", "district_code", "district_name", value])


@indicator_asset("Section 2: change in the weighted SBAC score between two years, suppression-filtered, ranked in the cohort.")
def sbac_score_changes(
    context: dg.AssetExecutionContext,
    sbac_district_scores: dict[str, pd.DataFrame],
    alliance_cohort: pd.DataFrame,
    method: MethodSettings,
):
    start, end = method.change_start_year, method.change_end_year
    used = settings(start_year=start, end_year=end, suppression_scope=method.suppression_scope, grades=method.grades)
    missing = [year for year in (start, end) if year not in sbac_district_scores]
    if missing:
        frame = unavailable(pd.DataFrame(columns=[*sbac.CHANGE_COLUMNS, "in_cohort", "rank_cohort"]),
                            f"no SBAC district export for {', '.join(missing)}")
        yield from finish(context, frame, used)
        return
    frame = sbac.score_changes(
        sbac_district_scores[start], sbac_district_scores[end], start, end, method.suppression_scope, method.grades
    )
    frame = add_cohort_ranks(frame, alliance_cohort["district_code"])
    yield from finish(context, frame,
        {
            **used,
            "districts_compared": int(frame.loc[~frame["excluded"], "district_code"].nunique()),
            "districts_excluded": int(frame.loc[frame["excluded"], "district_code"].nunique()),
            "excluded": _excluded_markdown(frame),
            "top_in_cohort": _top_markdown(frame, "change"),
        },
        ["district_code", "district_name", "subject", "score_start", "score_end", "change", "excluded"],
    )


@indicator_asset(
    "Section 2 for every two consecutive SBAC years held (2014-15 to 2015-16, ...; a pair across a year with no "
    "test says how many years apart), the cohort of each end year ranked (section 11): a new school year's "
    "export adds its pair with no code change."
)
def sbac_yearly_changes(
    context: dg.AssetExecutionContext,
    sbac_district_scores: dict[str, pd.DataFrame],
    cohort_by_year: pd.DataFrame,
    district_names: pd.DataFrame,
    method: MethodSettings,
):
    frame = sbac.yearly_changes(sbac_district_scores, designations.cohort_codes(cohort_by_year),
                                method.suppression_scope, method.grades)
    frame = designations.with_cohort(districts.with_newest_names(frame, districts.newest_names(district_names)),
                                     cohort_by_year, "end_year")
    pairs = frame[["start_year", "end_year", "years_apart"]].drop_duplicates().itertuples(index=False)
    pairs = [f"{start} to {end}" + (f" ({apart} years apart: ranked on their own)" if apart > 1 else "")
             for start, end, apart in pairs]
    if not pairs:
        frame = unavailable(frame, f"no two consecutive SBAC years (have: {', '.join(sbac_district_scores) or 'none'})")
    yield from finish(context, frame,
        {**settings(suppression_scope=method.suppression_scope, grades=method.grades),
         "year_pairs": ", ".join(pairs) or "none"},
        ["start_year", "end_year", "district_code", "district_name", "subject", "change", "rank_cohort", "excluded"],
    )


@indicator_asset("Section 3: growth rate per district and subject, ranked within the cohort and statewide.")
def growth_rankings(
    context: dg.AssetExecutionContext,
    raw_sbac_growth: dict[str, pd.DataFrame],
    alliance_cohort: pd.DataFrame,
    method: MethodSettings,
):
    year = method.growth_year
    used = settings(growth_year=year)
    if year not in raw_sbac_growth:
        frame = unavailable(pd.DataFrame(columns=growth.GROWTH_COLUMNS), f"no growth report export for {year}")
        yield from finish(context, frame, used)
        return
    frame = growth.growth_rankings(raw_sbac_growth[year], set(alliance_cohort["district_code"]))
    yield from finish(context, frame,
        {
            **used,
            "districts_ranked": int(frame.loc[~frame["excluded"], "district_code"].nunique()),
            "excluded": _excluded_markdown(frame),
            "top_in_cohort": _top_markdown(frame, "growth_rate"),
        },
        ["subject", "rank_state", "rank_cohort", "district_code", "district_name", "growth_rate"],
    )


@indicator_asset(
    "Section 4.1: CMT district scores (Math, Reading, Writing) and the combined ELA score.",
    partitions_def=YEAR_PARTITIONS["cmt_district"],
)
def cmt_district_scores(context: dg.AssetExecutionContext, raw_cmt_district,  # one year: its table; a range: {year: table}
                        method: MethodSettings):
    tables, metadata = {}, {}
    for year, raw in by_year(context, raw_cmt_district).items():
        frame = tables[year] = tscores.cmt_district_scores(raw, method.grades)
        metadata[year] = {**settings(grades=method.grades), "districts": int(frame["district_code"].nunique())}
    yield from finish_years(context, tables, metadata,
                            ["district_code", "district_name", "subject", "score", "n_total", "suppressed_grades"])


def _t_unavailable_reason(cmt: dict, method: MethodSettings) -> str | None:
    if not cmt:
        return "no CMT district exports (raw_cmt_district has no school years)"
    if method.cmt_reference_year not in cmt:
        return f"no CMT district export for the reference year {method.cmt_reference_year}"
    return None


@indicator_asset("Section 4.2: statewide test-taker-weighted mean and sd per year and subject (CMT and SBAC).")
def statewide_moments(
    context: dg.AssetExecutionContext,
    cmt_district_scores: dict[str, pd.DataFrame],
    sbac_district_scores: dict[str, pd.DataFrame],
    method: MethodSettings,
):
    used = settings(moments_population=method.moments_population, cmt_reference_year=method.cmt_reference_year)
    frame = tscores.statewide_moments(tscores.scores_by_year(cmt_district_scores, sbac_district_scores), method.moments_population)
    reason = _t_unavailable_reason(cmt_district_scores, method)
    if reason:
        frame = unavailable(frame, reason)  # SBAC moments are still stored; T-scores cannot be anchored
    yield from finish(context, frame, {**used, "preview": preview(frame, rows=20)})


@indicator_asset("Section 4.3: T-scores per district, subject and year on the CMT scale (SBAC chained from 2014-15).")
def t_scores(
    context: dg.AssetExecutionContext,
    statewide_moments: pd.DataFrame,
    cmt_district_scores: dict[str, pd.DataFrame],
    sbac_district_scores: dict[str, pd.DataFrame],
    method: MethodSettings,
):
    used = settings(cmt_reference_year=method.cmt_reference_year, moments_population=method.moments_population)
    reason = reason_unavailable(statewide_moments)
    if reason:
        frame = unavailable(pd.DataFrame(columns=tscores.T_COLUMNS), reason)
    else:
        frame = tscores.t_scores(
            statewide_moments, tscores.scores_by_year(cmt_district_scores, sbac_district_scores), method.cmt_reference_year
        )
    yield from finish(context, frame, {**used, "years": ", ".join(sort_years(frame["school_year"].dropna().unique()))},
        ["school_year", "district_code", "subject", "score", "z", "t_score"],
    )


@indicator_asset("Section 4.4: long-term change in T-score (default 2011-12 to 2015-16), suppression-filtered.")
def t_score_changes(
    context: dg.AssetExecutionContext, t_scores: pd.DataFrame, alliance_cohort: pd.DataFrame, method: MethodSettings
):
    base, end = method.t_base_year, method.t_end_year
    used = settings(base_year=base, end_year=end, suppression_scope=method.suppression_scope)
    columns = [*tscores.T_CHANGE_COLUMNS, "in_cohort", "rank_cohort"]
    reason = reason_unavailable(t_scores)
    years = set(t_scores["school_year"].dropna())
    if not reason and not {base, end} <= years:
        reason = f"no T-scores for {', '.join(sorted({base, end} - years))}"
    if reason:
        yield from finish(context, unavailable(pd.DataFrame(columns=columns), reason), used)
        return
    frame = add_cohort_ranks(tscores.t_score_changes(t_scores, base, end, method.suppression_scope), alliance_cohort["district_code"])
    yield from finish(context, frame,
        {**used, "excluded": _excluded_markdown(frame), "top_in_cohort": _top_markdown(frame, "change")},
        ["district_code", "district_name", "subject", "t_base", "t_end", "change", "excluded"],
    )


@indicator_asset("Section 5: cohort districts in the top N of any available indicator, with the indicators and ranks.")
def identified_districts(
    context: dg.AssetExecutionContext,
    sbac_score_changes: pd.DataFrame,
    t_score_changes: pd.DataFrame,
    growth_rankings: pd.DataFrame,
    method: MethodSettings,
):
    tables = {"sbac_score_changes": sbac_score_changes, "t_score_changes": t_score_changes, "growth_rankings": growth_rankings}
    upstream = {name: reason_unavailable(table) for name, table in tables.items()}
    selections, frame, missing = section_5.select_and_identify(
        {name: (None if upstream[name] else table) for name, table in tables.items()},
        {name: why for name, why in upstream.items() if why}, method.top_n,
    )
    frame.attrs["unavailable_indicators"] = missing
    frame.attrs["selections"] = selections.to_dict(orient="records")
    yield from validated(context.asset_key, frame)
    yield dg.Output(
        frame,
        metadata={
            **settings(top_n=method.top_n),
            "identified": len(frame),
            "indicators_available": ", ".join(i.name for i in section_5.INDICATORS if i.name not in missing) or "none",
            "indicators_unavailable": dg.MetadataValue.md(
                "\n".join(f"- **{name}**: {why}" for name, why in missing.items()) or "none"
            ),
            "selections": preview(selections, rows=60),
            "preview": preview(frame, rows=30),
        },
    )

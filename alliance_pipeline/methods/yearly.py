"""Section 8: every school year, not only the study's.

- ``identified_by_year``: section 5 for each end year y, from the indicators that
  exist for y (SBAC change y-1 -> y, growth rate of y, T-score change base -> y),
  listing which indicators each year's set was built from.
- ``sbac_score_trends``: per district, subject and year, the section 1 score, the
  statewide test-taker-weighted mean (section 4.2's population), the distance to
  it, and the cohort's weighted mean and its gap to the state.

Every number comes from the section 1-5 functions; nothing is re-implemented here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from alliance_pipeline.methods import growth, tscores
from alliance_pipeline.methods import identified_districts as section_5
from alliance_pipeline.methods.ranking import add_cohort_ranks
from alliance_pipeline.school_year import previous_year, sort_years, start_of, starts_of


@dataclass(frozen=True)
class YearIndicators:
    """The indicator tables of one end year, ready for ``section_5.indicator_selections``."""

    end_year: str
    tables: dict[str, pd.DataFrame | None]  # asset name -> table with rank_cohort, or None
    reasons: dict[str, str]  # asset name -> why it is missing


def indicators_for_year(
    end_year: str,
    pair_changes: pd.DataFrame,
    growth_raw: Mapping[str, pd.DataFrame],
    t_scores: pd.DataFrame | None,
    cohort_codes: Iterable[str],
    t_base_year: str,
    scope: str = "district",
    change_start_year: str | None = None,
    change_end_year: str | None = None,
    growth_year: str | None = None,
) -> YearIndicators:
    """Section 5's three indicator tables for ``end_year``.

    ``pair_changes``: section 2 changes (``sbac.yearly_changes`` or ``score_changes`` + ranks), of which
    the pair ``change_start_year`` -> ``change_end_year`` (default: the year before ``end_year`` -> ``end_year``)
    is used. ``growth_raw``: school year -> raw growth report (``growth_year``, default ``end_year``).
    ``t_scores``: section 4.3 table or None; the T-score change runs ``t_base_year`` -> ``end_year``.
    """
    cohort = set(cohort_codes)
    start = change_start_year or previous_year(end_year)
    change_end = change_end_year or end_year
    growth_year = growth_year or end_year
    tables: dict[str, pd.DataFrame | None] = {}
    reasons: dict[str, str] = {}

    pair = pair_changes[(pair_changes["start_year"] == start) & (pair_changes["end_year"] == change_end)] \
        if len(pair_changes) else pair_changes
    tables["sbac_score_changes"] = pair if len(pair) else None
    if not len(pair):
        reasons["sbac_score_changes"] = f"no SBAC district scores for both {start} and {change_end}"

    if growth_year in growth_raw:
        tables["growth_rankings"] = growth.growth_rankings(growth_raw[growth_year], cohort)
    else:
        tables["growth_rankings"] = None
        reasons["growth_rankings"] = f"no growth report export for {growth_year}"

    years = set(t_scores["school_year"].dropna()) if t_scores is not None and len(t_scores) else set()
    if {t_base_year, end_year} <= years:
        changes = tscores.t_score_changes(t_scores, t_base_year, end_year, scope)
        tables["t_score_changes"] = add_cohort_ranks(changes, cohort)
    else:
        tables["t_score_changes"] = None
        missing = sorted({t_base_year, end_year} - years, key=start_of)
        reasons["t_score_changes"] = (
            "no T-scores (no CMT district exports)" if not years else f"no T-scores for {', '.join(missing)}"
        )
    return YearIndicators(end_year, tables, reasons)


def identify_year(indicators: YearIndicators, top_n: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Section 5 on one year's indicators: (selections, identified districts, unavailable indicator -> why)."""
    return section_5.select_and_identify(indicators.tables, indicators.reasons, top_n)


def end_years(sbac_years: Iterable[str], growth_years: Iterable[str]) -> list[str]:
    """The end years section 8 covers: every SBAC year after the first held (its change is from the year held
    before it, section 11), and every growth year."""
    sbac = sort_years(sbac_years)
    return sort_years(set(sbac[1:]) | set(growth_years))


def held_before(year: str, years: Iterable[str]) -> str:
    """The school year held just before ``year`` (the previous calendar school year when none is held)."""
    earlier = [held for held in sort_years(years) if start_of(held) < start_of(year)]
    return earlier[-1] if earlier else previous_year(year)


BY_YEAR_COLUMNS = ["end_year", "change_start_year", "years_apart", "built_from", "not_available",
                   *section_5.IDENTIFIED_COLUMNS]


def identified_by_year(
    yearly_changes: pd.DataFrame,
    growth_raw: Mapping[str, pd.DataFrame],
    t_scores: pd.DataFrame | None,
    cohort_codes: Iterable[str],
    t_base_year: str,
    top_n: int,
    scope: str = "district",
) -> pd.DataFrame:
    """Section 8: the identified districts of every end year, each row listing the indicators its
    year's set was built from (``built_from``) and those that were not available (``not_available``).

    ``cohort_codes``: the cohort's codes, or a mapping end year -> the codes of that year's cohort (section 11).
    The SBAC change of an end year is from the SBAC year held before it; ``years_apart`` > 1 says it spans a
    year with no test, so that year's list is not comparable with one-year lists."""
    sbac_years = set(yearly_changes["start_year"]) | set(yearly_changes["end_year"]) if len(yearly_changes) else set()
    blocks = []
    for year in end_years(sbac_years, growth_raw):
        start = held_before(year, sbac_years)
        codes = cohort_codes.get(year, ()) if isinstance(cohort_codes, Mapping) else cohort_codes
        indicators = indicators_for_year(year, yearly_changes, growth_raw, t_scores, codes, t_base_year, scope,
                                         change_start_year=start)
        _, identified, missing = identify_year(indicators, top_n)
        if identified.empty:
            continue
        identified.insert(0, "end_year", year)
        identified.insert(1, "change_start_year", start)
        identified.insert(2, "years_apart", start_of(year) - start_of(start))
        identified.insert(3, "built_from", [[i.name for i in section_5.INDICATORS if i.name not in missing]] * len(identified))
        identified.insert(4, "not_available", [[f"{name}: {why}" for name, why in missing.items()]] * len(identified))
        blocks.append(identified)
    if not blocks:
        return pd.DataFrame(columns=BY_YEAR_COLUMNS)
    return pd.concat(blocks, ignore_index=True)[BY_YEAR_COLUMNS]


TREND_COLUMNS = [
    "school_year", "district_code", "district_name", "in_cohort", "subject", "score", "n_total", "state_mean",
    "distance_to_state", "cohort_mean", "cohort_distance_to_state", "low_participation", "partial_grades",
]


def sbac_score_trends(
    scores_by_year: Mapping[str, pd.DataFrame], cohort_codes: Iterable[str], population: str = "all_scored"
) -> pd.DataFrame:
    """Section 8's trend: each district's score against the statewide and cohort weighted means, per year;
    ``partial_grades`` marks a score built without a grade CSDE withheld (B1/B2 leave such a district out).

    The means are section 4.2's (``tscores.statewide_moments``), over the configured population,
    for all districts and for the cohort's districts. ``cohort_codes``: the cohort's codes, or a mapping
    school year -> the codes of that year's cohort (section 11).
    """
    blocks = []
    for year in sort_years(scores_by_year):
        cohort = set(cohort_codes.get(year, ())) if isinstance(cohort_codes, Mapping) else set(cohort_codes)
        scores = scores_by_year[year]
        state = tscores.statewide_moments({year: ("SBAC", scores)}, population)
        in_cohort = scores[scores["district_code"].isin(cohort)]
        cohort_moments = tscores.statewide_moments({year: ("SBAC", in_cohort)}, population)
        block = scores[["district_code", "district_name", "subject", "score", "n_total"]].copy()
        block["low_participation"] = scores["low_participation"].astype(bool).to_numpy() \
            if "low_participation" in scores else False
        block["partial_grades"] = [len(g) > 0 for g in scores["suppressed_grades"]] \
            if "suppressed_grades" in scores else False
        block.insert(0, "school_year", year)
        block["in_cohort"] = block["district_code"].isin(cohort)
        block = block.merge(state[["subject", "mean"]].rename(columns={"mean": "state_mean"}), on="subject", how="left")
        block = block.merge(cohort_moments[["subject", "mean"]].rename(columns={"mean": "cohort_mean"}), on="subject", how="left")
        blocks.append(block)
    if not blocks:
        return pd.DataFrame(columns=TREND_COLUMNS)
    frame = pd.concat(blocks, ignore_index=True)
    for column in ("score", "state_mean", "cohort_mean"):
        frame[column] = frame[column].astype("Float64")
    frame["distance_to_state"] = frame["score"] - frame["state_mean"]
    frame["cohort_distance_to_state"] = frame["cohort_mean"] - frame["state_mean"]
    frame["n_total"] = frame["n_total"].astype("Int64")
    return frame.sort_values(["district_code", "subject", "school_year"]).reset_index(drop=True)[TREND_COLUMNS]


LASTED_COLUMNS = [
    "district_code", "district_name", "identified_in", "identified_end_year", "subject", "school_year",
    "distance_to_state", "distance_at_identification", "newest_year", "distance_newest", "change_to_newest",
    "identified_again", "low_participation",
]


def did_it_last(study_identified: pd.DataFrame, by_year: pd.DataFrame, trends: pd.DataFrame,
                study_end_year: str) -> pd.DataFrame:
    """Section 11's "did it last?": for each district the study identified (its end year ``study_end_year``) and
    each district identified in a later end year (``identified_by_year``), its distance to the state (section 8's
    trend) in its end year and every later year held, the change of that distance from the end year to the newest
    year held (positive: it moved closer to or further above the state), and the later end years in which it was
    identified again.

    One row per identification, subject and school year (from the end year on)."""
    picks = [pd.DataFrame({"district_code": study_identified["district_code"].astype(str),
                           "identified_in": "study", "identified_end_year": study_end_year})]
    if len(by_year):
        later = by_year[by_year["end_year"].map(lambda y: start_of(y) > start_of(study_end_year))]
        picks.append(pd.DataFrame({"district_code": later["district_code"].astype(str),
                                   "identified_in": "later year", "identified_end_year": later["end_year"]}))
    picks = pd.concat(picks, ignore_index=True).drop_duplicates(["district_code", "identified_end_year"])
    if picks.empty or trends.empty:
        return pd.DataFrame(columns=LASTED_COLUMNS)
    again = (by_year.groupby("district_code")["end_year"].agg(lambda years: sort_years(years))
             if len(by_year) else pd.Series(dtype=object))
    rows = picks.merge(trends[["district_code", "district_name", "subject", "school_year", "distance_to_state",
                               "low_participation"]], on="district_code", how="inner")
    start = starts_of(rows["identified_end_year"])
    rows = rows[starts_of(rows["school_year"]) >= start].copy()
    at_end = rows[rows["school_year"] == rows["identified_end_year"]].set_index(
        ["district_code", "identified_end_year", "subject"])["distance_to_state"]
    newest = sort_years(trends["school_year"])[-1]
    at_newest = trends[trends["school_year"] == newest].set_index(["district_code", "subject"])["distance_to_state"]
    keys = pd.MultiIndex.from_frame(rows[["district_code", "identified_end_year", "subject"]])
    rows["distance_at_identification"] = at_end.reindex(keys).to_numpy()
    rows["newest_year"] = newest
    rows["distance_newest"] = at_newest.reindex(pd.MultiIndex.from_frame(rows[["district_code", "subject"]])).to_numpy()
    rows["change_to_newest"] = rows["distance_newest"] - rows["distance_at_identification"]
    rows["identified_again"] = [
        [year for year in again.get(code, []) if start_of(year) > start_of(end)]
        for code, end in zip(rows["district_code"], rows["identified_end_year"])
    ]
    for column in ("distance_to_state", "distance_at_identification", "distance_newest", "change_to_newest"):
        rows[column] = rows[column].astype("Float64")
    rows = rows.sort_values(["identified_end_year", "district_code", "subject", "school_year"],
                            key=lambda c: starts_of(c) if c.name in ("identified_end_year", "school_year") else c)
    return rows.reset_index(drop=True)[LASTED_COLUMNS]

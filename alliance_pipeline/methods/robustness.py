"""Section 9: how robust is the identified set?

- ``identification_robustness``: recompute section 5's identified set under every
  variant of section 9 (grade scope {3-8, 3-5, 6-8} x suppression scope {district,
  subject} x moments population {all_scored, unsuppressed} x top N {N-1, N, N+1},
  plus the default grades minus one grade, other settings default) for the study's
  year pair and each end year of section 8; per cohort district, the share of
  variants that identify it, labelled ``robust`` (>= 0.8), ``fragile`` (< 0.5) or
  ``moderate``.
- ``identification_margins``: per indicator and cohort district, the distance to
  the cut-off in the default setting (selected: value minus the best district not
  selected; others: the last selected value minus its own), in the indicator's
  units and in standard deviations of the indicator over the cohort (sample sd).

Every variant runs the same section 1-5 functions (``sbac``, ``tscores``, ``growth``,
``identified_districts``) with other settings: there is no second implementation of a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from alliance_pipeline.methods import identified_districts as section_5
from alliance_pipeline.methods import sbac, tscores
from alliance_pipeline.methods.grouped import group_lists
from alliance_pipeline.methods.ranking import add_cohort_ranks
from alliance_pipeline.methods.yearly import YearIndicators, end_years, identify_year, indicators_for_year
from alliance_pipeline.school_year import previous_year

GRADE_SCOPES = ((3, 4, 5, 6, 7, 8), (3, 4, 5), (6, 7, 8))
ROBUST_AT = 0.8
FRAGILE_BELOW = 0.5


@dataclass(frozen=True)
class Settings:
    """The section 1-5 choices a variant may change."""

    grades: tuple[int, ...]
    scope: str
    population: str
    top_n: int


@dataclass(frozen=True)
class Variant:
    name: str
    settings: Settings


@dataclass(frozen=True)
class Analysis:
    """One identification: an SBAC change pair, a growth year and a T-score change end year."""

    label: str
    change_start_year: str
    end_year: str
    growth_year: str
    t_end_year: str
    is_study: bool


@dataclass(frozen=True)
class Inputs:
    """What every variant is recomputed from: school year -> raw table per family, the cohort roster
    (``district_code``, ``district_name``) and the two T-score anchor years."""

    sbac_raw: Mapping[str, pd.DataFrame]
    cmt_raw: Mapping[str, pd.DataFrame]
    growth_raw: Mapping[str, pd.DataFrame]
    cohort: pd.DataFrame
    cmt_reference_year: str
    t_base_year: str


def variants(default: Settings) -> list[Variant]:
    """Section 9's variants: the full grid (top N below 1 left out), then leave-one-grade-out."""
    found: list[Variant] = []
    tops = [n for n in (default.top_n - 1, default.top_n, default.top_n + 1) if n >= 1]
    for grades in GRADE_SCOPES:
        for scope in sbac.SCOPES:
            for population in tscores.POPULATIONS:
                for n in tops:
                    name = f"grades {grades[0]}-{grades[-1]}, {scope} scope, {population}, top {n}"
                    found.append(Variant(name, Settings(grades, scope, population, n)))
    for grade in default.grades:
        grades = tuple(g for g in default.grades if g != grade)
        if grades:
            found.append(Variant(f"default without grade {grade}",
                                 Settings(grades, default.scope, default.population, default.top_n)))
    return found


def analyses(sbac_years: Iterable[str], growth_years: Iterable[str], study: Analysis) -> list[Analysis]:
    """The study's pair, and every end year of section 8 (the study's own year once, marked as the study)."""
    found = [study]
    for year in end_years(sbac_years, growth_years):
        candidate = Analysis(year, previous_year(year), year, year, year, False)
        same = (candidate.change_start_year, candidate.end_year, candidate.growth_year, candidate.t_end_year) == (
            study.change_start_year, study.end_year, study.growth_year, study.t_end_year)
        if not same:
            found.append(candidate)
    return found


def _bare(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy(deep=False)
    frame.attrs = {}
    return frame


class _Computation:
    """Section 1-5 tables under a given setting, each computed once and shared by the variants.

    The caches belong to the instance (one per asset run), so nothing outlives the run.
    """

    def __init__(self, inputs: Inputs):
        # Without attrs: pandas deep-copies a frame's attrs (the export's provenance) on every operation.
        self.sbac_raw, self.cmt_raw, self.growth_raw = (
            {year: _bare(frame) for year, frame in tables.items()}
            for tables in (inputs.sbac_raw, inputs.cmt_raw, inputs.growth_raw)
        )
        self.cohort = frozenset(inputs.cohort["district_code"])
        self.cmt_reference_year, self.t_base_year = inputs.cmt_reference_year, inputs.t_base_year
        self.scores = lru_cache(maxsize=None)(self._scores)
        self.cmt_scores = lru_cache(maxsize=None)(self._cmt_scores)
        self.changes = lru_cache(maxsize=None)(self._changes)
        self.t = lru_cache(maxsize=None)(self._t)
        self.year_indicators = lru_cache(maxsize=None)(self._year_indicators)

    def forget(self) -> None:
        """Drop every table computed so far (a grade scope's scores are large at a nation's size)."""
        for cache in (self.scores, self.cmt_scores, self.changes, self.t, self.year_indicators):
            cache.cache_clear()

    def _scores(self, grades: tuple[int, ...]) -> dict[str, pd.DataFrame]:
        return {year: sbac.district_scores(raw, grades) for year, raw in self.sbac_raw.items()}

    def _cmt_scores(self, grades: tuple[int, ...]) -> dict[str, pd.DataFrame]:
        return {year: tscores.cmt_district_scores(raw, grades) for year, raw in self.cmt_raw.items()}

    def _changes(self, grades: tuple[int, ...], scope: str, start: str, end: str) -> pd.DataFrame:
        scores = self.scores(grades)
        if start not in scores or end not in scores:
            return pd.DataFrame(columns=sbac.YEARLY_COLUMNS)
        pair = sbac.score_changes(scores[start], scores[end], start, end, scope, grades)
        return add_cohort_ranks(pair, self.cohort)

    def _t(self, grades: tuple[int, ...], population: str) -> pd.DataFrame | None:
        cmt = self.cmt_scores(grades)
        if self.cmt_reference_year not in cmt:
            return None
        by_year = tscores.scores_by_year(cmt, self.scores(grades))
        moments = tscores.statewide_moments(by_year, population)
        return tscores.t_scores(moments, by_year, self.cmt_reference_year)

    def indicators(self, analysis: Analysis, settings: Settings) -> YearIndicators:
        # top N does not change the indicator tables: the variants that differ only by it share them
        return self.year_indicators(analysis, settings.grades, settings.scope, settings.population)

    def _year_indicators(self, analysis: Analysis, grades: tuple[int, ...], scope: str, population: str) -> YearIndicators:
        settings = Settings(grades, scope, population, 0)
        return indicators_for_year(
            analysis.t_end_year,
            self.changes(settings.grades, settings.scope, analysis.change_start_year, analysis.end_year),
            self.growth_raw, self.t(settings.grades, settings.population), self.cohort, self.t_base_year,
            settings.scope, change_start_year=analysis.change_start_year, change_end_year=analysis.end_year,
            growth_year=analysis.growth_year,
        )


ROBUSTNESS_COLUMNS = [
    "analysis", "is_study", "change_start_year", "end_year", "district_code", "district_name", "identified_default",
    "variants", "times_identified", "selection_frequency", "label", "variants_not_identified",
]


def labels_for(frequency: np.ndarray) -> np.ndarray:
    """``robust`` from ROBUST_AT up, ``fragile`` below FRAGILE_BELOW, ``moderate`` between."""
    frequency = np.asarray(frequency, dtype=float)
    return np.select([frequency >= ROBUST_AT, frequency < FRAGILE_BELOW], ["robust", "fragile"], "moderate").astype(object)


def label_for(frequency: float) -> str:
    return labels_for(np.array([frequency]))[0]


def identification_robustness(inputs: Inputs, default: Settings, study: Analysis) -> pd.DataFrame:
    """Per analysis and cohort district: how often the variants identify it, and its label."""
    work = _Computation(inputs)
    grid = variants(default)
    codes = inputs.cohort["district_code"].drop_duplicates().reset_index(drop=True)
    names = (inputs.cohort.drop_duplicates("district_code", keep="last").set_index("district_code")["district_name"]
             .reindex(codes).to_numpy(dtype=object))
    variant_names = np.array([variant.name for variant in grid] + ["all"], dtype=object)
    studied = analyses(inputs.sbac_raw, inputs.growth_raw, study)
    # per (analysis, variant): the identified codes; one grade scope at a time (the default's first), each
    # scope's tables dropped before the next
    found: dict[tuple[int, int | None], pd.Series] = {}
    for grades in dict.fromkeys([default.grades, *(variant.settings.grades for variant in grid)]):
        for a, analysis in enumerate(studied):
            if grades == default.grades:
                found[a, None] = identify_year(work.indicators(analysis, default), default.top_n)[1]["district_code"]
            for v, variant in enumerate(grid):
                if variant.settings.grades == grades:
                    found[a, v] = identify_year(work.indicators(analysis, variant.settings),
                                                variant.settings.top_n)[1]["district_code"]
        work.forget()
    rows = []
    for a, analysis in enumerate(studied):
        # codes x variants: whether the variant identifies the district
        identified = np.column_stack([codes.isin(found[a, v]) for v in range(len(grid))])
        hits = identified.sum(axis=1)
        # per district the variants that miss it, or "all" when none identifies it
        missed = np.column_stack([~identified & (hits > 0)[:, None], hits == 0])
        row, column = np.nonzero(missed)
        frequency = hits / len(grid)
        rows.append(pd.DataFrame({
            "analysis": analysis.label,
            "is_study": analysis.is_study,
            "change_start_year": analysis.change_start_year,
            "end_year": analysis.end_year,
            "district_code": codes.to_numpy(dtype=object),
            "district_name": names,
            "identified_default": codes.isin(found[a, None]).to_numpy(),
            "variants": len(grid),
            "times_identified": hits,
            "selection_frequency": frequency,
            "label": labels_for(frequency),
            "variants_not_identified": group_lists(row, len(codes), variant_names[column], pa.string()),
        }, columns=ROBUSTNESS_COLUMNS))
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=ROBUSTNESS_COLUMNS)
    if len(frame):
        frame = frame.sort_values(["is_study", "end_year", "selection_frequency", "district_code"],
                                  ascending=[False, True, False, True])
    return frame.reset_index(drop=True)


MARGIN_COLUMNS = [
    "analysis", "is_study", "end_year", "indicator", "district_code", "district_name", "value", "rank_cohort",
    "selected", "cutoff_value", "margin", "cohort_sd", "margin_sd", "margin_sd_note",
]


def spread(values: np.ndarray) -> tuple[float, str | None]:
    """(the sample standard deviation of ``values``, None) or (NaN, why it is undefined): one value, or values
    that are all equal (to the last few bits: a spread of rounding noise is no spread)."""
    if len(values) < 2:
        return np.nan, "one ranked district: a standard deviation needs two"
    sd = float(pd.Series(values).std(ddof=1))
    if not np.isfinite(sd) or sd <= 1e-9 * max(1.0, float(np.nanmax(np.abs(values)))):
        return np.nan, "every ranked district has the same value: no spread to measure the margin in"
    return sd, None


def indicator_margins(indicators: YearIndicators, top_n: int, analysis: Analysis) -> pd.DataFrame:
    """Section 9's margin of every ranked cohort district on every available indicator of one analysis."""
    rows = []
    for indicator in section_5.INDICATORS:
        table = indicators.tables.get(indicator.asset)
        if table is None or table.empty:
            continue
        ranked = table[(table["subject"] == indicator.subject) & table["rank_cohort"].notna()]
        if ranked.empty:
            continue
        values = ranked[indicator.value].to_numpy(dtype=float)
        selected = (ranked["rank_cohort"] <= top_n).to_numpy(dtype=bool)
        last_selected = values[selected].min() if selected.any() else np.nan
        best_other = values[~selected].max() if (~selected).any() else np.nan
        sd, undefined = spread(values)
        cutoff = np.where(selected, best_other, last_selected)
        margin = np.where(selected, values - cutoff, cutoff - values)
        rows.append(pd.DataFrame({
            "analysis": analysis.label,
            "is_study": analysis.is_study,
            "end_year": analysis.end_year,
            "indicator": indicator.name,
            "district_code": ranked["district_code"].to_numpy(dtype=object),
            "district_name": ranked["district_name"].to_numpy(dtype=object),
            "value": values,
            "rank_cohort": ranked["rank_cohort"].to_numpy(dtype="int64"),
            "selected": selected,
            "cutoff_value": cutoff,
            "margin": margin,
            "cohort_sd": sd,
            "margin_sd": margin / sd if undefined is None else np.nan,  # no spread: no sd units, and why
            "margin_sd_note": undefined,
        }, columns=MARGIN_COLUMNS))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=MARGIN_COLUMNS)


def identification_margins(inputs: Inputs, default: Settings, study: Analysis) -> pd.DataFrame:
    """Margins to the cut-off in the default setting, for the study's pair and every section 8 end year."""
    work = _Computation(inputs)
    blocks = [
        indicator_margins(work.indicators(analysis, default), default.top_n, analysis)
        for analysis in analyses(inputs.sbac_raw, inputs.growth_raw, study)
    ]
    blocks = [block for block in blocks if len(block)]
    if not blocks:
        return pd.DataFrame(columns=MARGIN_COLUMNS)
    frame = pd.concat(blocks, ignore_index=True)
    for column in ("value", "cutoff_value", "margin", "cohort_sd", "margin_sd"):
        frame[column] = frame[column].astype("Float64")
    order = {indicator.name: i for i, indicator in enumerate(section_5.INDICATORS)}
    return frame.sort_values(
        ["is_study", "end_year", "indicator", "rank_cohort", "district_code"],
        ascending=[False, True, True, True, True],
        key=lambda s: s.map(order) if s.name == "indicator" else s,
    ).reset_index(drop=True)


def study_analysis(change_start_year: str, change_end_year: str, growth_year: str, t_end_year: str) -> Analysis:
    return Analysis(f"study ({change_start_year} to {change_end_year})", change_start_year, change_end_year,
                    growth_year, t_end_year, True)


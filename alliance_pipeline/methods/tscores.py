"""Section 4: long-term T-scores that put CMT and Smarter Balanced on one scale.

4.1  CMT district score per subject = test-taker-weighted mean over grades 3-8;
     ELA = (n_read * reading + n_write * writing) / (n_read + n_write).
4.2  Statewide weighted moments per year and subject, over the districts with a
     score (every organization type, never aggregate rows):
         mean = sum N x / sum N,  sd = sqrt(sum N (x - mean)^2 / (sum N - 1)),
         z = (x - mean) / sd
4.3  T = the CMT score itself in a CMT year; in the first SBAC year
     T = z * sd_CMT(ref) + mean_CMT(ref); in each later SBAC year the reference
     mean and sd are carried forward by the relative change of the statewide
     SBAC moments from the previous SBAC year.
4.4  change = T(end) - T(base), excluding districts by section 2's rule.

For CMT ELA, N is n_read + n_write: the "combined number of test takers" the
study divides by when it combines the two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from alliance_pipeline.methods.grouped import arrow_lists, flattened, group_lists, list_texts
from alliance_pipeline.methods.sbac import (
    DEFAULT_GRADES,
    SCORE_COLUMNS,
    district_scores,
    exclusion_reasons,
    pair_frame,
    weighted_scores,
)
from alliance_pipeline.school_year import sort_years, start_of, starts_of

POPULATIONS = ("all_scored", "unsuppressed")
T_SUBJECTS = ("ELA", "Math")


def cmt_district_scores(raw: pd.DataFrame, grades: Iterable[int] = DEFAULT_GRADES) -> pd.DataFrame:
    """Math, Reading and Writing scores per district, plus the combined ELA score."""
    scores = district_scores(raw, grades, n_column="number_tested", v_column="average_scale_score")
    reading, writing = (scores[scores["subject"] == subject].drop_duplicates("district_code", keep="first")
                        for subject in ("Reading", "Writing"))
    both = reading.merge(writing, on="district_code", suffixes=("_r", "_w"), sort=True).reset_index(drop=True)
    count = len(both)
    has_both = (both["score_r"].notna() & both["score_w"].notna()).to_numpy(dtype=bool)
    n = np.where(has_both[:, None], both[["n_total_r", "n_total_w"]].to_numpy(dtype="float64", na_value=0), 0.0)
    v = np.where(has_both[:, None], both[["score_r", "score_w"]].to_numpy(dtype="float64", na_value=0), 0.0)
    pair_rows = np.repeat(np.flatnonzero(has_both), 2)  # the row of each (reading, writing) value listed
    ela = pd.DataFrame({
        "school_year": both["school_year_r"],
        "district_code": both["district_code"],
        "district_name": both["district_name_r"],
        "subject": "ELA",
        "score": pd.array(weighted_scores(n, v, np.full(count, 2)), dtype="Float64"),
        "n_total": n.sum(axis=1).astype(np.int64),
        "n_grades": np.maximum(both["n_grades_r"].to_numpy(dtype="int64"), both["n_grades_w"].to_numpy(dtype="int64")),
        "grades_used": _combined(both["grades_used_r"], both["grades_used_w"], both=True),
        "grade_n": group_lists(pair_rows, count, n[has_both].astype(np.int64).ravel(), pa.int64()),
        "grade_vss": group_lists(pair_rows, count, v[has_both].ravel(), pa.float64()),
        "suppressed_grades": _combined(both["suppressed_grades_r"], both["suppressed_grades_w"], both=False),
        "source_rows": _combined(both["source_rows_r"], both["source_rows_w"], both=False),
    }, columns=SCORE_COLUMNS)
    frame = pd.concat([scores, ela], ignore_index=True) if len(ela) else scores
    frame["score"] = frame["score"].astype("Float64")
    for column in ("n_total", "n_grades"):
        frame[column] = frame[column].astype("Int64")
    return frame.sort_values(["district_code", "subject"]).reset_index(drop=True)


def _combined(first: pd.Series, second: pd.Series, both: bool) -> list[list[int]]:
    """Per row, the sorted values in both lists (``both``) or in either."""
    (rows_1, values_1), (rows_2, values_2) = flattened(arrow_lists(first)), flattened(arrow_lists(second))
    values = pd.DataFrame({"row": np.concatenate([rows_1, rows_2]), "value": np.concatenate([values_1, values_2])})
    if both:
        values = values[values.duplicated(["row", "value"], keep=False)]
    values = values.drop_duplicates(["row", "value"]).sort_values(["row", "value"])
    return group_lists(values["row"].to_numpy(), len(first), values["value"].to_numpy(), pa.int64())


def scores_by_year(cmt: Mapping[str, pd.DataFrame], sbac_scores: Mapping[str, pd.DataFrame]) -> dict[str, tuple[str, pd.DataFrame]]:
    """School year -> (assessment, district scores) over the CMT and SBAC years, in school-year order."""
    years: dict[str, tuple[str, pd.DataFrame]] = {year: ("CMT", frame) for year, frame in cmt.items()}
    years.update({year: ("SBAC", frame) for year, frame in sbac_scores.items()})
    return {year: years[year] for year in sort_years(years)}


def weighted_moments(x: Iterable[float], n: Iterable[float]) -> tuple[float, float]:
    """(weighted mean, weighted sd with the sum N - 1 denominator); the sums run in the rows' order."""
    x, n = _floats(x), _floats(n)
    x, n = x[n > 0], n[n > 0]
    total = _sequential_sum(n)
    if total <= 1 or not len(n):
        raise ValueError("weighted moments need more than one test taker")
    mean = _sequential_sum(x * n) / total
    variance = _sequential_sum(n * (x - mean) ** 2) / (total - 1)
    return mean, math.sqrt(variance)


def _floats(values) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(list(values), dtype=float)


def _sequential_sum(values: np.ndarray) -> float:
    """The sum left to right (``numpy.sum`` adds pairwise, which can differ in the last bit)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


def districts_with_suppression(scores: pd.DataFrame) -> set[str]:
    """Districts with a suppressed in-scope grade in any subject of that year."""
    hidden = pc.fill_null(pc.list_value_length(arrow_lists(scores["suppressed_grades"])), 0).to_numpy() > 0
    return set(scores.loc[hidden, "district_code"])


def moment_population(scores: pd.DataFrame, population: str) -> pd.DataFrame:
    if population not in POPULATIONS:
        raise ValueError(f"moments population must be one of {POPULATIONS}, not {population!r}")
    rows = scores[scores["score"].notna() & (scores["n_total"] > 0)]
    if population == "unsuppressed":
        rows = rows[~rows["district_code"].isin(districts_with_suppression(scores))]
    return rows


MOMENT_COLUMNS = ["school_year", "assessment", "subject", "mean", "sd", "n_districts", "n_students"]


def statewide_moments(
    scores_by_year: Mapping[str, tuple[str, pd.DataFrame]], population: str = "all_scored"
) -> pd.DataFrame:
    """Per year and subject (Math, ELA): the weighted mean and sd over districts.

    ``scores_by_year``: school year -> (assessment "CMT" or "SBAC", district scores).
    """
    rows = []
    for year in sorted(scores_by_year, key=start_of):
        assessment, scores = scores_by_year[year]
        included = moment_population(scores, population)
        for subject in T_SUBJECTS:
            part = included[included["subject"] == subject]
            if len(part) < 2:
                continue
            mean, sd = weighted_moments(part["score"], part["n_total"])
            rows.append(
                {
                    "school_year": year,
                    "assessment": assessment,
                    "subject": subject,
                    "mean": mean,
                    "sd": sd,
                    "n_districts": len(part),
                    "n_students": int(part["n_total"].sum()),
                }
            )
    return pd.DataFrame(rows, columns=MOMENT_COLUMNS)


T_COLUMNS = [
    "school_year", "assessment", "district_code", "district_name", "subject", "score", "n_total", "z",
    "ref_mean", "ref_sd", "t_score", "suppressed_grades",
]


def reference_moments(moments: pd.DataFrame, cmt_reference_year: str) -> pd.DataFrame:
    """Per year and subject: the (mean, sd) a year's z-scores are scaled to.

    CMT years use their own moments. The first SBAC year uses the CMT reference
    year's moments; each later SBAC year carries them forward by the ratio of
    the statewide SBAC moments to the previous SBAC year's.
    """
    ordered = moments[moments["subject"].isin(T_SUBJECTS)].assign(
        start=starts_of(moments["school_year"]),
        order=moments["subject"].map({subject: i for i, subject in enumerate(T_SUBJECTS)}),
    ).sort_values(["order", "start"], kind="stable")
    cmt = ordered[ordered["assessment"] == "CMT"]
    sbac = ordered[ordered["assessment"] == "SBAC"].copy()
    ref = cmt[cmt["school_year"] == cmt_reference_year].drop_duplicates("subject")[["subject", "mean", "sd"]]
    sbac = sbac.merge(ref, on="subject", suffixes=("", "_ref"), sort=False)
    for column in ("mean", "sd"):  # ref x (m1 / m0) x (m2 / m1) ..., multiplied in year order as the study does
        previous = sbac.groupby("subject", sort=False)[column].shift(1)
        factors = (sbac[column] / previous).fillna(sbac[f"{column}_ref"]).to_numpy(dtype=float)
        sbac[f"ref_{column}"] = pd.Series(factors, index=sbac.index).groupby(sbac["subject"], sort=False).cumprod()
    carried = cmt.rename(columns={"mean": "ref_mean", "sd": "ref_sd"})
    frame = pd.concat([carried, sbac], ignore_index=True).sort_values("order", kind="stable")
    return frame[["school_year", "subject", "ref_mean", "ref_sd"]].reset_index(drop=True)


def t_scores(
    moments: pd.DataFrame,
    scores_by_year: Mapping[str, tuple[str, pd.DataFrame]],
    cmt_reference_year: str,
) -> pd.DataFrame:
    keys = ["school_year", "subject"]
    years = sorted(scores_by_year, key=start_of)
    if not years:
        return _typed_t(pd.DataFrame(columns=T_COLUMNS))
    parts = [(year, *scores_by_year[year]) for year in years]
    scores = pd.concat([frame[frame["subject"].isin(T_SUBJECTS)].assign(school_year=year, assessment=assessment)
                        for year, assessment, frame in parts], ignore_index=True)
    own = moments.drop_duplicates(keys, keep="last")[[*keys, "mean", "sd"]]
    references = reference_moments(moments, cmt_reference_year).drop_duplicates(keys, keep="last")
    frame = scores.merge(own, on=keys, how="left", sort=False).merge(references, on=keys, how="left", sort=False)
    score = frame["score"].to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(score) & frame["mean"].notna().to_numpy() & frame["ref_mean"].notna().to_numpy()
    z = (score - frame["mean"].to_numpy(dtype=float)) / frame["sd"].to_numpy(dtype=float)
    t = np.where(frame["assessment"].to_numpy() == "CMT", score,
                 z * frame["ref_sd"].to_numpy(dtype=float) + frame["ref_mean"].to_numpy(dtype=float))
    frame["z"], frame["t_score"] = np.where(known, z, np.nan), np.where(known, t, np.nan)
    for column in ("ref_mean", "ref_sd"):
        frame[column] = frame[column].where(known)
    frame["suppressed_grades"] = pd.array(frame["suppressed_grades"].tolist(), dtype=object)
    return _typed_t(frame[T_COLUMNS])


def _typed_t(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("score", "z", "ref_mean", "ref_sd", "t_score"):
        frame[column] = frame[column].astype("Float64")
    frame["n_total"] = frame["n_total"].astype("Int64")
    return frame


T_CHANGE_COLUMNS = [
    "district_code", "district_name", "subject", "base_year", "end_year", "t_base", "t_end", "change",
    "excluded", "exclusion_reason",
]


def t_score_changes(t: pd.DataFrame, base_year: str, end_year: str, scope: str = "district") -> pd.DataFrame:
    """T(end) - T(base) per district and subject; section 2's exclusion rule applies."""
    pairs = pair_frame(t[t["school_year"] == base_year], t[t["school_year"] == end_year], ["t_score", "suppressed_grades"])
    frame = pd.DataFrame({column: pairs[column] for column in ("district_code", "district_name", "subject")})
    sides = []
    for side, label, year_column, column in (("start", base_year, "base_year", "t_base"),
                                             ("end", end_year, "end_year", "t_end")):
        values = pairs[f"t_score_{side}"].to_numpy(dtype=float, na_value=np.nan)
        sides.append((label, side, list_texts(arrow_lists(pairs[f"suppressed_grades_{side}"])), values))
        frame[year_column] = label
        frame[column] = pd.array(values, dtype="Float64")
    frame["exclusion_reason"] = exclusion_reasons(pairs, sides, scope, "no row in {label}", "grade(s)",
                                                  "no T-score in")
    frame["excluded"] = frame["exclusion_reason"].notna().to_numpy(dtype=bool)
    frame["change"] = (frame["t_end"] - frame["t_base"]).mask(frame["excluded"])
    return frame[T_CHANGE_COLUMNS]

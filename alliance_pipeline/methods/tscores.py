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

import pandas as pd

from alliance_pipeline.edsight.families import sort_years
from alliance_pipeline.methods.sbac import (
    DEFAULT_GRADES, SCORE_COLUMNS, apply_scope, by_district_subject, district_scores, weighted_score,
)

POPULATIONS = ("all_scored", "unsuppressed")
T_SUBJECTS = ("ELA", "Math")


def cmt_district_scores(raw: pd.DataFrame, grades: Iterable[int] = DEFAULT_GRADES) -> pd.DataFrame:
    """Math, Reading and Writing scores per district, plus the combined ELA score."""
    scores = district_scores(raw, grades, n_column="number_tested", v_column="average_scale_score")
    ela_rows = []
    for code, group in scores.groupby("district_code", sort=True):
        parts = group.set_index("subject")
        if not {"Reading", "Writing"} <= set(parts.index):
            continue
        reading, writing = parts.loc["Reading"], parts.loc["Writing"]
        has_both = pd.notna(reading["score"]) and pd.notna(writing["score"])
        n = [int(reading["n_total"]), int(writing["n_total"])] if has_both else [0]
        values = [float(reading["score"]), float(writing["score"])] if has_both else [0.0]
        ela_rows.append(
            {
                "school_year": reading["school_year"],
                "district_code": code,
                "district_name": reading["district_name"],
                "subject": "ELA",
                "score": weighted_score(n, values),
                "n_total": sum(n),
                "n_grades": int(max(reading["n_grades"], writing["n_grades"])),
                "grades_used": sorted(set(reading["grades_used"]) & set(writing["grades_used"])),
                "grade_n": n if has_both else [],
                "grade_vss": values if has_both else [],
                "suppressed_grades": sorted(set(reading["suppressed_grades"]) | set(writing["suppressed_grades"])),
                "source_rows": sorted(set(reading["source_rows"]) | set(writing["source_rows"])),
            }
        )
    ela = pd.DataFrame(ela_rows, columns=SCORE_COLUMNS)
    frame = pd.concat([scores, ela], ignore_index=True) if len(ela) else scores
    frame["score"] = frame["score"].astype("Float64")
    for column in ("n_total", "n_grades"):
        frame[column] = frame[column].astype("Int64")
    return frame.sort_values(["district_code", "subject"]).reset_index(drop=True)


def scores_by_year(cmt: Mapping[str, pd.DataFrame], sbac_scores: Mapping[str, pd.DataFrame]) -> dict[str, tuple[str, pd.DataFrame]]:
    """School year -> (assessment, district scores) over the CMT and SBAC years, in school-year order."""
    years: dict[str, tuple[str, pd.DataFrame]] = {year: ("CMT", frame) for year, frame in cmt.items()}
    years.update({year: ("SBAC", frame) for year, frame in sbac_scores.items()})
    return {year: years[year] for year in sort_years(years)}


def weighted_moments(x: Iterable[float], n: Iterable[float]) -> tuple[float, float]:
    """(weighted mean, weighted sd with the sum N - 1 denominator)."""
    pairs = [(float(a), float(b)) for a, b in zip(x, n) if b > 0]
    total = sum(b for _, b in pairs)
    if total <= 1 or not pairs:
        raise ValueError("weighted moments need more than one test taker")
    mean = sum(a * b for a, b in pairs) / total
    variance = sum(b * (a - mean) ** 2 for a, b in pairs) / (total - 1)
    return mean, math.sqrt(variance)


def districts_with_suppression(scores: pd.DataFrame) -> set[str]:
    """Districts with a suppressed in-scope grade in any subject of that year."""
    return set(scores.loc[scores["suppressed_grades"].map(len) > 0, "district_code"])


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
    for year in sorted(scores_by_year, key=lambda y: int(y[:4])):
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
    rows = []
    for subject in T_SUBJECTS:
        part = moments[moments["subject"] == subject].copy()
        part = part.iloc[sorted(range(len(part)), key=lambda i: int(part["school_year"].iloc[i][:4]))]
        for _, row in part[part["assessment"] == "CMT"].iterrows():
            rows.append({"school_year": row["school_year"], "subject": subject, "ref_mean": row["mean"], "ref_sd": row["sd"]})
        ref = part[(part["assessment"] == "CMT") & (part["school_year"] == cmt_reference_year)]
        sbac = part[part["assessment"] == "SBAC"]
        if ref.empty or sbac.empty:
            continue
        ref_mean, ref_sd = float(ref["mean"].iloc[0]), float(ref["sd"].iloc[0])
        previous = None
        for _, row in sbac.iterrows():
            if previous is not None:
                ref_mean *= row["mean"] / previous["mean"]
                ref_sd *= row["sd"] / previous["sd"]
            rows.append({"school_year": row["school_year"], "subject": subject, "ref_mean": ref_mean, "ref_sd": ref_sd})
            previous = row
    return pd.DataFrame(rows, columns=["school_year", "subject", "ref_mean", "ref_sd"])


def t_scores(
    moments: pd.DataFrame,
    scores_by_year: Mapping[str, tuple[str, pd.DataFrame]],
    cmt_reference_year: str,
) -> pd.DataFrame:
    references = {(r["school_year"], r["subject"]): r for r in reference_moments(moments, cmt_reference_year).to_dict("records")}
    own = {(r["school_year"], r["subject"]): r for r in moments.to_dict("records")}
    rows = []
    for year in sorted(scores_by_year, key=lambda y: int(y[:4])):
        assessment, scores = scores_by_year[year]
        for score in scores[scores["subject"].isin(T_SUBJECTS)].to_dict("records"):
            key = (year, score["subject"])
            if key not in own or key not in references or pd.isna(score["score"]):
                z = t = ref_mean = ref_sd = None
            else:
                mean, sd = float(own[key]["mean"]), float(own[key]["sd"])
                ref_mean, ref_sd = float(references[key]["ref_mean"]), float(references[key]["ref_sd"])
                z = (float(score["score"]) - mean) / sd
                t = float(score["score"]) if assessment == "CMT" else z * ref_sd + ref_mean
            rows.append(
                {
                    "school_year": year,
                    "assessment": assessment,
                    "district_code": score["district_code"],
                    "district_name": score["district_name"],
                    "subject": score["subject"],
                    "score": score["score"],
                    "n_total": score["n_total"],
                    "z": z,
                    "ref_mean": ref_mean,
                    "ref_sd": ref_sd,
                    "t_score": t,
                    "suppressed_grades": list(score["suppressed_grades"]),
                }
            )
    frame = pd.DataFrame(rows, columns=T_COLUMNS)
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
    base = by_district_subject(t[t["school_year"] == base_year])
    end = by_district_subject(t[t["school_year"] == end_year])
    keys = sorted(set(base) | set(end))
    reasons: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        found = []
        for label, frame in ((base_year, base), (end_year, end)):
            if key not in frame:
                found.append(f"not in the {label} data")
            elif len(frame[key]["suppressed_grades"]):
                grades = ", ".join(map(str, frame[key]["suppressed_grades"]))
                found.append(f"suppressed {key[1]} grade(s) {grades} in {label}")
        reasons[key] = found
    reasons = apply_scope(reasons, scope)
    rows = []
    for key in keys:
        t_base = base[key]["t_score"] if key in base else None
        t_end = end[key]["t_score"] if key in end else None
        why = list(reasons[key])
        if not why and (pd.isna(t_base) or pd.isna(t_end)):
            why.append("no T-score in " + " and ".join(
                label for label, value in ((base_year, t_base), (end_year, t_end)) if pd.isna(value)))
        named = end if key in end else base
        rows.append(
            {
                "district_code": key[0],
                "district_name": named[key]["district_name"],
                "subject": key[1],
                "base_year": base_year,
                "end_year": end_year,
                "t_base": None if pd.isna(t_base) else float(t_base),
                "t_end": None if pd.isna(t_end) else float(t_end),
                "change": None if why else float(t_end) - float(t_base),
                "excluded": bool(why),
                "exclusion_reason": "; ".join(why) if why else None,
            }
        )
    frame = pd.DataFrame(rows, columns=T_CHANGE_COLUMNS)
    for column in ("t_base", "t_end", "change"):
        frame[column] = frame[column].astype("Float64")
    frame["exclusion_reason"] = frame["exclusion_reason"].astype("string")
    return frame

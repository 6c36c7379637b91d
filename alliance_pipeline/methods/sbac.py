"""Sections 1 and 2 of the methodology: weighted district scale scores and their change.

    score(d, s, y) = sum_g n_g * v_g / sum_g n_g        over the grades in scope
    change(d, s, y0 -> y1) = score(d, s, y1) - score(d, s, y0)

A grade row that is absent (the district does not serve it) is not a
suppression; a grade row whose n or v is suppressed is, and is listed. A grade
with zero test takers contributes nothing. Scores keep each grade's n and v,
so a change can be re-taken over the grades tested in both years and every
number traced back to the export rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from alliance_pipeline.edsight.families import previous_school_year, sort_years
from alliance_pipeline.methods.ranking import add_cohort_ranks

DEFAULT_GRADES = (3, 4, 5, 6, 7, 8)
SUBJECTS = ("ELA", "Math")
SCOPES = ("district", "subject")

SCORE_COLUMNS = [
    "school_year", "district_code", "district_name", "subject", "score", "n_total", "n_grades",
    "grades_used", "grade_n", "grade_vss", "suppressed_grades", "source_rows",
]


def weighted_score(n: Sequence[float], v: Sequence[float]) -> float | None:
    """sum(n*v)/sum(n); None when no test takers."""
    n_arr = np.asarray(n, dtype=float)
    v_arr = np.asarray(v, dtype=float)
    total = n_arr.sum()
    if total <= 0:
        return None
    return float((n_arr * v_arr).sum() / total)


def district_scores(
    raw: pd.DataFrame,
    grades: Iterable[int] = DEFAULT_GRADES,
    n_column: str = "total_scored",
    v_column: str = "average_vss",
) -> pd.DataFrame:
    """One row per district and subject: the weighted score over the published grades in scope."""
    scope = sorted(set(int(g) for g in grades))
    rows = raw[~raw["is_aggregate"].astype(bool) & raw["grade"].isin(scope)]
    year = str(raw["school_year"].iloc[0]) if "school_year" in raw and len(raw) else None
    out = []
    for (code, subject), group in rows.groupby(["district_code", "subject"], sort=True):
        group = group.sort_values("grade")
        n_col, v_col = group[n_column], group[v_column]
        no_takers = n_col.eq(0).fillna(False)  # nothing to publish: neither used nor suppressed
        published = (n_col.notna() & v_col.notna()) | no_takers
        used = group[published & ~no_takers]
        n = [int(x) for x in used[n_column]]
        v = [float(x) for x in used[v_column]]
        out.append(
            {
                "school_year": year,
                "district_code": code,
                "district_name": group["district_name"].iloc[0] if "district_name" in group else None,
                "subject": subject,
                "score": weighted_score(n, v),
                "n_total": int(sum(n)),
                "n_grades": len(n),
                "grades_used": [int(g) for g in used["grade"]],
                "grade_n": n,
                "grade_vss": v,
                "suppressed_grades": [int(g) for g in group.loc[~published, "grade"]],
                "source_rows": [int(r) for r in group["source_row"]] if "source_row" in group else [],
            }
        )
    frame = pd.DataFrame(out, columns=SCORE_COLUMNS)
    frame["score"] = frame["score"].astype("Float64")
    for column in ("n_total", "n_grades"):
        frame[column] = frame[column].astype("Int64")
    return frame


def rescore(row: pd.Series, grades: Iterable[int]) -> tuple[float | None, int]:
    """A district's score and n over a subset of its grades (for year pairs)."""
    keep = set(grades)
    pairs = [(n, v) for g, n, v in zip(row["grades_used"], row["grade_n"], row["grade_vss"]) if g in keep]
    n = [p[0] for p in pairs]
    return weighted_score(n, [p[1] for p in pairs]), int(sum(n))


def tested_grades(scores: pd.DataFrame) -> set[int]:
    """Grades that appear in a year's export (published or suppressed) for any district."""
    found: set[int] = set()
    for used, suppressed in zip(scores["grades_used"], scores["suppressed_grades"]):
        found.update(int(g) for g in used)
        found.update(int(g) for g in suppressed)
    return found


def apply_scope(reasons: dict[tuple[str, str], list[str]], scope: str) -> dict[tuple[str, str], list[str]]:
    """Section 2's exclusion scope over per-(district, subject) reasons.

    ``subject``: each subject keeps its own reasons. ``district``: every subject
    of a district gets all of the district's reasons.
    """
    if scope not in SCOPES:
        raise ValueError(f"suppression scope must be one of {SCOPES}, not {scope!r}")
    if scope == "subject":
        return reasons
    merged: dict[str, list[str]] = {}
    for (code, _), found in reasons.items():
        bucket = merged.setdefault(code, [])
        bucket.extend(reason for reason in found if reason not in bucket)
    return {key: list(merged[key[0]]) for key in reasons}


CHANGE_COLUMNS = [
    "district_code", "district_name", "subject", "start_year", "end_year", "score_start", "score_end",
    "n_start", "n_end", "change", "excluded", "exclusion_reason", "grades_compared",
]


def score_changes(
    scores_start: pd.DataFrame,
    scores_end: pd.DataFrame,
    start_year: str,
    end_year: str,
    scope: str = "district",
    grades: Iterable[int] = DEFAULT_GRADES,
) -> pd.DataFrame:
    """Section 2: the change per district and subject, with exclusions and their reasons.

    ``scope='district'``: a suppressed grade in either subject, in either year,
    excludes the district from both subjects; ``scope='subject'``: only from that
    subject. Districts missing from a year, or with no scored grade, are
    excluded too. An excluded district has no change (never 0).
    """
    compared = sorted(set(grades) & tested_grades(scores_start) & tested_grades(scores_end))
    start = scores_start.set_index(["district_code", "subject"])
    end = scores_end.set_index(["district_code", "subject"])
    keys = sorted(set(start.index) | set(end.index))

    def suppressed_in(frame: pd.DataFrame, key) -> list[int]:
        if key not in frame.index:
            return []
        return sorted(int(g) for g in frame.loc[key, "suppressed_grades"] if int(g) in compared)

    reasons: dict[tuple[str, str], list[str]] = {key: [] for key in keys}
    for key in keys:
        for label, frame in ((start_year, start), (end_year, end)):
            if key not in frame.index:
                reasons[key].append(f"not in the {label} export")
                continue
            hidden = suppressed_in(frame, key)
            if hidden:
                reasons[key].append(f"suppressed {key[1]} grade{'s' if len(hidden) > 1 else ''} "
                                    f"{', '.join(map(str, hidden))} in {label}")
    reasons = apply_scope(reasons, scope)

    rows = []
    for key in keys:
        code, subject = key
        score_s, n_s = rescore(start.loc[key], compared) if key in start.index else (None, 0)
        score_e, n_e = rescore(end.loc[key], compared) if key in end.index else (None, 0)
        why = list(reasons[key])
        if not why and (score_s is None or score_e is None):
            why.append("no scored grade in " + " and ".join(
                label for label, value in ((start_year, score_s), (end_year, score_e)) if value is None))
        name_source = end if key in end.index else start
        rows.append(
            {
                "district_code": code,
                "district_name": name_source.loc[key, "district_name"],
                "subject": subject,
                "start_year": start_year,
                "end_year": end_year,
                "score_start": score_s,
                "score_end": score_e,
                "n_start": n_s,
                "n_end": n_e,
                "change": None if why else score_e - score_s,
                "excluded": bool(why),
                "exclusion_reason": "; ".join(why) if why else None,
                "grades_compared": compared,
            }
        )
    frame = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    for column in ("score_start", "score_end", "change"):
        frame[column] = frame[column].astype("Float64")
    for column in ("n_start", "n_end"):
        frame[column] = frame[column].astype("Int64")
    frame["exclusion_reason"] = frame["exclusion_reason"].astype("string")
    return frame


YEARLY_COLUMNS = [*CHANGE_COLUMNS, "in_cohort", "rank_cohort"]


def yearly_changes(
    scores_by_year: dict[str, pd.DataFrame], cohort_codes, scope: str = "district", grades: Iterable[int] = DEFAULT_GRADES
) -> pd.DataFrame:
    """Section 2's suppression-filtered change for every pair of consecutive school years present.

    One block of rows per pair (``start_year`` -> ``end_year``), the cohort ranked
    within each pair and subject; a year whose previous year is absent adds no rows.
    """
    blocks = []
    for year in sort_years(scores_by_year):
        previous = previous_school_year(year)
        if previous in scores_by_year:
            pair = score_changes(scores_by_year[previous], scores_by_year[year], previous, year, scope, grades)
            blocks.append(add_cohort_ranks(pair, cohort_codes))
    if not blocks:
        return pd.DataFrame(columns=YEARLY_COLUMNS)
    return pd.concat(blocks, ignore_index=True)[YEARLY_COLUMNS]

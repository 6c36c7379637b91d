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


def weighted_scores(n: np.ndarray, v: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Row-wise ``sum(n*v) / sum(n)`` over the first ``used[i]`` cells of row i; NaN without test takers.

    Each row is summed in its grade order exactly as ``numpy.sum`` sums the row's own values, so a
    table of districts and one district alone give the same number to the last bit.
    """
    n = np.asarray(n, dtype=float)
    v = np.asarray(v, dtype=float)
    used = np.asarray(used, dtype=int)
    width = n.shape[1] if n.ndim == 2 else 0
    products = np.where(np.arange(width) < used[:, None], n * v, 0.0) if width else np.zeros((len(used), 0))
    counts = np.where(np.arange(width) < used[:, None], n, 0.0) if width else np.zeros((len(used), 0))
    if width < 8:  # numpy sums fewer than 8 values left to right: the padding zeros change nothing
        top, total = products.sum(axis=1), counts.sum(axis=1)
    else:
        top = np.array([products[i, :k].sum() for i, k in enumerate(used)])
        total = np.array([counts[i, :k].sum() for i, k in enumerate(used)])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, top / np.where(total > 0, total, 1.0), np.nan)


def weighted_score(n: Sequence[float], v: Sequence[float]) -> float | None:
    """sum(n*v)/sum(n); None when no test takers."""
    value = weighted_scores(np.asarray([n], dtype=float).reshape(1, -1), np.asarray([v], dtype=float).reshape(1, -1),
                            np.asarray([len(n)]))[0]
    return None if np.isnan(value) else float(value)


def _lists(frame: pd.DataFrame, keys: list[str], columns: dict[str, str], kinds: dict[str, type]) -> pd.DataFrame:
    """Per group of ``keys``: each column's values as a Python list, in the frame's order."""
    if frame.empty:
        return pd.DataFrame(columns=list(columns), index=pd.MultiIndex.from_arrays([[] for _ in keys], names=keys))
    grouped = frame.groupby(keys, sort=True)
    return pd.DataFrame({
        name: grouped[column].agg(lambda s, kind=kinds[name]: [kind(x) for x in s]) for name, column in columns.items()
    })


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
    keys = ["district_code", "subject"]
    if rows.empty:
        frame = pd.DataFrame(columns=SCORE_COLUMNS)
        return frame.astype({"score": "Float64", "n_total": "Int64", "n_grades": "Int64"})
    rows = rows.sort_values([*keys, "grade"], kind="stable")
    n_col, v_col = rows[n_column], rows[v_column]
    no_takers = n_col.eq(0).fillna(False).astype(bool)  # nothing to publish: neither used nor suppressed
    published = ((n_col.notna() & v_col.notna()).fillna(False).astype(bool)) | no_takers
    used = rows[published & ~no_takers]

    frame = rows.groupby(keys, sort=True).agg(
        district_name=("district_name", "first") if "district_name" in rows else ("grade", lambda s: None)
    )
    frame = frame.join(_lists(used, keys, {"grades_used": "grade", "grade_n": n_column, "grade_vss": v_column},
                              {"grades_used": int, "grade_n": int, "grade_vss": float}))
    frame = frame.join(_lists(rows[~published], keys, {"suppressed_grades": "grade"}, {"suppressed_grades": int}))
    source = {"source_rows": "source_row"} if "source_row" in rows else {}
    frame = frame.join(_lists(rows, keys, source, {"source_rows": int}))
    for column in ("grades_used", "grade_n", "grade_vss", "suppressed_grades", "source_rows"):
        if column not in frame:
            frame[column] = None
        frame[column] = frame[column].map(lambda v: v if isinstance(v, list) else [])

    k = frame["grade_n"].map(len).to_numpy()
    width = int(k.max()) if len(k) else 0
    n = np.zeros((len(frame), width))
    v = np.zeros((len(frame), width))
    for i, (ns, vs) in enumerate(zip(frame["grade_n"], frame["grade_vss"])):
        n[i, : len(ns)] = ns
        v[i, : len(vs)] = vs
    frame["score"] = pd.array(weighted_scores(n, v, k), dtype="Float64")  # NaN (no test takers) -> NA
    frame["n_total"] = frame["grade_n"].map(sum)
    frame["n_grades"] = k
    frame = frame.reset_index()
    frame.insert(0, "school_year", year)
    frame = frame[SCORE_COLUMNS].reset_index(drop=True)
    for column in ("school_year", "district_code", "district_name", "subject"):  # plain inferred text, as before
        frame[column] = pd.Series(frame[column].tolist(), index=frame.index, dtype=None)
    frame["score"] = frame["score"].astype("Float64")
    for column in ("n_total", "n_grades"):
        frame[column] = frame[column].astype("Int64")
    return frame


def by_district_subject(frame: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """The rows of a per-(district, subject) table as plain dicts, keyed by (district_code, subject)."""
    records = frame.to_dict("records")
    return {(row["district_code"], row["subject"]): row for row in records}


def rescore(row, grades: Iterable[int]) -> tuple[float | None, int]:
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
    start = by_district_subject(scores_start)
    end = by_district_subject(scores_end)
    keys = sorted(set(start) | set(end))

    def suppressed_in(frame: dict, key) -> list[int]:
        if key not in frame:
            return []
        return sorted(int(g) for g in frame[key]["suppressed_grades"] if int(g) in compared)

    reasons: dict[tuple[str, str], list[str]] = {key: [] for key in keys}
    for key in keys:
        for label, frame in ((start_year, start), (end_year, end)):
            if key not in frame:
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
        score_s, n_s = rescore(start[key], compared) if key in start else (None, 0)
        score_e, n_e = rescore(end[key], compared) if key in end else (None, 0)
        why = list(reasons[key])
        if not why and (score_s is None or score_e is None):
            why.append("no scored grade in " + " and ".join(
                label for label, value in ((start_year, score_s), (end_year, score_e)) if value is None))
        name_source = end if key in end else start
        rows.append(
            {
                "district_code": code,
                "district_name": name_source[key]["district_name"],
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

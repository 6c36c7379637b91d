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

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from alliance_pipeline.methods.grouped import arrow_lists, flattened, group_lists, join_by_group, list_texts, positions
from alliance_pipeline.methods.ranking import add_cohort_ranks
from alliance_pipeline.methods.rows import district_rows
from alliance_pipeline.school_year import sort_years, start_of

DEFAULT_GRADES = (3, 4, 5, 6, 7, 8)
SUBJECTS = ("ELA", "Math")
SCOPES = ("district", "subject")

SCORE_COLUMNS = [
    "school_year", "district_code", "district_name", "subject", "score", "n_total", "n_grades",
    "grades_used", "grade_n", "grade_vss", "suppressed_grades", "source_rows", "participation_rate",
    "low_participation",
]
# Section 11: a district-year-subject whose tested share of students is below this (percent) is flagged.
PARTICIPATION_THRESHOLD = 95.0


def weighted_scores(n: np.ndarray, v: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Row-wise ``sum(n*v) / sum(n)`` over the first ``used[i]`` cells of row i; NaN without test takers.

    Each row is summed in its grade order exactly as ``numpy.sum`` sums the row's own values, so a
    table of districts and one district alone give the same number to the last bit.
    """
    n = np.asarray(n, dtype=float)
    v = np.asarray(v, dtype=float)
    used = np.asarray(used, dtype=int)
    top, total = np.zeros(len(used)), np.zeros(len(used))
    if n.ndim == 2 and n.shape[1]:
        products = n * v
        for k in np.unique(used[used > 0]):  # one reduction per row length: each row summed over its own cells only
            rows = used == k
            top[rows], total[rows] = products[rows, :k].sum(axis=1), n[rows, :k].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, top / np.where(total > 0, total, 1.0), np.nan)


def weighted_score(n: Sequence[float], v: Sequence[float]) -> float | None:
    """sum(n*v)/sum(n); None when no test takers."""
    value = weighted_scores(np.asarray([n], dtype=float).reshape(1, -1), np.asarray([v], dtype=float).reshape(1, -1),
                            np.asarray([len(n)]))[0]
    return None if np.isnan(value) else float(value)


def grouped_weighted_scores(group: np.ndarray, n_groups: int, n: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weighted score, total n) per group of the (n, v) pairs in group order: ``weighted_scores`` on the
    matrix whose row i holds group i's pairs left to right."""
    counts, place = positions(group, n_groups)
    width = int(counts.max()) if n_groups and len(group) else 0
    n_matrix, v_matrix = np.zeros((n_groups, width)), np.zeros((n_groups, width))
    n_matrix[group, place], v_matrix[group, place] = n, v
    totals = np.zeros(n_groups, dtype=np.int64)
    np.add.at(totals, group, np.asarray(n, dtype=np.int64))
    return weighted_scores(n_matrix, v_matrix, counts), totals


def district_scores(
    raw: pd.DataFrame,
    grades: Iterable[int] = DEFAULT_GRADES,
    n_column: str = "total_scored",
    v_column: str = "average_vss",
    participation_threshold: float = PARTICIPATION_THRESHOLD,
) -> pd.DataFrame:
    """One row per district and subject: the weighted score over the published grades in scope.

    ``participation_rate`` is the tested share of students (``total_tested / total_students`` x 100, summed over
    the grades in scope whose two counts are published; NA without them); ``low_participation`` flags a rate
    below ``participation_threshold`` (section 11: flagged wherever the score is used, not excluded)."""
    scope = sorted(set(int(g) for g in grades))
    rows = district_rows(raw)
    rows = rows[rows["grade"].isin(scope)]
    year = str(raw["school_year"].iloc[0]) if "school_year" in raw and len(raw) else None
    keys = ["district_code", "subject"]
    if rows.empty:
        frame = pd.DataFrame(columns=SCORE_COLUMNS)
        return frame.astype({"score": "Float64", "n_total": "Int64", "n_grades": "Int64"})
    rows = rows.sort_values([*keys, "grade"], kind="stable")
    grouped = rows.groupby(keys, sort=True)
    group = grouped.ngroup().to_numpy()  # ascending: the rows are in group order
    frame = grouped.agg(
        district_name=("district_name", "first") if "district_name" in rows else ("grade", lambda s: None)
    )
    count = len(frame)
    n_values = rows[n_column].to_numpy(dtype="float64", na_value=np.nan)
    v_values = rows[v_column].to_numpy(dtype="float64", na_value=np.nan)
    no_takers = n_values == 0  # nothing to publish: neither used nor suppressed
    published = (~np.isnan(n_values) & ~np.isnan(v_values)) | no_takers
    used = published & ~no_takers
    grade = rows["grade"].to_numpy(dtype="int64")
    n_used = n_values[used].astype(np.int64)  # a count, as listed in grade_n
    frame["grades_used"] = group_lists(group[used], count, grade[used], pa.int64())
    frame["grade_n"] = group_lists(group[used], count, n_used, pa.int64())
    frame["grade_vss"] = group_lists(group[used], count, v_values[used], pa.float64())
    frame["suppressed_grades"] = group_lists(group[~published], count, grade[~published], pa.int64())
    has_source = "source_row" in rows
    frame["source_rows"] = group_lists(group if has_source else group[:0], count,
                                       rows["source_row"].to_numpy(dtype="int64") if has_source else [], pa.int64())
    score, n_total = grouped_weighted_scores(group[used], count, n_used.astype(float), v_values[used])
    frame["score"] = pd.array(score, dtype="Float64")  # NaN (no test takers) -> NA
    frame["n_total"] = n_total
    frame["n_grades"] = np.bincount(group[used], minlength=count)
    frame["participation_rate"], frame["low_participation"] = _participation(rows, group, count, participation_threshold)
    frame = frame.reset_index()
    frame.insert(0, "school_year", year)
    frame = frame[SCORE_COLUMNS].reset_index(drop=True)
    for column in ("school_year", "district_code", "district_name", "subject"):  # plain inferred text, as before
        frame[column] = pd.Series(frame[column].tolist(), index=frame.index, dtype=None)
    frame["score"] = frame["score"].astype("Float64")
    for column in ("n_total", "n_grades"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _participation(rows: pd.DataFrame, group: np.ndarray, count: int, threshold: float) -> tuple[pd.array, np.ndarray]:
    """(participation rate, below ``threshold``) per group: tested / students x 100 over the rows with both counts."""
    if "total_tested" not in rows or "total_students" not in rows:
        return pd.array([None] * count, dtype="Float64"), np.zeros(count, dtype=bool)
    tested = rows["total_tested"].to_numpy(dtype="float64", na_value=np.nan)
    students = rows["total_students"].to_numpy(dtype="float64", na_value=np.nan)
    both = ~np.isnan(tested) & ~np.isnan(students)
    tested_sum = np.bincount(group[both], weights=tested[both], minlength=count)
    students_sum = np.bincount(group[both], weights=students[both], minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(students_sum > 0, 100.0 * tested_sum / np.where(students_sum > 0, students_sum, 1.0), np.nan)
    return pd.array(rate, dtype="Float64"), np.nan_to_num(rate, nan=np.inf) < threshold


def tested_grades(scores: pd.DataFrame) -> set[int]:
    """Grades that appear in a year's export (published or suppressed) for any district."""
    _, grades = flattened(arrow_lists(pd.concat([scores["grades_used"], scores["suppressed_grades"]])))
    return set(np.unique(grades).tolist())


def pair_frame(start: pd.DataFrame, end: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every (district, subject) of either table, in key order, with ``columns`` of each (suffixes _start,
    _end) and whether it is in each (``in_start``, ``in_end``); a key listed twice keeps its last row."""
    keys = ["district_code", "subject"]
    sides = [frame.drop_duplicates(keys, keep="last")[[*keys, "district_name", *columns]] for frame in (start, end)]
    pairs = sides[0].merge(sides[1], on=keys, how="outer", suffixes=("_start", "_end"), indicator=True, sort=True)
    pairs["in_start"] = pairs["_merge"].isin(["both", "left_only"]).to_numpy()
    pairs["in_end"] = pairs["_merge"].isin(["both", "right_only"]).to_numpy()
    pairs["district_name"] = pairs["district_name_end"].where(pairs["in_end"], pairs["district_name_start"])
    return pairs.drop(columns=["_merge", "district_name_start", "district_name_end"]).reset_index(drop=True)


def exclusion_reasons(
    pairs: pd.DataFrame,
    sides: list[tuple[str, str, np.ndarray, np.ndarray]],
    scope: str,
    missing: str,
    grade_word: str,
    no_value: str,
) -> pd.Series:
    """Section 2's exclusion rule, per row of ``pair_frame``: why its change is not taken (NA when it is).

    ``sides``: (year label, "start"/"end", hidden grades per row as (count, joined text), the row's value per
    year, NaN when absent). A row's reasons are, per year in turn, ``missing`` (when the key is not in that
    year) or its suppressed grades; with scope ``district`` every subject of a district gets all of the
    district's reasons (each once, in key order); with no reason, a missing value gives ``no_value``.
    ``grade_word`` is "grade(s)" or "grade" (then "grades" when more than one).
    """
    if scope not in SCOPES:
        raise ValueError(f"suppression scope must be one of {SCOPES}, not {scope!r}")
    count = len(pairs)
    texts = []
    for slot, (label, side, (hidden, joined), _) in enumerate(sides):
        present = pairs[f"in_{side}"].to_numpy(dtype=bool)
        word = np.where(hidden > 1, "grades", "grade").astype(object) if grade_word == "grade" else grade_word
        suppressed = "suppressed " + pairs["subject"].astype(object) + " " + word + " " + joined + f" in {label}"
        text = np.where(~present, missing.format(label=label),
                        np.where(hidden > 0, suppressed.to_numpy(dtype=object), None))
        texts.append(pd.DataFrame({"row": np.arange(count), "slot": slot, "text": text}))
    found = pd.concat(texts, ignore_index=True).sort_values(["row", "slot"], kind="stable")
    found = found[found["text"].notna()]
    if scope == "district":  # one group per district (the rows are in district order), each reason once
        of_row = pd.factorize(pairs["district_code"], sort=True)[0]
        found["group"] = of_row[found["row"].to_numpy()]
        found = found.drop_duplicates(["group", "text"])
    else:
        of_row = np.arange(count)
        found["group"] = found["row"]
    groups = int(of_row.max()) + 1 if count else 0
    reasons = join_by_group(found["group"].to_numpy(), groups, found["text"].to_numpy(dtype=object), "; ")[of_row]
    absent = [np.isnan(values) for *_, values in sides]
    labels = [label for label, *_ in sides]
    both = f"{no_value} {labels[0]} and {labels[1]}"
    value_missing = np.where(absent[0] & absent[1], both,
                             np.where(absent[0], f"{no_value} {labels[0]}",
                                      np.where(absent[1], f"{no_value} {labels[1]}", None)))
    reasons = np.where(pd.isna(reasons), value_missing, reasons)
    return pd.Series(reasons, index=pairs.index, dtype="string")


CHANGE_COLUMNS = [
    "district_code", "district_name", "subject", "start_year", "end_year", "score_start", "score_end",
    "n_start", "n_end", "change", "excluded", "exclusion_reason", "grades_compared",
]


def _rescored(grades_used: pd.Series, grade_n: pd.Series, grade_vss: pd.Series, compared: list[int]
              ) -> tuple[np.ndarray, np.ndarray]:
    """(score, n) per row over the grades in ``compared`` (NaN and 0 for a row without lists)."""
    parents, grades = flattened(arrow_lists(grades_used))
    keep = np.isin(grades, compared)
    n = flattened(arrow_lists(grade_n))[1][keep]
    v = flattened(arrow_lists(grade_vss, pa.float64()))[1][keep]
    return grouped_weighted_scores(parents[keep], len(grades_used), n.astype(float), v)


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
    pairs = pair_frame(scores_start, scores_end, ["grades_used", "grade_n", "grade_vss", "suppressed_grades"])
    frame = pd.DataFrame({column: pairs[column] for column in ("district_code", "district_name", "subject")})
    sides = []
    for side, label in (("start", start_year), ("end", end_year)):  # a key absent from a year has no lists there
        score, n = _rescored(pairs[f"grades_used_{side}"], pairs[f"grade_n_{side}"], pairs[f"grade_vss_{side}"], compared)
        hidden = list_texts(arrow_lists(pairs[f"suppressed_grades_{side}"]), compared, sort=True)
        sides.append((label, side, hidden, score))
        frame[f"{side}_year"] = label
        frame[f"score_{side}"] = pd.array(score, dtype="Float64")
        frame[f"n_{side}"] = pd.array(n, dtype="Int64")
    frame["exclusion_reason"] = exclusion_reasons(pairs, sides, scope, "no row in {label}", "grade",
                                                  "no scored grade in")
    frame["excluded"] = frame["exclusion_reason"].notna().to_numpy(dtype=bool)
    frame["change"] = (frame["score_end"] - frame["score_start"]).mask(frame["excluded"])
    frame["grades_compared"] = [compared] * len(frame)
    return frame[CHANGE_COLUMNS]


YEARLY_COLUMNS = [*CHANGE_COLUMNS, "years_apart", "low_participation", "in_cohort", "rank_cohort"]


def years_between(start: str, end: str) -> int:
    """School years from ``start`` to ``end`` ('2018-19' to '2021-22': 3)."""
    return start_of(end) - start_of(start)


def yearly_changes(
    scores_by_year: dict[str, pd.DataFrame], cohort_codes, scope: str = "district", grades: Iterable[int] = DEFAULT_GRADES
) -> pd.DataFrame:
    """Section 2's suppression-filtered change between every two consecutive school years held (section 11).

    One block of rows per pair (``start_year`` -> ``end_year``), the cohort ranked within each pair and subject.
    A pair more than one school year apart (no test in spring 2020) carries its span in ``years_apart``, and is
    ranked within its own block, never with one-year changes. ``cohort_codes``: the cohort's codes, or a mapping
    end year -> the codes of the cohort designated for that year. ``low_participation``: flagged in either year.
    """
    blocks = []
    years = sort_years(scores_by_year)
    for previous, year in zip(years, years[1:]):
        start, end = scores_by_year[previous], scores_by_year[year]
        pair = score_changes(start, end, previous, year, scope, grades)
        pair["years_apart"] = years_between(previous, year)
        flagged = [side.loc[side["low_participation"].astype(bool), ["district_code", "subject"]]
                   for side in (start, end) if "low_participation" in side]
        keys = pd.MultiIndex.from_frame(pair[["district_code", "subject"]].astype(object))
        pair["low_participation"] = keys.isin(pd.MultiIndex.from_frame(pd.concat(flagged).astype(object))) \
            if flagged else np.zeros(len(pair), dtype=bool)
        codes = cohort_codes.get(year, ()) if isinstance(cohort_codes, Mapping) else cohort_codes
        blocks.append(add_cohort_ranks(pair, codes))
    if not blocks:
        return pd.DataFrame(columns=YEARLY_COLUMNS)
    return pd.concat(blocks, ignore_index=True)[YEARLY_COLUMNS]

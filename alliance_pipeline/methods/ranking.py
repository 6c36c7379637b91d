"""Ranking helpers shared by the indicators: descending, ties share the lowest rank ("min")."""

from __future__ import annotations

import pandas as pd


def rank_descending(values: pd.Series) -> pd.Series:
    """1 for the highest value; ties get the same (lowest) rank; nulls stay null."""
    return values.astype("Float64").rank(method="min", ascending=False).astype("Int64")


def top_n(ranks: pd.Series, n: int) -> pd.Series:
    """Rows whose rank is within the top n (every tie at the cut-off included)."""
    return ranks.notna() & (ranks <= n)


def add_cohort_ranks(frame: pd.DataFrame, cohort_codes, value: str = "change", by: str = "subject") -> pd.DataFrame:
    """Mark cohort members and rank the non-excluded ones within each subject (descending)."""
    out = frame.copy()
    out["in_cohort"] = out["district_code"].isin(set(cohort_codes))
    out["rank_cohort"] = pd.array([None] * len(out), dtype="Int64")
    eligible = out[out["in_cohort"] & ~out["excluded"].astype(bool) & out[value].notna()]
    for _, group in eligible.groupby(by):
        out.loc[group.index, "rank_cohort"] = rank_descending(group[value])
    return out

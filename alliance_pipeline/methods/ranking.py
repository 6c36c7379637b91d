"""Ranking helpers shared by the indicators: descending, ties share the lowest rank ("min")."""

from __future__ import annotations

import pandas as pd


def rank_descending(values: pd.Series) -> pd.Series:
    """1 for the highest value; ties get the same (lowest) rank; nulls stay null."""
    return rank_descending_within(values, pd.Series(0, index=values.index))


def rank_descending_within(values: pd.Series, groups: pd.Series) -> pd.Series:
    """1 for the highest value of each group; ties get the same (lowest) rank; rows without a group or a
    value stay null."""
    return values.astype("Float64").groupby(groups).rank(method="min", ascending=False).astype("Int64")


def top_n(ranks: pd.Series, n: int) -> pd.Series:
    """Rows whose rank is within the top n (every tie at the cut-off included)."""
    return ranks.notna() & (ranks <= n)


def add_cohort_ranks(frame: pd.DataFrame, cohort_codes, value: str = "change", by: str = "subject") -> pd.DataFrame:
    """Mark cohort members and rank the non-excluded ones within each subject (descending)."""
    out = frame.copy()
    out["in_cohort"] = out["district_code"].isin(set(cohort_codes))
    eligible = out["in_cohort"] & ~out["excluded"].astype(bool) & out[value].notna()
    out["rank_cohort"] = rank_descending_within(out[value].where(eligible), out[by])
    return out

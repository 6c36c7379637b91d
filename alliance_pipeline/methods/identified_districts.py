"""Section 5: the identified (top-performing) cohort districts.

Six indicators: SBAC change Math and ELA, T-score change Math and ELA, growth
rate Math and ELA. For each available indicator the cohort districts are
ranked descending (rank method "min") and the top N taken, every tie at the
cut-off included. The identified set is the union; each district lists the
indicators that put it there and its rank in each.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from alliance_pipeline.methods.grouped import group_lists
from alliance_pipeline.methods.ranking import top_n


@dataclass(frozen=True)
class Indicator:
    name: str  # e.g. "SBAC change Math"
    asset: str  # the asset whose table it is read from
    subject: str
    value: str  # the column ranked


INDICATORS = (
    Indicator("SBAC change Math", "sbac_score_changes", "Math", "change"),
    Indicator("SBAC change ELA", "sbac_score_changes", "ELA", "change"),
    Indicator("T-score change Math", "t_score_changes", "Math", "change"),
    Indicator("T-score change ELA", "t_score_changes", "ELA", "change"),
    Indicator("Growth rate Math", "growth_rankings", "Math", "growth_rate"),
    Indicator("Growth rate ELA", "growth_rankings", "ELA", "growth_rate"),
)

IDENTIFIED_COLUMNS = ["district_code", "district_name", "n_indicators", "indicators", "ranks", "values", "best_rank"]
SELECTION_COLUMNS = ["indicator", "district_code", "district_name", "rank_cohort", "value"]


def indicator_selections(tables: dict[str, pd.DataFrame | None], n: int = 3) -> tuple[pd.DataFrame, dict[str, str]]:
    """Top-n cohort rows per available indicator, and why the others are unavailable.

    ``tables`` maps an asset name to its table (with ``rank_cohort``), or to None
    when it is unavailable.
    """
    if n < 1:
        raise ValueError("top N must be at least 1")
    picked = []
    unavailable: dict[str, str] = {}
    for indicator in INDICATORS:
        table = tables.get(indicator.asset)
        if table is None or table.empty:
            unavailable[indicator.name] = f"{indicator.asset} has no rows"
            continue
        rows = table[(table["subject"] == indicator.subject) & table["rank_cohort"].notna()]
        if rows.empty:
            unavailable[indicator.name] = f"no cohort district has a {indicator.value} in {indicator.asset}"
            continue
        chosen = rows[top_n(rows["rank_cohort"], n)].sort_values(["rank_cohort", "district_code"])
        picked.append(pd.DataFrame({
            "indicator": indicator.name,
            "district_code": chosen["district_code"].to_numpy(dtype=object),
            "district_name": chosen["district_name"].to_numpy(dtype=object),
            "rank_cohort": chosen["rank_cohort"].to_numpy(dtype="int64"),
            "value": chosen[indicator.value].to_numpy(dtype="float64"),
        }, columns=SELECTION_COLUMNS))
    if not picked:
        return pd.DataFrame(columns=SELECTION_COLUMNS), unavailable
    return pd.concat(picked, ignore_index=True), unavailable


def identified_districts(selections: pd.DataFrame) -> pd.DataFrame:
    """The union of the selections: one row per district with its indicators and ranks."""
    if selections.empty:
        return pd.DataFrame(columns=IDENTIFIED_COLUMNS)
    order = {indicator.name: i for i, indicator in enumerate(INDICATORS)}
    rows = selections.assign(order=selections["indicator"].map(order)).sort_values(
        ["district_code", "order"], kind="stable")
    grouped = rows.groupby("district_code", sort=True)
    group = grouped.ngroup().to_numpy()
    count = grouped.ngroups
    frame = pd.DataFrame({
        "district_code": grouped["district_code"].first(skipna=False).to_numpy(dtype=object),
        "district_name": grouped["district_name"].first(skipna=False).to_numpy(dtype=object),
        "n_indicators": grouped.size().to_numpy(),
        "indicators": group_lists(group, count, rows["indicator"].to_numpy(dtype=object), pa.string()),
        "ranks": group_lists(group, count, rows["rank_cohort"].to_numpy(dtype="int64"), pa.int64()),
        "values": group_lists(group, count, rows["value"].to_numpy(dtype="float64"), pa.float64()),
        "best_rank": grouped["rank_cohort"].min().to_numpy(dtype="int64"),
    }, columns=IDENTIFIED_COLUMNS)
    if len(frame):
        frame = frame.sort_values(["n_indicators", "best_rank", "district_code"], ascending=[False, True, True])
    return frame.reset_index(drop=True)


def select_and_identify(
    tables: dict[str, pd.DataFrame | None], reasons: dict[str, str], n: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Section 5 end to end: (selections, identified districts, unavailable indicator -> why).

    ``reasons`` maps an asset name to why its table is missing; an indicator read from that
    asset is reported with that reason instead of a generic one.
    """
    selections, missing = indicator_selections(tables, n)
    for indicator in INDICATORS:
        if indicator.name in missing and reasons.get(indicator.asset):
            missing[indicator.name] = reasons[indicator.asset]
    return selections, identified_districts(selections), missing

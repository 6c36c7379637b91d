"""Section 3: growth rankings from the Smarter Balanced Growth Report.

The indicator is the Growth Rate (percent of matched students who met their
growth target), ranked descending within the cohort and statewide; the
Average Percentage of Target Achieved is kept beside it. A suppressed growth
rate excludes the district from the ranking, with the reason.
"""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.methods.ranking import rank_descending_within
from alliance_pipeline.methods.rows import district_rows

GROWTH_COLUMNS = [
    "school_year", "district_code", "district_name", "subject", "in_cohort", "matched_students",
    "growth_rate", "avg_pct_target_achieved", "rank_cohort", "rank_state", "excluded",
    "exclusion_reason", "source_row",
]


def growth_rankings(raw: pd.DataFrame, cohort_codes: set[str] | frozenset[str]) -> pd.DataFrame:
    rows = district_rows(raw).copy()
    rows["in_cohort"] = rows["district_code"].isin(cohort_codes)
    rows["excluded"] = rows["growth_rate"].isna()
    rows["exclusion_reason"] = pd.Series("growth rate suppressed", index=rows.index, dtype="string").where(rows["excluded"])
    rows["rank_state"] = rank_descending_within(rows["growth_rate"], rows["subject"])
    rows["rank_cohort"] = rank_descending_within(rows["growth_rate"].where(rows["in_cohort"]), rows["subject"])
    rows = rows.sort_values(["subject", "rank_state", "district_code"], na_position="last")
    return rows[GROWTH_COLUMNS].reset_index(drop=True)

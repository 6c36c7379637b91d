"""Section 6: CSDE's identification of Alliance Districts (steps 1-4) and Opportunity Districts.

1. Keep local (code suffix 11) and regional (12) districts only.
2. Keep districts with at least the threshold of students (1,000) in the index year;
   a suppressed enrollment is unknown: reported, never taken as 0, and not kept.
3. Sort by Accountability Index ascending and take the lowest N (30); districts
   tied with the N-th are all taken.
4. Add every district designated in the prior period that steps 1-3 did not select.
Opportunity Districts: the designated districts with the lowest index (10).

Every district's decision at every step, with its reason, is kept: the audit trail.
"""

from __future__ import annotations

import pandas as pd

ORGANIZATION_TYPES = {
    "11": "local district",
    "12": "regional district",
    "13": "public charter",
    "14": "regional educational service center",
    "15": "state agency / unified school district",
    "16": "technical high school system",
    "22": "endowed academy",
}
KEPT_TYPES = frozenset({"11", "12"})

IDENTIFICATION_COLUMNS = [
    "district_code", "district_name", "organization_type", "enrollment", "enrollment_suppressed",
    "accountability_index", "index_rank", "step1_kept", "step1_reason", "step2_kept", "step2_reason",
    "step3_selected", "step3_reason", "prior_designee", "step4_added", "step4_reason", "designated",
    "admitted_by", "designation_year", "index_year",
]


def organization_type(code: str) -> str:
    suffix = str(code)[-2:]
    return ORGANIZATION_TYPES.get(suffix, f"unknown (code suffix {suffix})")


def _year_start(year: str) -> int:
    return int(str(year)[:4])


def prior_designees(roster: pd.DataFrame, first_year: str, last_year: str) -> set[str]:
    """Districts designated in any school year from first_year to last_year inclusive."""
    lo, hi = _year_start(first_year), _year_start(last_year)
    overlaps = roster.apply(lambda r: _year_start(r["first_year"]) <= hi and _year_start(r["last_year"]) >= lo, axis=1)
    return set(roster.loc[overlaps, "district_code"]) if len(roster) else set()


def accountability_index(accountability: pd.DataFrame) -> dict[str, float]:
    """district code -> Accountability Index (the export's outcome rate) of one year's accountability export,
    districts only (aggregate rows dropped; a suppressed index is NaN)."""
    if "is_aggregate" in accountability:
        accountability = accountability[~accountability["is_aggregate"].astype(bool)]
    return dict(zip(accountability["district_code"], accountability["outcome_rate_pct"]))


def alliance_identification(
    enrollment: pd.DataFrame,
    accountability: pd.DataFrame,
    roster: pd.DataFrame,
    *,
    designation_year: str = "2017-18",
    index_year: str = "2015-16",
    enrollment_threshold: int = 1000,
    lowest_n: int = 30,
    prior_first_year: str = "2012-13",
    prior_last_year: str = "2016-17",
) -> pd.DataFrame:
    """The audit trail: one row per district in the enrollment or index data."""
    enrollment = enrollment[~enrollment["is_aggregate"].astype(bool)] if "is_aggregate" in enrollment else enrollment
    accountability = accountability[~accountability["is_aggregate"].astype(bool)] if "is_aggregate" in accountability else accountability
    prior = prior_designees(roster, prior_first_year, prior_last_year)
    names = dict(zip(enrollment["district_code"], enrollment["district_name"]))
    names.update({k: v for k, v in zip(accountability["district_code"], accountability["district_name"]) if k not in names})
    names.update({k: v for k, v in zip(roster["district_code"], roster["district_name"]) if k not in names})
    counts = dict(zip(enrollment["district_code"], enrollment["student_count"]))
    index = accountability_index(accountability)

    rows = []
    for code in sorted(names):
        suffix = str(code)[-2:]
        kind = organization_type(code)
        row = {
            "district_code": code,
            "district_name": names[code],
            "organization_type": kind,
            "enrollment": None if code not in counts or pd.isna(counts[code]) else int(counts[code]),
            "enrollment_suppressed": code in counts and pd.isna(counts[code]),
            "accountability_index": None if code not in index or pd.isna(index[code]) else float(index[code]),
            "index_rank": None,
            "prior_designee": code in prior,
            "designation_year": designation_year,
            "index_year": index_year,
        }
        row["step1_kept"] = suffix in KEPT_TYPES
        row["step1_reason"] = f"{kind}: {'kept' if row['step1_kept'] else 'excluded by step 1'}"
        if not row["step1_kept"]:
            row["step2_kept"], row["step2_reason"] = False, "not considered (excluded by step 1)"
        elif code not in counts:
            row["step2_kept"], row["step2_reason"] = False, f"no enrollment row for {index_year}"
        elif row["enrollment_suppressed"]:
            row["step2_kept"] = False
            row["step2_reason"] = f"enrollment suppressed in {index_year}: unknown, so not shown to reach {enrollment_threshold:,}"
        else:
            row["step2_kept"] = row["enrollment"] >= enrollment_threshold
            relation = ">=" if row["step2_kept"] else "<"
            row["step2_reason"] = f"{row['enrollment']:,} students {relation} {enrollment_threshold:,} in {index_year}"
        rows.append(row)

    frame = pd.DataFrame(rows)
    eligible = frame["step2_kept"] & frame["accountability_index"].notna()
    ranks = frame.loc[eligible, "accountability_index"].rank(method="min", ascending=True)
    frame["index_rank"] = pd.array([None] * len(frame), dtype="Int64")
    frame.loc[eligible, "index_rank"] = ranks.astype("Int64")
    frame["step3_selected"] = eligible & (frame["index_rank"] <= lowest_n).fillna(False)
    cut = frame.loc[frame["step3_selected"], "accountability_index"].max() if frame["step3_selected"].any() else None
    over_cut = int(frame["step3_selected"].sum()) > lowest_n

    def step3_reason(r) -> str:
        if not r["step2_kept"]:
            return "not considered (excluded by step 1 or 2)"
        if pd.isna(r["accountability_index"]):
            return f"no Accountability Index for {index_year}"
        place = f"index {r['accountability_index']:.2f}, rank {int(r['index_rank'])} from the lowest"
        if r["step3_selected"]:
            tie = " (tied at the cut-off)" if over_cut and r["accountability_index"] == cut else ""
            return f"{place}: among the {lowest_n} lowest{tie}"
        return f"{place}: above the {lowest_n} lowest"

    frame["step3_reason"] = frame.apply(step3_reason, axis=1)
    frame["step4_added"] = frame["prior_designee"] & ~frame["step3_selected"]
    frame["step4_reason"] = [
        f"designated {prior_first_year} to {prior_last_year}; added by step 4" if added
        else (f"designated {prior_first_year} to {prior_last_year}; already selected by step 3" if was
              else "not previously designated")
        for added, was in zip(frame["step4_added"], frame["prior_designee"])
    ]
    frame["designated"] = frame["step3_selected"] | frame["step4_added"]
    frame["admitted_by"] = pd.array(
        ["steps 1-3" if s3 else ("step 4" if s4 else None) for s3, s4 in zip(frame["step3_selected"], frame["step4_added"])],
        dtype="string",
    )
    frame["enrollment"] = frame["enrollment"].astype("Int64")
    frame["accountability_index"] = frame["accountability_index"].astype("Float64")
    for column in ("step1_kept", "step2_kept", "step3_selected", "prior_designee", "step4_added", "designated",
                   "enrollment_suppressed"):
        frame[column] = frame[column].astype(bool)
    return frame[IDENTIFICATION_COLUMNS]


OPPORTUNITY_COLUMNS = ["district_code", "district_name", "accountability_index", "opportunity_rank", "admitted_by", "index_year"]


def opportunity_districts(
    identification: pd.DataFrame, count: int = 10, index: dict[str, float] | None = None, index_year: str | None = None,
) -> pd.DataFrame:
    """The designated districts with the lowest Accountability Index (ties at the cut-off included).

    By default the index is the one the designation used (``identification``'s index year). ``index`` (from
    ``accountability_index``) with its ``index_year`` ranks the same designated districts by another year's index:
    CSDE's published Opportunity list is not simply the lowest ten on the 2015-16 index, so the year is a choice."""
    designated = identification[identification["designated"]].copy()
    if index is not None:
        designated["accountability_index"] = pd.array(
            [index.get(code) for code in designated["district_code"]], dtype="Float64")
        designated["index_year"] = index_year
    designated = designated[designated["accountability_index"].notna()]
    designated["opportunity_rank"] = designated["accountability_index"].rank(method="min", ascending=True).astype("Int64")
    chosen = designated[designated["opportunity_rank"] <= count].sort_values(["opportunity_rank", "district_code"])
    return chosen[OPPORTUNITY_COLUMNS].reset_index(drop=True)

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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alliance_pipeline.methods.rows import district_rows
from alliance_pipeline.school_year import start_of, starts_of

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
    return organization_types(pd.Series([str(code)])).iloc[0]


def organization_types(codes: pd.Series) -> pd.Series:
    """Each district code's organization type, from its last two digits."""
    suffix = _suffixes(codes)
    return suffix.map(ORGANIZATION_TYPES).fillna("unknown (code suffix " + suffix + ")").astype(object)


def _suffixes(codes: pd.Series) -> pd.Series:
    return codes.astype(str).str[-2:]


def prior_designees(roster: pd.DataFrame, first_year: str, last_year: str) -> set[str]:
    """Districts designated in any school year from first_year to last_year inclusive."""
    if not len(roster):
        return set()
    lo, hi = start_of(first_year), start_of(last_year)
    starts = starts_of(roster["first_year"])
    ends = starts_of(roster["last_year"])
    return set(roster.loc[(starts <= hi) & (ends >= lo), "district_code"])


def _districts_only(frame: pd.DataFrame) -> pd.DataFrame:
    return district_rows(frame)


def accountability_index(accountability: pd.DataFrame) -> dict[str, float]:
    """district code -> Accountability Index (the export's outcome rate) of one year's accountability export,
    districts only (aggregate rows dropped; a suppressed index is NaN)."""
    return _index(accountability).to_dict()


def district_totals(accountability: pd.DataFrame) -> pd.DataFrame:
    """The district-total rows of an accountability export: EdSight's full export also has school rows and other
    categories; the Accountability Index is ``OutcomeRatePct`` of ``Category = DistrictTot`` (school code 0000000).
    The 7-column extract holds those rows only."""
    rows = _districts_only(accountability)
    if "category" in rows:
        rows = rows[rows["category"].eq("DistrictTot").fillna(False).to_numpy(dtype=bool)]
    if "school_code" in rows:
        rows = rows[rows["school_code"].eq("0000000").fillna(False).to_numpy(dtype=bool)]
    return rows


def _index(accountability: pd.DataFrame) -> pd.Series:
    return _last(district_totals(accountability), "outcome_rate_pct")


def _last(frame: pd.DataFrame, column: str) -> pd.Series:
    """district code -> ``column`` (the last row of a code listed twice)."""
    return frame.drop_duplicates("district_code", keep="last").set_index("district_code")[column]


@dataclass(frozen=True)
class Rule:
    """Section 6's settings for one designation (the statute's readings: the enrollment floor, how many are taken).
    Its defaults are CSDE's 2017-18 designation, and the one definition of them: ``alliance_identification``'s
    keywords and the ``identification_settings`` resource take theirs from here."""

    index_year: str = "2015-16"
    designation_year: str = "2017-18"
    enrollment_threshold: int = 1000
    lowest_n: int = 30
    prior_first_year: str = "2012-13"
    prior_last_year: str = "2016-17"


def alliance_identification(
    enrollment: pd.DataFrame,
    accountability: pd.DataFrame,
    roster: pd.DataFrame,
    *,
    designation_year: str = Rule.designation_year,
    index_year: str = Rule.index_year,
    enrollment_threshold: int = Rule.enrollment_threshold,
    lowest_n: int = Rule.lowest_n,
    prior_first_year: str = Rule.prior_first_year,
    prior_last_year: str = Rule.prior_last_year,
    prior: set[str] | None = None,
    prior_label: str | None = None,
) -> pd.DataFrame:
    """The audit trail: one row per district in the enrollment or index data.

    Step 4's prior designees are the roster's districts designated from ``prior_first_year`` to
    ``prior_last_year``, or ``prior`` (described by ``prior_label``) for a designation that follows another."""
    enrollment, accountability = _districts_only(enrollment), district_totals(accountability)
    if prior is None:
        prior = prior_designees(roster, prior_first_year, prior_last_year)
    frame, count, has_row = _considered(enrollment, accountability, roster, prior)
    frame["designation_year"], frame["index_year"] = designation_year, index_year
    kept = _step1(frame)
    _step2(frame, kept, count, has_row, enrollment_threshold, index_year)
    _step3(frame, lowest_n, index_year)
    _step4(frame, prior_label or f"designated {prior_first_year} to {prior_last_year}")
    frame["designated"] = frame["step3_selected"] | frame["step4_added"]
    frame["admitted_by"] = pd.Series(
        np.select([frame["step3_selected"].to_numpy(), frame["step4_added"].to_numpy()], ["steps 1-3", "step 4"], None),
        index=frame.index, dtype="string")
    for column in ("step1_kept", "step2_kept", "step3_selected", "prior_designee", "step4_added", "designated",
                   "enrollment_suppressed"):
        frame[column] = frame[column].astype(bool)
    for column in ("district_code", "organization_type", "step1_reason"):  # plain Python text, as the other reasons
        frame[column] = frame[column].to_numpy(dtype=object)
    return frame[IDENTIFICATION_COLUMNS]



def _considered(enrollment: pd.DataFrame, accountability: pd.DataFrame, roster: pd.DataFrame,
                prior: set[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Every district in the enrollment or index data, with its name, type, enrollment and index; and each one's
    student count (NaN: none or suppressed) and whether it has an enrollment row."""
    # a district's name: from the enrollment export, else the index export, else the roster
    names = pd.concat([_last(source, "district_name") for source in (enrollment, accountability, roster)])
    names = names[~names.index.duplicated(keep="first")].sort_index()
    codes = pd.Series(names.index, dtype=object)
    counts = _last(enrollment, "student_count")
    index = _index(accountability)
    frame = pd.DataFrame({"district_code": codes, "district_name": names.to_numpy()})
    frame["organization_type"] = organization_types(codes)
    has_row = codes.isin(counts.index).to_numpy()
    count = pd.to_numeric(counts.reindex(codes), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    frame["enrollment"] = pd.array(count, dtype="Float64").astype("Int64")
    frame["enrollment_suppressed"] = has_row & np.isnan(count)
    frame["accountability_index"] = pd.array(
        pd.to_numeric(index.reindex(codes), errors="coerce").to_numpy(dtype=float, na_value=np.nan), dtype="Float64")
    frame["prior_designee"] = codes.isin(prior).to_numpy()
    return frame, count, has_row


def _step1(frame: pd.DataFrame) -> np.ndarray:
    """Step 1: towns and regional districts are kept (by the code's last two digits)."""
    kept = _suffixes(frame["district_code"]).isin(KEPT_TYPES).to_numpy()
    frame["step1_kept"] = kept
    frame["step1_reason"] = frame["organization_type"] + np.where(kept, ": kept", ": excluded by step 1").astype(object)
    return kept


def _step2(frame: pd.DataFrame, kept: np.ndarray, count: np.ndarray, has_row: np.ndarray, enrollment_threshold: int,
           index_year: str) -> None:
    """Step 2: a kept district whose known enrollment reaches the threshold."""
    reaches = np.nan_to_num(count, nan=-1) >= enrollment_threshold
    threshold = f"{enrollment_threshold:,}"
    students = frame["enrollment"].map("{:,}".format, na_action="ignore").astype(object)
    frame["step2_kept"] = kept & has_row & ~frame["enrollment_suppressed"].to_numpy() & reaches
    frame["step2_reason"] = np.select(
        [~kept, ~has_row, frame["enrollment_suppressed"].to_numpy()],
        ["not considered (excluded by step 1)", f"no enrollment row for {index_year}",
         f"enrollment suppressed in {index_year}: unknown, so not shown to reach {threshold}"],
        (students + np.where(reaches, " students >= ", " students < ").astype(object) + f"{threshold} in {index_year}"),
    )


def _step3(frame: pd.DataFrame, lowest_n: int, index_year: str) -> None:
    """Step 3: the ``lowest_n`` lowest Accountability Index among step 2's districts (ties at the cut all kept)."""
    eligible = frame["step2_kept"] & frame["accountability_index"].notna()
    frame["index_rank"] = frame["accountability_index"].where(eligible).rank(method="min", ascending=True).astype("Int64")
    frame["step3_selected"] = (eligible & (frame["index_rank"] <= lowest_n).fillna(False)).astype(bool)
    cut = frame.loc[frame["step3_selected"], "accountability_index"].max() if frame["step3_selected"].any() else None
    over_cut = int(frame["step3_selected"].sum()) > lowest_n
    place = ("index " + frame["accountability_index"].map("{:.2f}".format, na_action="ignore").astype(object)
             + ", rank " + frame["index_rank"].map(str, na_action="ignore").astype(object) + " from the lowest")
    tied = ((frame["accountability_index"] == cut).fillna(False).to_numpy(dtype=bool) if over_cut
            else np.zeros(len(frame), dtype=bool))
    frame["step3_reason"] = np.select(
        [~frame["step2_kept"].to_numpy(), frame["accountability_index"].isna().to_numpy(),
         frame["step3_selected"].to_numpy()],
        ["not considered (excluded by step 1 or 2)", f"no Accountability Index for {index_year}",
         place + f": among the {lowest_n} lowest" + np.where(tied, " (tied at the cut-off)", "").astype(object)],
        place + f": above the {lowest_n} lowest",
    )


def _step4(frame: pd.DataFrame, period: str) -> None:
    """Step 4: every earlier designee (``period`` says which) not selected by step 3 is added."""
    frame["step4_added"] = frame["prior_designee"] & ~frame["step3_selected"]
    frame["step4_reason"] = np.select(
        [frame["step4_added"].to_numpy(), frame["prior_designee"].to_numpy()],
        [f"{period}; added by step 4", f"{period}; already selected by step 3"], "not previously designated")

OPPORTUNITY_COLUMNS = ["district_code", "district_name", "accountability_index", "opportunity_rank", "admitted_by", "index_year"]


AUDIT_DTYPES = {
    "district_code": "string", "district_name": "string", "organization_type": "string", "enrollment": "Int64",
    "enrollment_suppressed": bool, "accountability_index": "Float64", "index_rank": "Int64", "step1_kept": bool,
    "step1_reason": "string", "step2_kept": bool, "step2_reason": "string", "step3_selected": bool,
    "step3_reason": "string", "prior_designee": bool, "step4_added": bool, "step4_reason": "string", "designated": bool,
    "admitted_by": "string", "designation_year": "string", "index_year": "string",
}


def empty_audit() -> pd.DataFrame:
    """The audit trail's columns with no district: a designation whose index year has no export."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in AUDIT_DTYPES.items()})


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

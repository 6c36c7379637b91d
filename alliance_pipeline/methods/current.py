"""Section 13, how they are doing now: the share of students meeting the standard, every tested year to the newest.

EdSight's *all grades combined* Smarter Balanced export (``sbac_district_combined``) gives, per district and
subject, the students with scored tests and those at "Level 3&4 Met or Exceeded": no scale score, so this is a
different measure from sections 1-2 (a weighted scale score), said wherever the two meet.

- ``share_met``: every district's share meeting the standard per year and subject, the state's share computed
  from the same export's districts (the export has no state row) with its coverage, and the distance between them.
  A share is the count over the scored students (not the rounded published percentage), so a state figure is an
  exact sum. 2014-15's combined figures also count grade 11 (tested that year only): its grade 11 rows, from the
  by-grade export when it is held, are taken out so every year is grades 3-8; without that export the year says
  "grades 3-8 and 11".
- ``doing_now``: the current cohort's and the study's identified districts' shares in every year from the first
  held to the newest, gap years as rows with their reason (never interpolated), and the change of the share and
  of the distance to the state since the group's first year and since the study's end year; each group's own
  figure over its districts, a change always over the districts held in both years.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from alliance_pipeline.methods.rows import district_rows
from alliance_pipeline.school_year import sort_years, start_of, starts_of, year_label

MET = "level_3_4_met_or_exceeded_count"
# EdSight's combined report counts grade 11 in the one year it was tested (../shared/edsight-extra/README.md: its
# counts equal the by-grade rows' sums, grades 3-8 and 11 in 2014-15).
GRADE_11_YEARS = frozenset({"2014-15"})
GRADES = "3-8"

SHARE_COLUMNS = ["school_year", "district_code", "district_name", "subject", "total_scored", "met_count",
                 "share_met", "grades", "why_missing", "state_share", "state_districts", "state_coverage_pct",
                 "distance_to_state"]


def _counts(frame: pd.DataFrame) -> pd.DataFrame:
    rows = district_rows(frame)
    rows = rows[~rows["code_missing"].astype(bool)] if "code_missing" in rows else rows
    return pd.DataFrame({
        "district_code": rows["district_code"].astype(str).to_numpy(),
        "district_name": rows["district_name"].astype(str).to_numpy(),
        "subject": rows["subject"].astype(str).to_numpy(),
        "total_scored": pd.to_numeric(rows["total_scored"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        "met_count": pd.to_numeric(rows[MET], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
    })


def _without_grade_11(counts: pd.DataFrame, by_grade: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The combined counts less each district's grade 11 row (by-grade export); a suppressed grade 11 cell leaves
    the district's grades 3-8 unknown. Returns the counts and, per row, why a figure is missing ("" when known)."""
    eleven = district_rows(by_grade)
    eleven = eleven[pd.to_numeric(eleven["grade"], errors="coerce") == 11]
    g11 = pd.DataFrame({
        "district_code": eleven["district_code"].astype(str).to_numpy(),
        "subject": eleven["subject"].astype(str).to_numpy(),
        "g11_scored": pd.to_numeric(eleven["total_scored"], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
        "g11_met": pd.to_numeric(eleven[MET], errors="coerce").to_numpy(dtype=float, na_value=np.nan),
    }).drop_duplicates(["district_code", "subject"])
    merged = counts.merge(g11, on=["district_code", "subject"], how="left", indicator=True)
    has_11 = (merged["_merge"] == "both").to_numpy()
    unknown = has_11 & (merged["g11_scored"].isna() | merged["g11_met"].isna()).to_numpy()
    merged["total_scored"] = np.where(has_11, merged["total_scored"] - merged["g11_scored"], merged["total_scored"])
    merged["met_count"] = np.where(has_11, merged["met_count"] - merged["g11_met"], merged["met_count"])
    why = pd.Series(np.where(unknown, "grade 11 cells suppressed in the by-grade export: grades 3-8 unknown", ""),
                    index=merged.index)
    return merged[counts.columns], why


def share_met(combined: Mapping[str, pd.DataFrame], by_grade: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Every district's share meeting the standard per school year and subject (see the module's docstring)."""
    by_grade = by_grade or {}
    blocks = []
    for year in sort_years(combined):
        counts = _counts(combined[year])
        why = pd.Series("", index=counts.index)
        grades = GRADES
        if year in GRADE_11_YEARS:
            if year in by_grade:
                counts, why = _without_grade_11(counts, by_grade[year])
                grades = f"{GRADES} (grade 11 taken out with the by-grade export)"
            else:
                grades = f"{GRADES} and 11 (the by-grade export of {year}, needed to take grade 11 out, is not held)"
        known = counts["total_scored"].gt(0) & counts["met_count"].notna() & why.eq("")
        why = why.where(why.ne(""), np.where(counts["total_scored"].isna() | counts["met_count"].isna(),
                                             "suppressed in the export", np.where(known, "", "no student scored in "
                                                                                  "grades 3-8")))
        counts["share_met"] = np.where(known, 100.0 * counts["met_count"] / counts["total_scored"], np.nan)
        counts["why_missing"] = why.where(~known, "")
        counts["grades"], counts["school_year"] = grades, year
        for subject, rows in counts.groupby("subject"):
            held = known[rows.index]
            scored = rows["total_scored"].where(rows["total_scored"] > 0)
            counts.loc[rows.index, "state_share"] = 100.0 * rows.loc[held, "met_count"].sum() / rows.loc[held, "total_scored"].sum() \
                if held.any() else np.nan
            counts.loc[rows.index, "state_districts"] = f"{int(held.sum())} of {int(scored.notna().sum())} districts"
            counts.loc[rows.index, "state_coverage_pct"] = 100.0 * rows.loc[held, "total_scored"].sum() / scored.sum() \
                if scored.notna().any() else np.nan
        blocks.append(counts)
    if not blocks:
        return pd.DataFrame({name: pd.Series(dtype="float64" if name in _FLOATS else "string") for name in SHARE_COLUMNS})
    frame = pd.concat(blocks, ignore_index=True)
    frame["distance_to_state"] = frame["share_met"] - frame["state_share"]
    for column in _FLOATS:
        frame[column] = frame[column].astype("Float64").round(6)
    return frame[SHARE_COLUMNS].sort_values(["school_year", "district_code", "subject"], key=_year_key).reset_index(drop=True)


_FLOATS = ("total_scored", "met_count", "share_met", "state_share", "state_coverage_pct", "distance_to_state")


def _year_key(column: pd.Series) -> pd.Series:
    return starts_of(column) if column.name == "school_year" else column


NOW_COLUMNS = ["group", "district_code", "district_name", "subject", "school_year", "status", "reason", "grades",
               "districts", "share_met", "state_share", "distance_to_state", "first_year", "share_change_since_first",
               "distance_change_since_first", "study_end_year", "share_change_since_study_end",
               "distance_change_since_study_end"]


def years_with_gaps(held: Iterable[str], gaps: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(school year, status, reason) of every year from the first held to the newest: 'held', or the gap's."""
    held = sort_years(held)
    if not held:
        return []
    reasons = {row.school_year: (row.status, row.reason) for row in gaps.itertuples(index=False)}
    first, last = start_of(held[0]), start_of(held[-1])
    out = []
    for start in range(first, last + 1):
        year = year_label(start)
        out.append((year, "held", "") if year in held else (year, *reasons.get(year, ("not in the source", "no export "
                                                                                      "of this year in the source"))))
    return out


def doing_now(shares: pd.DataFrame, groups: Mapping[str, tuple[set[str], str]], gaps: pd.DataFrame,
              study_end_year: str, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """For each group (label -> (district codes, its first school year)): each district's and the group's share
    meeting the standard and distance to the state in every year, and the changes since the group's first held year
    at or after its first school year and since ``study_end_year`` (see the module's docstring)."""
    names = dict(names or {})
    years = years_with_gaps(shares["school_year"].unique() if len(shares) else [], gaps)
    rows = []
    for label, (codes, first_year) in groups.items():
        held_years = [year for year, status, _ in years if status == "held"]
        base = next((year for year in held_years if start_of(year) >= start_of(first_year)), None)
        mine = shares[shares["district_code"].isin(codes)]
        for subject in ("ELA", "Math"):
            subject_rows = mine[mine["subject"] == subject]
            state = shares[shares["subject"] == subject].drop_duplicates("school_year").set_index("school_year")["state_share"]
            table = subject_rows.set_index(["district_code", "school_year"])
            for code in sorted(codes):
                for year, status, reason in years:
                    row = _district_row(table, code, year, status, reason)
                    rows.append({"group": label, "district_code": code,
                                 "district_name": names.get(code) or _name(subject_rows, code), "subject": subject,
                                 "school_year": year, "districts": 1, "first_year": base,
                                 "study_end_year": study_end_year, **row,
                                 **_changes(table, [code], year, base, study_end_year, state)})
            for year, status, reason in years:
                held = subject_rows[(subject_rows["school_year"] == year) & subject_rows["share_met"].notna()]
                share = _pooled(held)
                counted = len(held)
                rows.append({"group": label, "district_code": None,
                             "district_name": f"{label}: all {len(codes)} districts", "subject": subject,
                             "school_year": year, "status": status if status != "held" or counted else "suppressed",
                             "reason": reason if status != "held" else (
                                 f"{counted} of {len(codes)} districts published a share" if counted < len(codes) else ""),
                             "grades": held["grades"].iloc[0] if counted else None, "districts": counted,
                             "share_met": share, "state_share": state.get(year, np.nan) if status == "held" else np.nan,
                             "distance_to_state": share - state.get(year, np.nan) if status == "held" else np.nan,
                             "first_year": base, "study_end_year": study_end_year,
                             **_changes(table, sorted(codes), year, base, study_end_year, state)})
    frame = pd.DataFrame(rows, columns=NOW_COLUMNS)
    for column in ("share_met", "state_share", "distance_to_state", "share_change_since_first",
                   "distance_change_since_first", "share_change_since_study_end", "distance_change_since_study_end"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("Float64").round(6)
    frame["districts"] = frame["districts"].astype("Int64")
    for column in ("group", "district_code", "district_name", "subject", "school_year", "status", "reason", "grades",
                   "first_year", "study_end_year"):
        frame[column] = frame[column].astype("string")
    return frame


def _name(rows: pd.DataFrame, code: str) -> str | None:
    found = rows.loc[rows["district_code"] == code, "district_name"]
    return str(found.iloc[-1]) if len(found) else None


def _district_row(table: pd.DataFrame, code: str, year: str, status: str, reason: str) -> dict:
    if status != "held":
        return {"status": status, "reason": reason, "grades": None, "share_met": np.nan, "state_share": np.nan,
                "distance_to_state": np.nan}
    if (code, year) not in table.index:
        return {"status": "no row", "reason": f"no row in {year}", "grades": None, "share_met": np.nan,
                "state_share": np.nan, "distance_to_state": np.nan}
    row = table.loc[(code, year)]
    known = pd.notna(row["share_met"])
    return {"status": "held" if known else "suppressed", "reason": "" if known else row["why_missing"],
            "grades": row["grades"], "share_met": row["share_met"], "state_share": row["state_share"],
            "distance_to_state": row["distance_to_state"]}


def _pooled(rows: pd.DataFrame) -> float:
    scored = rows["total_scored"].astype(float).sum()
    return 100.0 * rows["met_count"].astype(float).sum() / scored if scored else np.nan


def _changes(table: pd.DataFrame, codes: list[str], year: str, first: str | None, study_end: str,
             state: pd.Series) -> dict:
    """The change of the pooled share and of its distance to the state from ``first`` and from ``study_end`` to
    ``year``, over the districts with a share in both years (one set of districts)."""
    out = {}
    for name, base in (("since_first", first), ("since_study_end", study_end)):
        share = distance = np.nan
        if base is not None and start_of(year) > start_of(base):
            both = [code for code in codes if _known(table, code, year) and _known(table, code, base)]
            if both:
                now = _pooled(table.loc[[(code, year) for code in both]])
                then = _pooled(table.loc[[(code, base) for code in both]])
                share = now - then
                distance = (now - state.get(year, np.nan)) - (then - state.get(base, np.nan))
        out[f"share_change_{name}"], out[f"distance_change_{name}"] = share, distance
    return out


def _known(table: pd.DataFrame, code: str, year: str) -> bool:
    return (code, year) in table.index and pd.notna(table.loc[(code, year), "share_met"])

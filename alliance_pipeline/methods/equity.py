"""Section 10: subgroup proficiency and equity gaps from the "by subgroup" SBAC exports.

    proficiency(group) = Level 3&4 Met or Exceeded Count / Total Number with Scored Tests x 100
    gap = proficiency(reference group) - proficiency(focal group)

Combined groups (meal eligible = F + R) add their rows' counts before dividing.
A group whose count cell is suppressed (``*``) has no proficiency, and a gap
that needs it is excluded with the reason (which group, which cell, which export
row), never shown as 0. A group with no row at all (the district has no such
students) is named as absent. The statewide, cohort and non-cohort gaps sum the
counts of the districts that published both groups; such a figure is the
scope's own only when no district's cell was withheld (``complete``), and the
tables say how many districts and rows it leaves out.

Pure pandas: nothing here knows Dagster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from alliance_pipeline.methods.grouped import group_lists, join_by_group
from alliance_pipeline.methods.rows import district_rows
from alliance_pipeline.school_year import previous_year, sort_years

SCORED = "total_scored"
MET = "level_3_4_met_or_exceeded_count"
CELL_LABELS = {SCORED: "Total Number with Scored Tests", MET: "Level 3&4 Met or Exceeded Count"}


@dataclass(frozen=True)
class Group:
    name: str  # e.g. "meal_eligible"
    family: str  # the export family it is read from
    values: tuple[str, ...]  # EdSight's subgroup values, summed
    label: str  # how a person reads it


GROUPS: dict[str, Group] = {
    group.name: group
    for group in (
        Group("white", "sbac_subgroup_race", ("White",), "White"),
        Group("black", "sbac_subgroup_race", ("Black or African American",), "Black or African American"),
        Group("hispanic", "sbac_subgroup_race", ("Hispanic/Latino of any race",), "Hispanic/Latino of any race"),
        Group("meal_not_eligible", "sbac_subgroup_meal", ("N",), "not eligible for free/reduced-price meals (N)"),
        Group("meal_eligible", "sbac_subgroup_meal", ("F", "R"), "eligible for free or reduced-price meals (F+R)"),
        Group("not_ell", "sbac_subgroup_ell", ("N",), "not an English learner (N)"),
        Group("ell", "sbac_subgroup_ell", ("Y",), "English learner (Y)"),
        Group("not_special_education", "sbac_subgroup_special_education", ("N",), "not in special education (N)"),
        Group("special_education", "sbac_subgroup_special_education", ("Y",), "special education (Y)"),
    )
}


@dataclass(frozen=True)
class Gap:
    name: str
    reference: str  # group name
    focal: str  # group name


GAPS = (
    Gap("White - Black", "white", "black"),
    Gap("White - Hispanic", "white", "hispanic"),
    Gap("Not eligible - meal eligible", "meal_not_eligible", "meal_eligible"),
    Gap("Not ELL - ELL", "not_ell", "ell"),
    Gap("Not special education - special education", "not_special_education", "special_education"),
)

SCOPES = ("state", "cohort", "non_cohort")

PROFICIENCY_COLUMNS = [
    "school_year", "district_code", "district_name", "in_cohort", "subject", "group", "group_label", "subgroups",
    "scored", "met", "proficiency", "available", "unavailable_reason", "source_rows",
]
GAP_COLUMNS = [
    "school_year", "district_code", "district_name", "in_cohort", "subject", "gap", "reference_group", "focal_group",
    "reference_scored", "reference_proficiency", "focal_scored", "focal_proficiency", "gap_value", "excluded",
    "exclusion_reason",
]
SUMMARY_COLUMNS = [
    "school_year", "scope", "subject", "gap", "reference_group", "focal_group", "reference_scored", "reference_met",
    "reference_proficiency", "focal_scored", "focal_met", "focal_proficiency", "gap_value", "reference_districts",
    "focal_districts", "districts", "paired_districts", "rows_left_out", "complete", "note",
]
CHANGE_COLUMNS = [
    "scope", "district_code", "district_name", "in_cohort", "subject", "gap", "start_year", "end_year", "gap_start",
    "gap_end", "change", "excluded", "exclusion_reason",
]


def _group_rows(raw: Mapping[str, Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    """Every district row of the subgroup exports that belongs to a group of GROUPS, one row per (row, group)."""
    mapping = pd.DataFrame(
        [(g.family, value, g.name) for g in GROUPS.values() for value in g.values], columns=["family", "subgroup", "group"]
    )
    frames = []
    for family, years in raw.items():
        for frame in years.values():
            rows = district_rows(frame)
            part = rows[["school_year", "district_code", "district_name", "subject", "subgroup", SCORED, MET, "source_row"]].copy()
            part["family"] = family
            frames.append(part)
    if not frames:
        return pd.DataFrame(columns=["school_year", "district_code", "district_name", "subject", "subgroup", SCORED, MET,
                                     "source_row", "family", "group"])
    rows = pd.concat(frames, ignore_index=True)
    for column in ("school_year", "district_code", "district_name", "subject", "subgroup", "family"):
        rows[column] = rows[column].astype(object)
    rows = rows.merge(mapping, on=["family", "subgroup"], how="inner")
    rows["published"] = rows[SCORED].notna() & rows[MET].notna()
    return rows


def _suppression_text(rows: pd.DataFrame) -> pd.Series:
    """Per row: '' when published, else which cells were suppressed, with the export row."""
    scored_missing = rows[SCORED].isna().to_numpy()
    met_missing = rows[MET].isna().to_numpy()
    cells = np.where(
        scored_missing & met_missing, f"{CELL_LABELS[SCORED]} and {CELL_LABELS[MET]}",
        np.where(scored_missing, CELL_LABELS[SCORED], CELL_LABELS[MET]),
    )
    combined = rows["group"].map({g.name: len(g.values) > 1 for g in GROUPS.values()}).astype(bool)
    value = (rows["subgroup"].astype(str) + ": ").where(combined, "")
    text = value + pd.Series(cells, index=rows.index) + " suppressed (export row " + rows["source_row"].astype(str) + ")"
    return text.where(~rows["published"], "")


def subgroup_proficiency(raw: Mapping[str, Mapping[str, pd.DataFrame]], cohort_codes: Iterable[str]) -> pd.DataFrame:
    """Proficiency per school year, district, subject and group (GROUPS).

    ``raw``: family -> school year -> the raw subgroup table. A group whose rows are all
    published gets ``met / scored x 100``; one with a suppressed cell is unavailable with the reason.
    """
    return _proficiency(_group_rows(raw), cohort_codes)


def _proficiency(rows: pd.DataFrame, cohort_codes: Iterable[str]) -> pd.DataFrame:
    """``subgroup_proficiency`` of the rows ``_group_rows`` read (a caller that needs the rows too reads them once)."""
    if rows.empty:
        return pd.DataFrame(columns=PROFICIENCY_COLUMNS)
    rows = rows.assign(why=_suppression_text(rows))
    keys = ["school_year", "district_code", "subject", "group"]
    rows = rows.sort_values([*keys, "subgroup"]).reset_index(drop=True)
    grouped = rows.groupby(keys, sort=True)
    group, count = grouped.ngroup().to_numpy(), grouped.ngroups
    frame = grouped.agg(district_name=("district_name", "first"), published=("published", "all")).reset_index()
    frame["scored"] = grouped[SCORED].sum(min_count=1).to_numpy()
    frame["met"] = grouped[MET].sum(min_count=1).to_numpy()
    frame["subgroups"] = join_by_group(group, count, rows["subgroup"].astype(str).to_numpy(dtype=object), "+")
    why = rows["why"].to_numpy(dtype=object) != ""
    reasons = join_by_group(group[why], count, rows["why"].to_numpy(dtype=object)[why], "; ")
    frame["reasons"] = np.where(pd.isna(reasons), "", reasons)
    frame["source_rows"] = group_lists(group, count, rows["source_row"].to_numpy(dtype="int64"), pa.int64())
    zero = frame["published"] & frame["scored"].eq(0)
    frame["available"] = frame["published"] & ~zero
    frame["unavailable_reason"] = frame["reasons"].where(~frame["available"], None)
    frame.loc[zero, "unavailable_reason"] = "no students with scored tests"
    frame["scored"] = frame["scored"].where(frame["available"]).astype("Int64")
    frame["met"] = frame["met"].where(frame["available"]).astype("Int64")
    frame["proficiency"] = (100.0 * frame["met"].astype("Float64") / frame["scored"].astype("Float64")).astype("Float64")
    frame["group_label"] = frame["group"].map({g.name: g.label for g in GROUPS.values()})
    frame["in_cohort"] = frame["district_code"].isin(set(cohort_codes))
    frame["unavailable_reason"] = frame["unavailable_reason"].astype("string")
    return frame[PROFICIENCY_COLUMNS].reset_index(drop=True)


def subgroup_gaps(proficiency: pd.DataFrame) -> pd.DataFrame:
    """The five gaps (GAPS) per school year, district and subject; excluded with the reason when a group
    is suppressed or absent, never a gap of 0."""
    if proficiency.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    keys = ["school_year", "district_code", "subject"]
    districts = proficiency.drop_duplicates(keys)[[*keys, "district_name", "in_cohort"]]
    blocks = []
    for gap in GAPS:
        block = districts.copy()
        block["gap"] = gap.name
        for side, group in (("reference", gap.reference), ("focal", gap.focal)):
            part = proficiency.loc[proficiency["group"] == group, [*keys, "scored", "proficiency", "available",
                                                                    "unavailable_reason"]]
            part = part.rename(columns={"scored": f"{side}_scored", "proficiency": f"{side}_proficiency",
                                        "available": f"{side}_available", "unavailable_reason": f"{side}_why"})
            block = block.merge(part, on=keys, how="left")
            label = GROUPS[group].label
            present = block[f"{side}_available"].notna()
            why = pd.Series(f"no {label} row in the export", index=block.index, dtype=object)
            why = why.where(~present, f"{label}: " + block[f"{side}_why"].astype(object).fillna("").astype(str))
            block[f"{side}_reason"] = why.where(~block[f"{side}_available"].fillna(False).astype(bool), "")
            block[f"{side}_group"] = label
        blocks.append(block)
    frame = pd.concat(blocks, ignore_index=True)
    frame = frame[frame["reference_available"].notna() | frame["focal_available"].notna()]
    reasons = frame[["reference_reason", "focal_reason"]].apply(lambda col: col.str.strip())
    joined = reasons["reference_reason"].str.cat(reasons["focal_reason"], sep="; ").str.strip("; ")
    frame["excluded"] = joined.ne("")
    frame["exclusion_reason"] = joined.where(frame["excluded"], None).astype("string")
    frame["gap_value"] = (frame["reference_proficiency"] - frame["focal_proficiency"]).astype("Float64")
    frame.loc[frame["excluded"], "gap_value"] = pd.NA
    for column in ("reference_scored", "focal_scored"):
        frame[column] = frame[column].astype("Int64")
    for column in ("reference_proficiency", "focal_proficiency"):
        frame[column] = frame[column].astype("Float64")
    order = {gap.name: i for i, gap in enumerate(GAPS)}
    frame = frame.sort_values(["school_year", "district_code", "subject", "gap"],
                              key=lambda s: s.map(order) if s.name == "gap" else s)
    return frame[GAP_COLUMNS].reset_index(drop=True)


def subgroup_gap_summary(raw: Mapping[str, Mapping[str, pd.DataFrame]], cohort_codes: Iterable[str]) -> pd.DataFrame:
    """The five gaps for the whole state, the cohort and the other districts, per school year and subject, from the
    summed counts of the districts that published *both* groups of the gap (one set of districts for both sides).

    A figure for a whole scope cannot depend on which districts' cells CSDE withheld, and the exports do not allow
    one when any was withheld: ``complete`` says whether every district of the scope with students in either group
    published both (then the figure is the scope's own); otherwise it is the paired districts' figure, and
    ``paired_districts`` of ``districts`` and ``rows_left_out`` say how much is missing (the report never calls it
    statewide)."""
    rows = _group_rows(raw)
    proficiency = _proficiency(rows, cohort_codes)
    if proficiency.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    left_out = rows[~rows["published"]].assign(in_cohort=lambda f: f["district_code"].isin(set(cohort_codes)))
    keys = ["school_year", "district_code", "subject"]
    blocks = []
    for gap in GAPS:
        ref = proficiency[proficiency["group"] == gap.reference].set_index(keys)
        foc = proficiency[proficiency["group"] == gap.focal].set_index(keys)
        both = ref[["scored", "met", "available", "in_cohort"]].add_prefix("reference_").join(
            foc[["scored", "met", "available", "in_cohort"]].add_prefix("focal_"), how="outer").reset_index()
        both["in_cohort"] = both["reference_in_cohort"].fillna(both["focal_in_cohort"]).astype(bool)
        both["paired"] = both["reference_available"].fillna(False).astype(bool) & both["focal_available"].fillna(False).astype(bool)
        withheld = left_out[left_out["group"].isin([gap.reference, gap.focal])]
        for scope, within in (("state", None), ("cohort", True), ("non_cohort", False)):
            part = both if within is None else both[both["in_cohort"] == within]
            gone = withheld if within is None else withheld[withheld["in_cohort"] == within]
            blocks.append(_scope_sums(part, gone, scope, gap))
    frame = pd.concat(blocks, ignore_index=True)
    for column in ("reference_scored", "reference_met", "focal_scored", "focal_met"):
        frame[column] = frame[column].astype("Float64").astype("Int64")
    for side in ("reference", "focal"):
        scored = frame[f"{side}_scored"].astype("Float64")
        frame[f"{side}_proficiency"] = (100.0 * frame[f"{side}_met"].astype("Float64") / scored.where(scored > 0)).astype("Float64")
    frame["gap_value"] = (frame["reference_proficiency"] - frame["focal_proficiency"]).astype("Float64")
    for column in ("districts", "reference_districts", "focal_districts", "paired_districts", "rows_left_out"):
        frame[column] = frame[column].fillna(0).astype(int)
    frame["complete"] = (frame["paired_districts"] == frame["districts"]) & (frame["rows_left_out"] == 0)
    frame["note"] = np.where(
        frame["complete"], "every district with students in either group published both: the whole scope",
        "the " + frame["paired_districts"].astype(str) + " of " + frame["districts"].astype(str)
        + " districts that published both groups only (" + frame["rows_left_out"].astype(str)
        + " export rows withheld); the whole scope's gap cannot be computed from the exports")
    order = {gap.name: i for i, gap in enumerate(GAPS)}
    scope_order = {scope: i for i, scope in enumerate(SCOPES)}
    frame = frame.sort_values(
        ["school_year", "scope", "subject", "gap"],
        key=lambda s: s.map(order) if s.name == "gap" else (s.map(scope_order) if s.name == "scope" else s),
    )
    return frame[SUMMARY_COLUMNS].reset_index(drop=True)


def _scope_sums(part: pd.DataFrame, gone: pd.DataFrame, scope: str, gap) -> pd.DataFrame:
    """One scope's sums for one gap, per school year and subject: the paired districts' counts of both groups, how
    many districts there are and published each group, and the export rows withheld (``gone``)."""
    paired = part[part["paired"]]
    summed = paired.groupby(["school_year", "subject"]).agg(
        reference_scored=("reference_scored", "sum"), reference_met=("reference_met", "sum"),
        focal_scored=("focal_scored", "sum"), focal_met=("focal_met", "sum"),
        paired_districts=("district_code", "nunique"))
    counts = part.groupby(["school_year", "subject"]).agg(
        districts=("district_code", "nunique"),
        reference_districts=("reference_available", lambda v: int(v.fillna(False).astype(bool).sum())),
        focal_districts=("focal_available", lambda v: int(v.fillna(False).astype(bool).sum())))
    gone = gone.groupby(["school_year", "subject"]).size().rename("rows_left_out")
    block = counts.join(summed, how="left").join(gone, how="left").reset_index()
    block["scope"], block["gap"] = scope, gap.name
    block["reference_group"], block["focal_group"] = GROUPS[gap.reference].label, GROUPS[gap.focal].label
    return block

def _counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Each district row's scored and met counts of both groups (met back from its proficiency, whole students)."""
    counts = {}
    for side in ("reference", "focal"):
        scored = frame[f"{side}_scored"].astype(float).to_numpy()
        counts[f"{side}_scored"] = scored
        counts[f"{side}_met"] = np.round(frame[f"{side}_proficiency"].astype(float).to_numpy() * scored / 100.0)
    return pd.DataFrame(counts)


def _summed_gap(counts: pd.DataFrame) -> float:
    """Reference minus focal share meeting the standard, from the summed counts."""
    shares = [100.0 * counts[f"{side}_met"].sum() / counts[f"{side}_scored"].sum()
              if counts[f"{side}_scored"].sum() > 0 else np.nan for side in ("reference", "focal")]
    return shares[0] - shares[1]


def _scope_changes(table: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """The state's, the cohort's and the other districts' change of each gap from ``start`` to ``end``, on one set
    of districts: those whose gap was computed in both years (the groups' counts summed over them). Which districts
    those are is said in ``district_name`` ("the N districts ...")."""
    keys = ["district_code", "subject", "gap"]
    a = table[(table["school_year"] == start) & ~table["excluded"].astype(bool)].set_index(keys)
    b = table[(table["school_year"] == end) & ~table["excluded"].astype(bool)].set_index(keys)
    common = a.index.intersection(b.index)
    counts = {start: _counts(a.loc[common]), end: _counts(b.loc[common])}
    subjects, gaps = common.get_level_values("subject"), common.get_level_values("gap")
    cohort = b.loc[common, "in_cohort"].astype(bool).to_numpy()
    rows = []
    for scope, within in (("state", None), ("cohort", True), ("non_cohort", False)):
        for subject, gap in sorted(set(zip(subjects, gaps))):
            mask = (subjects == subject) & (gaps == gap) & (True if within is None else cohort == within)
            n = int(mask.sum())
            rows.append({"scope": scope, "district_code": None, "subject": subject, "gap": gap,
                         "district_name": f"the {n} districts whose gap was computed in both years",
                         "in_cohort": within is True, "start_year": start, "end_year": end,
                         "gap_start": _summed_gap(counts[start][mask]), "gap_end": _summed_gap(counts[end][mask]),
                         "excluded": not n,
                         "exclusion_reason": None if n else "no district's gap was computed in both years"})
    frame = pd.DataFrame(rows, columns=[*CHANGE_COLUMNS])
    for column in ("gap_start", "gap_end"):
        frame[column] = pd.array(frame[column].astype(float), dtype="Float64")
    frame["change"] = (frame["gap_end"] - frame["gap_start"]).astype("Float64")
    frame["exclusion_reason"] = frame["exclusion_reason"].astype("string")
    return frame


def subgroup_gap_changes(gaps: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Change of each gap between consecutive school years (negative = the gap narrowed), per district
    (``scope='district'``) and for the state, the cohort and the other districts, each on the one set of districts
    whose gap was computed in both years (``_scope_changes``; ``summary``'s figures, over the districts that
    published in each year, are not compared across years).

    A district whose gap is excluded in either year is excluded from the change with both years' reasons.
    Adding a year adds rows and never changes the rows of earlier pairs.
    """
    table = gaps.assign(scope="district")
    keys = ["scope", "district_code", "subject", "gap"]
    blocks = []
    years = sort_years(table["school_year"].dropna().unique()) if len(table) else []
    for end in years:
        start = previous_year(end)
        if start not in years:
            continue
        a = table[table["school_year"] == start].set_index(keys)
        b = table[table["school_year"] == end].set_index(keys)
        columns = ["gap_value", "excluded", "exclusion_reason", "district_name", "in_cohort"]
        both = a[columns].add_suffix("_start").join(b[columns].add_suffix("_end"), how="outer")
        block = pd.DataFrame(index=both.index).reset_index()
        block["district_name"] = both["district_name_end"].fillna(both["district_name_start"]).to_numpy()
        block["in_cohort"] = both["in_cohort_end"].fillna(both["in_cohort_start"]).astype(bool).to_numpy()
        block["start_year"], block["end_year"] = start, end
        block["gap_start"] = both["gap_value_start"].astype("Float64").to_numpy()
        block["gap_end"] = both["gap_value_end"].astype("Float64").to_numpy()
        reasons = []
        for label, year in (("start", start), ("end", end)):
            missing = both[f"gap_value_{label}"].isna().to_numpy()
            why = both[f"exclusion_reason_{label}"].astype(object).to_numpy()
            absent = both[f"excluded_{label}"].isna().to_numpy()
            text = np.where(absent, f"no row in {year}",
                            np.where(pd.isna(why), f"no gap in {year}", np.char.add(f"{year}: ", why.astype(str))))
            reasons.append(np.where(missing, text, ""))
        joined = pd.Series(reasons[0]).str.cat(pd.Series(reasons[1]), sep="; ").str.strip("; ")
        block["excluded"] = joined.ne("").to_numpy()
        block["exclusion_reason"] = pd.array(joined.where(joined.ne(""), None), dtype="string")
        block["change"] = (block["gap_end"] - block["gap_start"]).astype("Float64")
        block.loc[block["excluded"], "change"] = pd.NA
        blocks.append(block)
        blocks.append(_scope_changes(table, start, end))
    if not blocks:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    frame = pd.concat(blocks, ignore_index=True)
    order = {gap.name: i for i, gap in enumerate(GAPS)}
    scope_order = {scope: i for i, scope in enumerate(("district", *SCOPES))}
    frame = frame.sort_values(
        ["end_year", "scope", "district_code", "subject", "gap"], na_position="first",
        key=lambda s: s.map(order) if s.name == "gap" else (s.map(scope_order) if s.name == "scope" else s),
    )
    return frame[CHANGE_COLUMNS].reset_index(drop=True)

"""The codes of the plans as tables, and the study's four framework components measured from them (section 12).

    plan_codes                 one row per code given: plan year, district, coder, intervention, topic, code
    plan_indicators            per district and plan year: coherence, equity focus, capacity building, logic
                               modeling, the substance mix and the alignment with CSDE's defined choices
    plan_indicators_compared   each indicator's mean for the identified districts (section 5) and for the other
                               cohort districts, per plan year and over all of them (descriptive, not causal)

A plan coded by several coders counts once: its indicators are the mean over its codings (a coding by the coder
named ``CONSENSUS`` replaces the others when present). Continuation compares a plan year with the district's plan
year just before it (any coder's interventions); with no sheet for that year it is blank.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alliance_pipeline.plans.codebook import Codebook
from alliance_pipeline.school_year import previous_year

CONSENSUS = "consensus"
SUBSTANCE = "substance"
EQUITY = "equity"
# indicator -> (framework component, what it measures)
INDICATORS = {
    "distinct_interventions": ("coherence", "distinct interventions over the district's plan years"),
    "continuation_share": ("coherence", "share of the year's interventions continuing one of the plan year before"),
    "equity_share": ("equity focus", "share of interventions coded with the equity substance"),
    "capacity_share": ("capacity building", "share of interventions with a support provider and a support mechanism"),
    "logic_share": ("logic modeling", "share of interventions with an output and an outcome measure"),
    "adult_and_student_share": ("logic modeling", "share of interventions whose outcomes measure adults and students"),
    "alignment_share": ("alignment", "share of interventions aligned with a CSDE defined choice (C.G.S. 10-262u(d))"),
}
CODE_COLUMNS = ["plan_year", "district_code", "district_name", "coder", "sheet_file", "source_row", "intervention_id",
                "topic", "code", "years"]


def plan_codes(sheets: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The coded sheets (``raw_plan_codes`` of every plan year) as one row per code given."""
    keys = ["plan_year", "district_code", "district_name", "coder", "sheet_file", "source_row", "intervention_id"]
    if sheets.empty:  # no coded plans given: no sheet columns either
        return pd.DataFrame(columns=CODE_COLUMNS)
    parts = []
    for topic in codebook.coded_topics:
        cells = sheets[keys].assign(topic=topic, code=sheets[topic].fillna("").astype(str).str.split(";"))
        cells = cells.explode("code")
        parts.append(cells[cells["code"] != ""])
    for topic in codebook.years_topics:
        cells = sheets.loc[sheets[topic].notna(), keys].assign(topic=topic, code="years",
                                                               years=sheets.loc[sheets[topic].notna(), topic])
        parts.append(cells)
    if not parts:
        return pd.DataFrame(columns=CODE_COLUMNS)
    frame = pd.concat(parts, ignore_index=True).reindex(columns=CODE_COLUMNS)
    frame["years"] = pd.array(frame["years"], dtype="Int64")
    for column in CODE_COLUMNS:
        if column not in ("years", "source_row"):
            frame[column] = frame[column].astype("string")
    order = {topic: i for i, topic in enumerate(codebook.topics)}
    frame = frame.assign(order=frame["topic"].map(order)).sort_values(
        ["plan_year", "district_code", "coder", "source_row", "order", "code"], kind="stable")
    return frame.drop(columns="order").reset_index(drop=True)


def used_codings(sheets: pd.DataFrame) -> pd.DataFrame:
    """The codings the indicators read: a consensus coding where a plan has one, else every coder's."""
    consensus = sheets.groupby(["district_code", "plan_year"])["coder"].transform(lambda c: (c == CONSENSUS).any())
    return sheets[~consensus | (sheets["coder"] == CONSENSUS)]


def _has(cells: pd.Series) -> pd.Series:
    return cells.fillna("").astype(str) != ""


def _contains(cells: pd.Series, codes: set[str]) -> pd.Series:
    return cells.fillna("").astype(str).str.split(";").map(lambda given: bool(codes.intersection(given)))


def substance_codes(codebook: Codebook) -> list[str]:
    """The substance categories (sub-codes are part of their parent's category)."""
    return [code for code in codebook.codes(SUBSTANCE) if code not in codebook.parent_of]


def plan_indicators(sheets: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Per district and plan year: the framework's indicators (``INDICATORS``) and the substance mix
    (``substance_<code>_share``), each the mean over the plan's codings."""
    categories = substance_codes(codebook)
    columns = ["district_code", "district_name", "plan_year", "codings", "interventions", *INDICATORS,
               *(f"substance_{code}_share" for code in categories)]
    if sheets.empty:
        return pd.DataFrame(columns=columns)
    rows = used_codings(sheets).copy()
    outputs, outcomes = "monitoring_outputs", "monitoring_outcomes"
    rows["equity"] = _contains(rows[SUBSTANCE], {EQUITY})
    rows["capacity"] = _has(rows["support_provider"]) & _has(rows["support_mechanism"])
    rows["logic"] = _has(rows[outputs]) & _has(rows[outcomes])
    rows["adult_and_student"] = _contains(rows[outcomes], codebook.level_codes("adult")) & \
        _contains(rows[outcomes], codebook.level_codes("student"))
    rows["alignment"] = _has(rows["alignment"])
    for code in categories:
        rows[f"substance_{code}"] = _contains(rows[SUBSTANCE], {code})
    # Continuation: is the intervention in the district's previous plan year (any coder's sheet)?
    ids = sheets.groupby(["district_code", "plan_year"])["intervention_id"].agg(set)
    previous = {(district, year): ids.get((district, previous_year(year))) for district, year in ids.index}
    rows["continues"] = [np.nan if previous[(d, y)] is None else float(i in previous[(d, y)])
                         for d, y, i in rows[["district_code", "plan_year", "intervention_id"]].itertuples(index=False)]
    flags = ["equity", "capacity", "logic", "adult_and_student", "alignment", "continues",
             *(f"substance_{code}" for code in categories)]
    rows[flags] = rows[flags].astype(float)
    per_coding = rows.groupby(["district_code", "plan_year", "coder"], sort=True).agg(
        district_name=("district_name", "first"), interventions=("intervention_id", "size"),
        **{flag: (flag, "mean") for flag in flags})
    plans = per_coding.groupby(["district_code", "plan_year"], sort=True).agg(
        district_name=("district_name", "first"), codings=("interventions", "size"),
        interventions=("interventions", "mean"), **{flag: (flag, "mean") for flag in flags}).reset_index()
    distinct = sheets.groupby("district_code")["intervention_id"].nunique()
    frame = pd.DataFrame({
        "district_code": plans["district_code"], "district_name": plans["district_name"],
        "plan_year": plans["plan_year"], "codings": plans["codings"].astype("int64"),
        "interventions": plans["interventions"].astype(float),
        "distinct_interventions": plans["district_code"].map(distinct).astype("int64"),
        "continuation_share": plans["continues"], "equity_share": plans["equity"],
        "capacity_share": plans["capacity"], "logic_share": plans["logic"],
        "adult_and_student_share": plans["adult_and_student"], "alignment_share": plans["alignment"],
        **{f"substance_{code}_share": plans[f"substance_{code}"] for code in categories},
    }, columns=columns)
    for column in ("district_code", "district_name", "plan_year"):
        frame[column] = frame[column].astype("string")
    return frame


def plan_indicators_compared(indicators: pd.DataFrame, identified: set[str], cohort: set[str]) -> pd.DataFrame:
    """Each indicator's mean for the identified districts and for the other cohort districts (the plans of
    districts outside the cohort are left out), per plan year and over all plan years (``plan_year`` "all": the
    mean of each district's own mean, so every district counts once)."""
    columns = ["indicator", "component", "plan_year", "identified_districts", "other_districts", "identified_mean",
               "other_mean", "difference"]
    frame = indicators[indicators["district_code"].isin(cohort)]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    names = [*INDICATORS, *(c for c in indicators.columns if c.startswith("substance_"))]
    group = frame["district_code"].isin(identified)
    per_district = frame.groupby("district_code")[names].mean()
    per_district_group = per_district.index.isin(identified)
    rows = []
    for name in names:
        component = INDICATORS[name][0] if name in INDICATORS else "substance mix"
        for year, values, flags in [*((y, part[name], group[part.index]) for y, part in frame.groupby("plan_year")),
                                    ("all", per_district[name], pd.Series(per_district_group, index=per_district.index))]:
            mine, others = values[flags.to_numpy()].dropna(), values[~flags.to_numpy()].dropna()
            rows.append({"indicator": name, "component": component, "plan_year": year,
                         "identified_districts": len(mine), "other_districts": len(others),
                         "identified_mean": mine.mean() if len(mine) else np.nan,
                         "other_mean": others.mean() if len(others) else np.nan})
    out = pd.DataFrame(rows, columns=columns)
    out["difference"] = out["identified_mean"] - out["other_mean"]
    for column in ("indicator", "component", "plan_year"):
        out[column] = out[column].astype("string")
    return out

"""The report's section 9, robustness: how often each identified district is picked across the method's variants,
and its margin to the cut-off (from identification_robustness and identification_margins; no number is recomputed
here)."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.reporting.charts import bar_chart_svg, chart_figure, short_name
from alliance_pipeline.reporting.every_year import span_label
from alliance_pipeline.reporting.model import Column, ReportTable, Section, said_missing

ROBUSTNESS = ("A district picked by a fraction of a point is a weaker finding than one picked however the method's "
              "reasonable choices are made. Each identified district is recomputed under 42 variants of the method, "
              "and its distance to the top-3 cut-off is measured.")


def robustness_table(robustness: pd.DataFrame, growth_only: set[str] = frozenset()) -> ReportTable:
    """Every district that any variant picked, per analysis; a label only where the default method picks it."""
    rows = robustness[robustness["identified_default"].astype(bool) | (robustness["times_identified"] > 0)].copy()
    rows = rows.sort_values(["is_study", "end_year", "identified_default", "selection_frequency", "district_name"],
                            ascending=[False, True, False, False, True]).reset_index(drop=True)
    rows["years"] = [span_label(start, end, growth_only) + (" (the study's years)" if study else "")
                     for start, end, study in zip(rows["change_start_year"], rows["end_year"], rows["is_study"].astype(bool))]
    rows["default"] = ["yes" if flag else "no" for flag in rows["identified_default"].astype(bool)]
    rows["selected_in"] = [f"{int(t)} of {int(v)}" for t, v in zip(rows["times_identified"], rows["variants"])]
    rows["shown_label"] = [label if flag else "not identified" for label, flag in zip(rows["label"], rows["identified_default"].astype(bool))]
    rows["flag"] = ["fragile" if label == "fragile" else None for label in rows["shown_label"]]
    return ReportTable(
        "identification_robustness", "How often each district is picked across 42 variants of the method",
        "Variants: grades 3-8, 3-5 or 6-8; leaving a district out for a withheld grade in any subject or only in "
        "that subject; state averages over all scored students or only published grades; top 2, 3 or 4; and the "
        "default grades minus one grade at a time. Robust: picked in at least 80% of them; fragile: fewer than half. "
        "Shown here: the districts the study's method identifies and any other picked in at least a quarter of the "
        "variants; the workbook and the CSV list every district any variant picked.",
        "identification_robustness",
        [Column("years", "Change years"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("default", "Identified by the study's method"), Column("selected_in", "Picked in variants"),
         Column("selection_frequency", "Share", "percent"), Column("shown_label", "Robustness")],
        rows, page_rows=rows[rows["identified_default"].astype(bool) | (rows["selection_frequency"] >= 0.25)].reset_index(drop=True),
    )


def _study_years(robustness: pd.DataFrame) -> str:
    study = robustness[robustness["is_study"].astype(bool)]
    return f"{study['change_start_year'].iloc[0]} to {study['end_year'].iloc[0]}" if len(study) else "the study's years"


def margins_table(margins: pd.DataFrame, top_n: int, years: str) -> ReportTable:
    """For the study's pair: per indicator, the selected districts and the best one left out, with the distance to
    the cut-off in the indicator's units and in cohort standard deviations."""
    study = margins[margins["is_study"].astype(bool)].copy()
    selected = study[study["selected"].astype(bool)]
    others = study[~study["selected"].astype(bool) & study["rank_cohort"].notna()]
    runner_up = others.sort_values(["indicator", "rank_cohort"]).groupby("indicator", sort=False).head(1)
    rows = pd.concat([selected, runner_up]).sort_values(["indicator", "rank_cohort"], kind="stable").reset_index(drop=True)
    rows["role"] = ["selected" if flag else "first left out" for flag in rows["selected"].astype(bool)]
    rows["flag"] = ["close" if pd.notna(sd) and sd < 0.1 else None for sd in rows["margin_sd"]]
    table = ReportTable(
        "identification_margins", f"How close each selection was, {years}",
        f"For each indicator, the districts in the top {top_n} and the best district left out. Margin: for a "
        "selected district, how far it was above the best one left out; for the one left out, how far it was below "
        "the last selected. In the indicator's units and in standard deviations of the indicator over the cohort.",
        "identification_margins",
        [Column("indicator", "Indicator"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("rank_cohort", "Rank", "rank"), Column("role", "Role"), Column("value", "Value", "float2"),
         Column("margin", "Margin", "float2"), Column("margin_sd", "Margin (sd)", "float2")],
        rows,
    )
    close = rows[rows["flag"] == "close"]
    if len(close):
        table.notes.append("Margins under 0.1 standard deviations (shaded) are thin: a slightly different rule or "
                           "a few students' scores could change the pick: "
                           + ", ".join(f"{short_name(n)} ({i})" for n, i in zip(close["district_name"], close["indicator"])) + ".")
    return table


def robustness_section(robustness: pd.DataFrame, margins: pd.DataFrame, top_n: int,
                       growth_only: set[str] = frozenset()) -> Section:
    section = Section("robustness", "How firm is the list of identified districts?", "Robustness", paragraphs=[ROBUSTNESS])
    if said_missing(section, robustness, "identification_robustness", "Robustness",
                     "No identified districts could be recomputed from the exports this run read."):
        return section
    years = _study_years(robustness)
    study = robustness[robustness["is_study"].astype(bool) & robustness["identified_default"].astype(bool)]
    study = study.sort_values(["selection_frequency", "district_name"], ascending=[False, True])
    if len(study):
        labels = [short_name(n) for n in study["district_name"]]
        shares = [float(v) * 100 for v in study["selection_frequency"]]
        section.figures.append(chart_figure(
            bar_chart_svg, "robustness_study", f"Bar chart, share of the 42 variants that pick each identified district ({years}): "
            + "; ".join(f"{label} {share:.0f}%" for label, share in zip(labels, shares)) + ".",
            labels=labels, values=shares, highlighted=[label != "fragile" for label in study["label"]],
            xlabel="Share of variants that pick the district (%)", title=f"Identified districts, {years}: share of variants",
            reference=80.0, digits=0,
        ))
    section.tables += [robustness_table(robustness, growth_only), margins_table(margins, top_n, years)]
    return section

"""Report section of methodology section 12: the coded district plans, their reliability, and the study's four
framework components for the identified districts beside the other cohort districts."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.plans.indicators import INDICATORS
from alliance_pipeline.plans.reliability import THRESHOLD
from alliance_pipeline.reporting.model import Column, ReportTable, Section

FRAMEWORK = ["continuation_share", "distinct_interventions", "equity_share", "capacity_share", "logic_share",
             "adult_and_student_share", "alignment_share"]
LABELS = {
    "continuation_share": "Interventions continued from the year before",
    "distinct_interventions": "Distinct interventions over the plan years",
    "equity_share": "Interventions with an equity focus",
    "capacity_share": "Interventions with a support provider and mechanism",
    "logic_share": "Interventions with an output and an outcome measure",
    "adult_and_student_share": "Interventions measuring adult and student outcomes",
    "alignment_share": "Interventions aligned with a CSDE defined choice",
}


def _unavailable(key: str, title: str, source: str, reason: str) -> ReportTable:
    return ReportTable(key, title, "", source, [], pd.DataFrame(), unavailable=reason,
                       unavailable_plain="No coded plans were loaded, so this could not be computed.")


def framework_table(compared: pd.DataFrame) -> ReportTable:
    """Each framework indicator over all plan years: identified districts' mean, the others', the difference."""
    if compared.attrs.get("unavailable"):
        return _unavailable("plan_framework", "The framework's components: identified districts and the others",
                            "plan_indicators_compared", compared.attrs["unavailable"])
    rows = compared[(compared["plan_year"] == "all") & compared["indicator"].isin(FRAMEWORK)].copy()
    rows["order"] = rows["indicator"].map({name: i for i, name in enumerate(FRAMEWORK)})
    rows = rows.sort_values("order").reset_index(drop=True)
    rows["measure"] = rows["indicator"].map(LABELS)
    rows["kind"] = ["count" if name == "distinct_interventions" else "share" for name in rows["indicator"]]
    for column in ("identified_mean", "other_mean", "difference"):
        rows[f"{column}_shown"] = [None if pd.isna(v) else f"{v:.1f}" if kind == "count" else f"{v * 100:.0f}%"
                                   for v, kind in zip(rows[column], rows["kind"])]
    rows["difference_shown"] = [None if pd.isna(v) else (f"{v:+.1f}" if kind == "count" else f"{round(v * 100) + 0:+d} points")
                                for v, kind in zip(rows["difference"], rows["kind"])]
    n_identified = int(rows["identified_districts"].max()) if len(rows) else 0
    n_other = int(rows["other_districts"].max()) if len(rows) else 0
    return ReportTable(
        "plan_framework", "The framework's components: identified districts and the others",
        f"The mean over the plan years of each district's plans, for the {n_identified} identified districts and the "
        f"{n_other} other cohort districts (each district counts once). Shares are of a plan's interventions; a "
        "difference in percentage points. Descriptive, not causal: a district's plan is not shown to have caused its "
        "scores.",
        "plan_indicators_compared",
        [Column("component", "Component"), Column("measure", "Measure"),
         Column("identified_mean_shown", "Identified districts"), Column("other_mean_shown", "Other cohort districts"),
         Column("difference_shown", "Difference")],
        rows,
    )


def district_table(indicators: pd.DataFrame, identified: set[str]) -> ReportTable:
    """Per cohort district, the mean of its plans' indicators, the identified districts first."""
    if indicators.attrs.get("unavailable"):
        return _unavailable("plan_districts", "Each district's plans", "plan_indicators", indicators.attrs["unavailable"])
    names = ["interventions", *FRAMEWORK]
    per = indicators.groupby(["district_code", "district_name"], as_index=False)[names].mean()
    per["years"] = indicators.groupby(["district_code", "district_name"])["plan_year"].nunique().to_numpy()
    per["identified"] = ["yes" if code in identified else "no" for code in per["district_code"]]
    per = per.sort_values(["identified", "district_name"], ascending=[False, True]).reset_index(drop=True)
    return ReportTable(
        "plan_districts", "Each district's plans",
        "The mean over a district's plan years (a plan coded twice counts as the mean of its two codings).",
        "plan_indicators",
        [Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("identified", "Identified"), Column("years", "Plan years", "int"),
         Column("interventions", "Interventions a year", "float1"),
         Column("distinct_interventions", "Distinct interventions", "float1"),
         Column("continuation_share", "Continued", "percent"), Column("equity_share", "Equity", "percent"),
         Column("capacity_share", "Capacity building", "percent"), Column("logic_share", "Outputs and outcomes", "percent"),
         Column("adult_and_student_share", "Adult and student outcomes", "percent"),
         Column("alignment_share", "Aligned", "percent")],
        per,
    )


def reliability_table(reliability: pd.DataFrame) -> ReportTable:
    """Every code's kappa and alpha, those under the threshold first."""
    if reliability.attrs.get("unavailable"):
        return ReportTable("plan_reliability", "Intercoder reliability", "", "intercoder_reliability", [], pd.DataFrame(),
                           unavailable=reliability.attrs["unavailable"],
                           unavailable_plain="No plan was coded by two coders, so reliability could not be computed.")
    rows = reliability.copy()
    rows["flag"] = [f"under {THRESHOLD}" if below else None for below in rows["below_threshold"].astype(bool)]
    rows["lowest"] = rows[["cohen_kappa", "krippendorff_alpha"]].min(axis=1)
    rows = rows.sort_values(["below_threshold", "lowest", "topic", "code"], ascending=[False, True, True, True],
                            na_position="last").reset_index(drop=True)
    return ReportTable(
        "plan_reliability", "Intercoder reliability, code by code",
        f"Plans coded by two coders, interventions matched on their id: for each code, whether both coders gave it. "
        f"Cohen's kappa and Krippendorff's alpha correct agreement for chance; under {THRESHOLD} (Hruschka et al. "
        "2004) the code is flagged, and its counts above should be read with care.",
        "intercoder_reliability",
        [Column("topic", "Topic", "code"), Column("code", "Code", "code"), Column("units", "Interventions", "int"),
         Column("agreement", "Agreement", "percent"), Column("cohen_kappa", "Cohen's kappa", "float2"),
         Column("krippendorff_alpha", "Krippendorff's alpha", "float2"), Column("note", "Note")],
        rows,
    )


def _share(value: float) -> str:
    return f"{value * 100:.0f}%"


def plans_section(codes: pd.DataFrame, indicators: pd.DataFrame, reliability: pd.DataFrame,
                  compared: pd.DataFrame, identified: set[str], sample: bool, codebook_version: str) -> Section:
    section = Section("plans", "What did the districts' plans say?", "Plans")
    if codes.attrs.get("unavailable") or indicators.attrs.get("unavailable"):
        section.paragraphs.append(
            "No coded plans were given, so this part of the study (coding each Alliance District's improvement plan "
            "with the study's Appendix A codebook) could not be shown: plans come only from coding sheets a user "
            "gives. Put coding sheets in a folder (`alliance-pipeline plans template` writes blank ones), set "
            "ALLIANCE_PLANS_DIR (or --plans) to it and refresh.")
        return section
    coders = int(codes["coder"].nunique())
    years = sorted(indicators["plan_year"].unique())
    double = int(reliability["plans"].max()) if len(reliability) and not reliability.attrs.get("unavailable") else 0
    if sample:
        section.paragraphs.append(
            "These coded plans are the project's generated sample, not real coded plans: the study published none. "
            "They show every table working on data whose answer is known (the sample writes stronger plans for most, "
            "not all, of the districts whose sample scores rise, and the same equity focus for everyone). Replace them "
            "with real coding sheets to read this section as a finding.")
    section.paragraphs.append(
        f"{len(indicators)} plans of {indicators['district_code'].nunique()} districts ({years[0]} to {years[-1]}) were "
        f"coded by {coders} coders with the study's Appendix A codebook (version {codebook_version}); {double} plans "
        "were coded twice to check that coders read the codebook alike. The study's framework for effective planning "
        "has four components, each measured here from the codes: coherence (a small, consistent group of core "
        "interventions that continues year to year), an equity focus, capacity building (support with a provider and "
        "a mechanism) and logic modeling (outputs and outcomes measured, adult and student outcomes both).")
    if not compared.attrs.get("unavailable"):
        overall = compared[compared["plan_year"] == "all"].set_index("indicator")
        facts = []
        for name in ("continuation_share", "capacity_share", "logic_share", "equity_share"):
            if name in overall.index and pd.notna(overall.loc[name, "identified_mean"]):
                row = overall.loc[name]
                facts.append(f"{INDICATORS[name][1].capitalize()}: {_share(row['identified_mean'])} for the identified districts, "
                             f"{_share(row['other_mean'])} for the others")
        section.bullets.extend(facts)
        section.paragraphs.append(
            "The study found the identified districts' plans more coherent, stronger on capacity building and logic "
            "modeling, and no different on equity. The tables below set this run's identified districts beside the "
            "other cohort districts on each; they describe the plans and do not show that a plan caused a district's "
            "scores.")
    if len(reliability) and not reliability.attrs.get("unavailable"):
        flagged = reliability[reliability["below_threshold"].astype(bool)]
        section.paragraphs.append(
            f"Reliability: {len(flagged)} of {reliability['cohen_kappa'].notna().sum()} assessable codes fall under "
            f"{THRESHOLD} ({', '.join(flagged['code']) or 'none'}); counts that rest on them are less certain.")
    section.tables = [framework_table(compared), district_table(indicators, identified), reliability_table(reliability)]
    return section

"""The report's opening: a plain-language summary, the study's findings beside this run's, caveats and citations.

Sentences are assembled from the stored tables (and the display tables built
from them); every number in them is a value of a Parquet asset.
"""

from __future__ import annotations

import re

import pandas as pd

from alliance_pipeline.reporting.charts import short_name
from alliance_pipeline.reporting.model import Column, ReportTable, Section

STUDY = ("UConn Neag School of Education for the Connecticut Council for Education Reform (CCER), \"How Long-term "
         "Planning Processes Can Improve State-Led Turnaround in Connecticut\", 2017: Section 3 and Appendix B "
         "(Tables for Quantitative Metrics).")
CITATIONS = [
    (STUDY, ""),
    ("Connecticut State Department of Education, Alliance Districts: overview and the steps used to identify them.",
     "https://portal.ct.gov/SDE/Alliance-Districts/Alliance-Districts"),
    ("EdSight, CSDE's public data portal: the Smarter Balanced, growth model, enrollment and accountability exports "
     "listed under Data sources.", "https://public-edsight.ct.gov/"),
]


GAP_WORDS = {
    "White - Black": "between White and Black students",
    "White - Hispanic": "between White and Hispanic students",
    "Not eligible - meal eligible": "between students eligible for free or reduced-price meals and the others",
    "Not ELL - ELL": "between English learners and the others",
    "Not special education - special education": "between students in special education and the others",
}


def _names(names) -> str:
    names = [short_name(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def study_comparison_table(
    study: pd.DataFrame, identified: pd.DataFrame, missing: dict[str, list[ReportTable]]
) -> ReportTable:
    """The study's identified districts beside this run's, with the reason for every difference.

    ``missing``: indicator family ("T-score change") -> its Appendix B tables that could not be computed.
    """
    here = identified.set_index("district_code")
    in_study = study.set_index("district_code")
    codes = list(dict.fromkeys([*study["district_code"], *identified["district_code"]]))
    records = []
    for code in codes:
        name = in_study.at[code, "district_name"] if code in in_study.index else here.at[code, "district_name"]
        family = str(in_study.at[code, "study_indicator_family"]) if code in in_study.index else ""
        why = None
        if code in in_study.index and code not in here.index:
            if family in missing:
                why = (f"The study selected it through the {family} indicators, which could not be computed here: "
                       f"{missing[family][0].unavailable_plain} This run can neither confirm nor rule out that finding.")
            else:
                why = "Not in the top 3 on any indicator computed from the exports this run read."
        elif code not in in_study.index:
            why = "Identified here, not in the study's list."
        records.append({
            "district_code": code, "district_name": name,
            "in_study": "yes" if code in in_study.index else "no",
            "in_run": "yes" if code in here.index else "no",
            "selected_here": list(here.at[code, "indicators"]) if code in here.index else [],
            "difference": why,
            "study_family": family,
            "flag": "differs" if why else None,
        })
    rows = pd.DataFrame(records, columns=["district_code", "district_name", "in_study", "in_run", "selected_here",
                                          "difference", "study_family", "flag"])
    rows["_order"] = [0 if a == b == "yes" else 1 if a == "yes" else 2 for a, b in zip(rows["in_study"], rows["in_run"])]
    rows = rows.sort_values(["_order", "district_name"]).drop(columns=["_order"]).reset_index(drop=True)
    return ReportTable(
        "study_comparison", "The study's identified districts and this run's",
        f"The study identified {len(study)} districts; this run identifies {len(identified)}.",
        "study_identified_districts, identified_districts",
        [Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("in_study", "Identified by the study"), Column("in_run", "Identified in this run"),
         Column("selected_here", "Selected here by", "list"), Column("difference", "Why they differ")],
        rows,
    )


def _designation_sentence(identification: pd.DataFrame, opportunity: pd.DataFrame) -> str:
    if identification.empty:
        return ""
    designated = identification[identification["designated"].astype(bool)]
    year = str(identification["designation_year"].dropna().iloc[0])
    index_year = str(identification["index_year"].dropna().iloc[0])
    return (f"Applying CSDE's four published steps to the {index_year} Accountability Index designates "
            f"{len(designated)} Alliance Districts for {year} ({int(identification['step3_selected'].sum())} with the "
            f"lowest index, {int(identification['step4_added'].sum())} kept because they were Alliance Districts before), "
            f"and {len(opportunity)} Opportunity Districts, the lowest-index among them.")


def _equity_sentence(summary: pd.DataFrame) -> str:
    rows = summary[summary["scope"].isin(["state", "cohort"])].dropna(subset=["gap_value"]) if len(summary) else summary
    if rows.empty:
        return "No subgroup results were available, so gaps between groups of students are not shown."
    year = max(rows["school_year"])
    latest = rows[rows["school_year"] == year]
    widest = latest[latest["scope"] == "state"].sort_values("gap_value", ascending=False).iloc[0]
    cohort = latest[(latest["scope"] == "cohort") & (latest["subject"] == widest["subject"]) & (latest["gap"] == widest["gap"])]
    text = (f"Gaps between groups of students are wide: statewide in {year} the widest is in {widest['subject']}, "
            f"{GAP_WORDS.get(widest['gap'], widest['gap'])}: {widest['gap_value']:.1f} percentage points in the share "
            "meeting the standard")
    if len(cohort):
        text += f"; in the Alliance cohort the same gap is {cohort['gap_value'].iloc[0]:.1f} points"
    return text + "."


def summary_section(
    tables: dict[str, pd.DataFrame], cohort: pd.DataFrame, missing: dict[str, list[ReportTable]], identified: ReportTable,
    study: ReportTable, settings: dict[str, str],
) -> Section:
    start, end = settings.get("change_start_year", ""), settings.get("change_end_year", "")
    trends = tables["sbac_score_trends"]
    years = sorted(trends["school_year"].unique()) if len(trends) else []
    rows = identified.rows
    top = rows.sort_values(["n_indicators", "best_rank"], ascending=[False, True]).iloc[0] if len(rows) else None
    paragraphs = [
        f"This report follows the {len(cohort)} Alliance Districts designated from "
        f"{cohort['first_year'].iloc[0]} to {cohort['last_year'].iloc[0]} on the six indicators of the 2017 UConn/CCER "
        f"study: the change in Smarter Balanced Math and ELA scores from {start} to {end}, the {settings.get('growth_year', end)} "
        f"growth rates, and the change in T-scores since {settings.get('t_base_year', '')}. It then applies the same rules to "
        f"every school year in the exports ({', '.join(years)})."
        if years else
        f"This report follows the {len(cohort)} Alliance Districts on the six indicators of the 2017 UConn/CCER study.",
    ]
    if len(rows):
        robust = rows[rows["label"] == "robust"]
        fragile = rows[rows["label"] == "fragile"]
        text = (f"{len(rows)} districts were in the top {settings.get('top_n', 3)} on at least one indicator: "
                f"{_names(rows['district_name'])}. {short_name(top['district_name'])} stands out, in the top "
                f"{settings.get('top_n', 3)} on {int(top['n_indicators'])} indicators.")
        if len(robust) or len(fragile):
            text += (f" {len(robust)} of the {len(rows)} are picked under at least 80% of 42 reasonable variations of "
                     "the method" + (f"; {_names(fragile['district_name'])} {'is' if len(fragile) == 1 else 'are'} "
                                     "picked in fewer than half and should be read as a weak finding." if len(fragile) else "."))
        paragraphs.append(text)
    for family, unavailable in missing.items():
        numbers = " and ".join(table.title.partition(". ")[0] for table in unavailable)
        paragraphs.append(f"Not computed: {family} ({numbers}). {unavailable[0].unavailable_plain}")
    differs = study.rows[study.rows["flag"] == "differs"]
    only_study = differs[differs["in_run"] == "no"]
    text = (f"The study identified {int((study.rows['in_study'] == 'yes').sum())} districts; this run identifies "
            f"{int((study.rows['in_run'] == 'yes').sum())}, of which {int(((study.rows['in_study'] == 'yes') & (study.rows['in_run'] == 'yes')).sum())} "
            "are on the study's list.")
    for _, row in only_study.iterrows():
        family = row["study_family"]
        text += (f" {short_name(row['district_name'])} is not identified here: the study selected it through the "
                 f"{family} indicators, which could not be computed from these exports, so this run can neither confirm "
                 "nor rule out that finding." if family in missing else
                 f" {short_name(row['district_name'])} is not identified here: {row['difference']}")
    paragraphs.append(text)
    designation = _designation_sentence(tables["alliance_identification"], tables["opportunity_districts"])
    if designation:
        paragraphs.append(designation)
    paragraphs.append(_equity_sentence(tables["subgroup_gap_summary"]))
    return Section("summary", "Summary", "Summary", paragraphs=paragraphs, tables=[study])


def _grade_span(grades: str) -> str:
    numbers = [int(g) for g in re.findall(r"\d+", grades)]
    return f"{min(numbers)}-{max(numbers)}" if numbers else "3-8"


def caveats_section(tables: dict[str, pd.DataFrame], settings: dict[str, str]) -> Section:
    changes = tables["sbac_score_changes"]
    cohort = changes[changes["in_cohort"].astype(bool) & changes["n_end"].notna()] if len(changes) else changes
    bullets = [
        "Descriptive, not causal. As the study itself says, these comparisons show which districts improved most; "
        "they do not show that Alliance District funding, or any one program, caused the improvement.",
        f"Grades {_grade_span(settings.get('grades', ''))} only. Scores cover the grades "
        "Smarter Balanced tests in every year compared (grade 10 stopped in 2015-16), so high schools are not "
        "reflected.",
    ]
    if len(cohort):
        smallest = cohort.sort_values("n_end").iloc[0]
        bullets.append(
            "Small districts move more. With few students tested, a district's average can rise or fall several "
            f"points from one year to the next by chance; the smallest cohort district, {short_name(smallest['district_name'])}, "
            f"tested {int(smallest['n_end']):,} students in {smallest['subject']} in {smallest['end_year']}.")
    bullets += [
        "Withheld results are never zeros. CSDE withholds results for small groups (shown as * in EdSight). A district "
        "with a withheld grade is left out of a score table, and withheld subgroup counts are missing from the gap "
        "sums; the report says where.",
        "A top-3 list is a cut-off. A district just below it may have done almost as well; the robustness section "
        "shows how close each selection was.",
        "Two different tests. Before 2014-15 Connecticut used the CMT, whose scores are on another scale; the T-score "
        "indicators put both on one scale and cannot be computed without the CMT results.",
    ]
    return Section("caveats", "Read with care", "Caveats", bullets=bullets,
                   links=[(text, url) for text, url in CITATIONS])

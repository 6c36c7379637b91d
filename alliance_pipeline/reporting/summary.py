"""The report's opening: a plain-language summary, the study's findings beside this run's, caveats and citations.

Sentences are assembled from the stored tables (and the display tables built
from them); every number in them is a value of a Parquet asset.
"""

from __future__ import annotations

import re

import pandas as pd

from alliance_pipeline.reporting.charts import short_name
from alliance_pipeline.reporting.model import Column, ReportTable, Section
from alliance_pipeline.school_year import start_of

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
                why = (f"Not in the top 3 on any indicator computed here, so the study most likely selected it through "
                       f"the {family} indicators (an inference: the study's tables are not among the exports), which "
                       f"could not be computed here: {missing[family][0].unavailable_plain} This run can neither "
                       "confirm nor rule out that finding.")
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
            f"and {len(opportunity)} Opportunity Districts, the lowest-index among them. The designations are "
            "reconstructed from CSDE's published rule and the exports, not copied from CSDE's own lists, which "
            "differ from them.")


OPPORTUNITY_CAVEAT = (
    "This list applies CSDE's published rule (the designated districts with the lowest Accountability Index) to the "
    "exports; it is a reconstruction, not CSDE's own list, which is not among the exports and differs from it.")


def _points(value: float) -> str:
    return f"{value:+.1f}"


def lasted_sentence(lasted: pd.DataFrame, trends: pd.DataFrame) -> str:
    """Did the study's districts keep their gains? From ``did_it_last`` (the study's identifications) and the
    cohort's distance to the state in ``sbac_score_trends``."""
    study = lasted[lasted["identified_in"] == "study"].drop_duplicates(["district_code", "subject"]) if len(lasted) else lasted
    if study.empty:
        return ""
    end, newest = str(study["identified_end_year"].iloc[0]), str(study["newest_year"].iloc[0])
    if newest == end:
        return (f"Did it last? That cannot be told yet: the exports hold no Smarter Balanced scores after {end}, the "
                "study's last year.")
    study = study.dropna(subset=["change_to_newest"])
    if study.empty:
        return (f"Did it last? That cannot be told: the exports withhold the {newest} scores of every district "
                f"identified in the study's years, so no distance to the state after {end} can be computed for them.")
    outcome = {}
    for (code, name), block in study.groupby(["district_code", "district_name"], sort=False):
        gained = (block["change_to_newest"] >= 0).sum()
        outcome[name] = "both" if gained == len(block) else "none" if gained == 0 else "one"
    groups = {key: [name for name, value in outcome.items() if value == key] for key in ("both", "one", "none")}
    parts = []
    for key, words in (("both", "moved closer to the state average in both subjects"),
                       ("one", "in one subject only"), ("none", "lost ground in both")):
        if groups[key]:
            parts.append(f"{len(groups[key])} {words} ({_names(groups[key])})")
    ordered = study.sort_values("change_to_newest")
    best, worst = ordered.iloc[-1], ordered.iloc[0]
    text = (f"Did it last? From {end} to {newest}, the newest year with scores, of the {len(outcome)} districts "
            f"identified in the study's years, " + "; ".join(parts) + ". Distance to the state is a district's average "
            f"scale score minus the state's, in scale-score points. The largest gain: {short_name(best['district_name'])} "
            f"in {best['subject']}, from {_points(best['distance_at_identification'])} to "
            f"{_points(best['distance_newest'])} points")
    if worst["change_to_newest"] < 0:
        text += (f"; the largest loss: {short_name(worst['district_name'])} in {worst['subject']}, from "
                 f"{_points(worst['distance_at_identification'])} to {_points(worst['distance_newest'])}")
    moves, label, counted = _one_set_moves(trends, end, newest)
    if moves:
        text += f". {label}, the {counted} of them with scores in both years, went " + " and ".join(moves)
    return text + "."


def _one_set_moves(trends: pd.DataFrame, end: str, newest: str) -> tuple[list[str], str, int]:
    """The distance to the state of ``end``'s cohort, from ``end`` to ``newest``, over one set of districts: the
    cohort's districts of ``end`` with a score in both years (a later year's cohort is another set), weighted by
    their students as the cohort mean is."""
    from alliance_pipeline.methods.tscores import weighted_moments

    if trends.empty or "cohort" not in trends:
        return [], "", 0
    at_end = trends[(trends["school_year"] == end) & trends["in_cohort"].astype(bool)]
    if at_end.empty:
        return [], "", 0
    codes = set(at_end["district_code"])
    moves, counted = [], 0
    for subject in ("Math", "ELA"):
        rows = trends[trends["district_code"].isin(codes) & (trends["subject"] == subject)
                      & trends["school_year"].isin([end, newest]) & trends["score"].notna()]
        both = rows.groupby("district_code")["school_year"].nunique()
        rows = rows[rows["district_code"].isin(both[both == 2].index)]
        distance = {}
        for year, block in rows.groupby("school_year"):
            distance[year] = weighted_moments(block["score"], block["n_total"])[0] - float(block["state_mean"].iloc[0])
        if end in distance and newest in distance:
            moves.append(f"from {_points(distance[end])} to {_points(distance[newest])} in {subject}")
            counted = max(counted, int((both == 2).sum()))
    return moves, f"The {at_end['cohort'].iloc[0]}", counted


def _later_lists_sentence(by_year: pd.DataFrame, end: str) -> str:
    """Which indicators the later years' lists (``identified_by_year``) were built from: they cannot be compared one
    for one with the study's list when they were built from fewer."""
    if by_year.empty or not end:
        return ""
    later = by_year[by_year["end_year"].map(lambda y: start_of(y) > start_of(end))].drop_duplicates("end_year")
    if later.empty:
        return ""
    built: dict[tuple[str, ...], list[str]] = {}
    for year, names in zip(later["end_year"], later["built_from"]):
        built.setdefault(tuple(names), []).append(str(year))
    parts = [f"{len(names)} of the study's 6 indicators ({', '.join(names)}) for {_names(years)}"
             for names, years in built.items()]
    return ("Later years' lists apply the same top-3 rule to the indicators each year has: " + "; ".join(parts)
            + ". A list built from fewer indicators cannot be compared one for one with the study's list.")


def _equity_sentence(summary: pd.DataFrame) -> str:
    rows = summary[summary["scope"].isin(["state", "cohort"])].dropna(subset=["gap_value"]) if len(summary) else summary
    if rows.empty:
        return "No subgroup results were available, so gaps between groups of students are not shown."
    year = max(rows["school_year"])
    latest = rows[rows["school_year"] == year]
    widest = latest[latest["scope"] == "state"].sort_values("gap_value", ascending=False).iloc[0]
    cohort = latest[(latest["scope"] == "cohort") & (latest["subject"] == widest["subject"]) & (latest["gap"] == widest["gap"])]
    where = ("statewide" if widest["complete"] else
             f"across the {int(widest['paired_districts'])} of {int(widest['districts'])} districts statewide that "
             "published both groups (CSDE withheld the rest, so no figure for the whole state can be computed)")
    text = (f"Gaps between groups of students are wide: {where}, in {year} the widest is in {widest['subject']}, "
            f"{GAP_WORDS.get(widest['gap'], widest['gap'])}: {widest['gap_value']:.1f} percentage points in the share "
            "meeting the standard")
    if len(cohort):
        row = cohort.iloc[0]
        among = "" if row["complete"] else f" (the {int(row['paired_districts'])} of {int(row['districts'])} that published both groups)"
        text += f"; in the Alliance cohort{among} the same gap is {row['gap_value']:.1f} points"
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
        text += (f" {short_name(row['district_name'])} is not identified here. It was not in the top 3 on any "
                 f"indicator computed here, so the study most likely selected it through the {family} indicators, "
                 "which could not be computed from these exports; this run can neither confirm nor rule out that "
                 "finding." if family in missing else
                 f" {short_name(row['district_name'])} is not identified here: {row['difference']}")
    paragraphs.append(text)
    for sentence in (lasted_sentence(tables.get("did_it_last", pd.DataFrame()), trends),
                     _later_lists_sentence(tables.get("identified_by_year", pd.DataFrame()), end)):
        if sentence:
            paragraphs.append(sentence)
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


def _spread(moments: pd.DataFrame) -> str:
    """'44 to 51': the range of the statewide spread of district averages (statewide_moments' SBAC sd)."""
    sbac = moments[moments["assessment"] == "SBAC"]["sd"].dropna() if len(moments) else pd.Series(dtype=float)
    return f"{sbac.min():.0f} to {sbac.max():.0f}" if len(sbac) else ""


def glossary_section(tables: dict[str, pd.DataFrame]) -> Section:
    """Every term of the report, defined once, in plain words."""
    spread = _spread(tables.get("statewide_moments", pd.DataFrame()))
    terms = [
        ("Alliance District", "one of the 30-odd lowest-performing districts CSDE designates for extra funding "
         "and support (since 2012-13); 'the cohort' is the set designated from 2012-13 to 2016-17."),
        ("Opportunity District", "one of the designated Alliance Districts with the lowest Accountability Index, "
         "given further support."),
        ("Accountability Index", "CSDE's 0-100 score of a district under its Next Generation Accountability "
         "System, combining test results, growth, attendance, graduation and other indicators; CSDE designates "
         "Alliance Districts from it."),
        ("Smarter Balanced (SBAC)", "Connecticut's Math and ELA (English language arts) test for grades 3-8 since "
         "2014-15; before it, the CMT."),
        ("Scale score", "a student's SBAC result, roughly 2,100 to 2,800 points. As a yardstick: district averages "
         f"spread around the state's with a standard deviation of about {spread} points." if spread else
         "a student's SBAC result, roughly 2,100 to 2,800 points."),
        ("Weighted score", "a district's average scale score over grades 3-8, each grade weighted by the students "
         "it tested."),
        ("Distance to the state", "a district's weighted score minus the state's, in scale-score points; negative "
         "means below the state average."),
        ("Growth rate", "from CSDE's growth model: the share of a district's students, matched from one year to "
         "the next, who met their individual growth target."),
        ("T-score", "a score put on a common scale (state mean 50, standard deviation 10) so that the CMT and SBAC "
         "years can be compared."),
        ("Withheld (suppressed)", "a result CSDE does not publish because too few students took the test (* in "
         "EdSight); never read as zero."),
        ("Robust / fragile", "picked by at least 80% / by fewer than half of 42 reasonable variations of the "
         "method."),
        ("Margin (sd)", "how far a district was from the top-3 cut-off, in standard deviations of the indicator "
         "over the cohort."),
        ("Gap (percentage points)", "the share of one group of students meeting the standard minus another's."),
    ]
    return Section("glossary", "Terms used in this report", "Terms",
                   bullets=[f"{term}: {meaning}" for term, meaning in terms])

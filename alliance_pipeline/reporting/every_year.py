"""The report's section 8, every year: the identified districts of each year held, the scores' trends against
the state and the cohort, and each district's distance to the state (from identified_by_year and
sbac_score_trends; no number is recomputed here)."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.methods import designations
from alliance_pipeline.reporting.charts import (
    COHORT,
    STATE,
    SUBJECT_COLOURS,
    Figure,
    chart_figure,
    data_uri,
    line_chart_svg,
    short_name,
)
from alliance_pipeline.reporting.model import Column, ReportTable, Section, column_name

SUBJECTS = ("Math", "ELA")


def growth_only_years(by_year: pd.DataFrame) -> set[str]:
    """The years whose list is built from growth rates alone: a level of that one year, not a change."""
    if by_year.empty or "built_from" not in by_year:
        return set()
    return {end for end, built in zip(by_year["end_year"], by_year["built_from"])
            if len(built) and all(str(name).startswith("Growth rate") for name in built)}


def span_label(start: str, end: str, growth_only: set[str]) -> str:
    """The years a list covers, said the same way in every table: 'A to B' for a change, 'B (growth rates of that
    year)' for a list built from one year's growth rates."""
    return f"{end} (growth rates of that year)" if end in growth_only else f"{start} to {end}"


def identified_by_year_table(by_year: pd.DataFrame) -> ReportTable:
    rows = by_year.sort_values(["end_year", "best_rank", "district_name"]).reset_index(drop=True)
    growth_only = growth_only_years(rows)
    rows["years"] = [span_label(start, end, growth_only) for start, end in zip(rows["change_start_year"], rows["end_year"])]
    rows["selected_by"] = [
        [f"{name} (rank {rank}, {value:.2f})" for name, rank, value in zip(names, ranks, values)]
        for names, ranks, values in zip(rows["indicators"], rows["ranks"], rows["values"])
    ]
    table = ReportTable(
        "identified_by_year", "Identified districts, year by year",
        "The study's top-3 rule applied to each year's change (and that year's growth rates where CSDE published "
        "them), from whichever indicators exist for the year.",
        "identified_by_year",
        [Column("years", "Change years"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("n_indicators", "Indicators", "int"), Column("selected_by", "Selected by (rank, value)", "list")],
        rows,
    )
    for end, block in rows.groupby("end_year", sort=True):
        built, missing = list(block["built_from"].iloc[0]), list(block["not_available"].iloc[0])
        names = [entry.partition(": ")[0] for entry in missing]
        table.notes.append(f"{end}: built from {len(built)} of the study's 6 indicators ({', '.join(built)})" + (
            f"; not computed: {', '.join(names)} (the table 'Years with no data, and why' says which exports are "
            "missing and why). Not comparable one for one with the study's list." if names else "."))
    return table


def trend_figures(trends: pd.DataFrame) -> list[Figure]:
    """Per subject, the statewide and the cohort's weighted mean score, year by year."""
    figures = []
    years = sorted(trends["school_year"].unique())
    for subject in SUBJECTS:
        block = trends[trends["subject"] == subject].drop_duplicates("school_year").set_index("school_year")
        if block.empty:
            continue
        state = [float(block.at[y, "state_mean"]) if y in block.index else None for y in years]
        cohort = [float(block.at[y, "cohort_mean"]) if y in block.index else None for y in years]
        alt = (f"Line chart, {subject} average scale score by year: statewide "
               + ", ".join(f"{y} {v:.1f}" for y, v in zip(years, state) if v is not None)
               + "; Alliance cohort " + ", ".join(f"{y} {v:.1f}" for y, v in zip(years, cohort) if v is not None) + ".")
        named = _cohorts_named(block)
        figures.append(chart_figure(
            line_chart_svg, f"trend_{subject.lower()}", alt + named,
            f"{subject}: the cohort's average stays below the state's.{named}",
            years=years, series={"Statewide": state, "Alliance cohort": cohort},
            colours={"Statewide": STATE, "Alliance cohort": COHORT}, ylabel="Weighted scale score",
            title=f"{subject}: statewide and Alliance cohort average, grades 3-8",
        ))
    return figures


def _cohorts_named(block: pd.DataFrame) -> str:
    """Which cohort each year's line is (section 11: the cohort of a year is its statute cohort), e.g. " The Alliance
    cohort line is the FY2013 cohort (...) to 2016-17, then the FY2018 cohort (...)."."""
    if "cohort" not in block or block["cohort"].isna().all():
        return ""
    runs: list[list] = []
    for year, label in block["cohort"].sort_index().items():
        if runs and runs[-1][0] == label:
            runs[-1][2] = year
        else:
            runs.append([label, year, year])
    if len(runs) == 1:
        return f" The Alliance cohort line is the {runs[0][0]} in every year."
    return " The Alliance cohort line is " + ", then ".join(
        f"the {label} ({first} to {last})" if first != last else f"the {label} ({first})" for label, first, last in runs
    ) + ": different sets of districts."


def without_partial(trends: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The trend rows with a distance left blank where a grade's results were withheld (``partial_grades``): the
    rule of B1 and B2, so a score over some grades only is never compared with full ones. Returns the rows and a
    note naming what was left out ("" when nothing was)."""
    if "partial_grades" not in trends or not trends["partial_grades"].astype(bool).any():
        return trends, ""
    partial = trends["partial_grades"].astype(bool)
    rows = trends.copy()
    rows["distance_to_state"] = rows["distance_to_state"].mask(partial)
    left = trends[partial & trends["in_cohort"].astype(bool)]
    named = [f"{short_name(name)} {', '.join(sorted(set(block['school_year'])))}"
             for name, block in left.groupby("district_name", sort=True)]
    note = ("Left blank, as in B1 and B2, where CSDE withheld a grade's results, so the district's average would "
            "cover only some grades: " + "; ".join(named) + ".") if named else ""
    return rows, note


def district_multiples(trends: pd.DataFrame, identified: set[str] = frozenset()) -> list[Figure]:
    """One small chart per cohort district: its distance to the state average per year, Math and ELA, with the
    cohort's distance dashed; every panel on the same vertical scale so they compare at a glance. The districts
    in ``identified`` (codes) come first, framed and titled as identified."""
    trends, _ = without_partial(trends)
    cohort = trends[trends["in_cohort"].astype(bool)]
    if cohort.empty:
        return []
    years = sorted(trends["school_year"].unique())
    values = [float(v) for v in pd.concat([cohort["distance_to_state"], cohort["cohort_distance_to_state"]]).dropna()]
    low, high = min(values + [0.0]), max(values + [0.0])
    pad = (high - low) * 0.08 or 1.0
    ylim = (low - pad, high + pad)
    figures = []
    order = sorted(cohort.groupby(["district_code", "district_name"], sort=False), key=lambda item: item[0][0] not in identified)
    for (code, name), block in order:
        series, colours, styles, parts = {}, {}, {}, []
        for subject in SUBJECTS:
            rows = block[block["subject"] == subject].set_index("school_year")
            series[subject] = [float(rows.at[y, "distance_to_state"]) if y in rows.index and pd.notna(rows.at[y, "distance_to_state"]) else None
                               for y in years]
            series[f"cohort {subject}"] = [float(rows.at[y, "cohort_distance_to_state"]) if y in rows.index else None for y in years]
            colours[subject] = colours[f"cohort {subject}"] = SUBJECT_COLOURS[subject]
            styles[f"cohort {subject}"] = ":"
            parts.append(f"{subject} " + ", ".join(f"{y} {v:+.1f}" for y, v in zip(years, series[subject]) if v is not None))
        marked = code in identified
        title = short_name(name) + (" (identified)" if marked else "")
        svg = data_uri(line_chart_svg(years=years, series=series, ylabel="Points vs state", title=title,
                                      colours=colours, styles=styles, width=3.0, height=2.1, ylim=ylim, legend=False,
                                      reference=0.0, marked=marked, markers=False))
        figures.append(Figure(f"multiple_{code}", svg, svg,
                              f"{name}{', identified in the study years' if marked else ''}: distance to the state "
                              f"average by year, {'; '.join(parts)}.", title))
    return figures


def distance_table(trends: pd.DataFrame) -> ReportTable:
    """Each district of a year's cohort: its distance to the state average, per subject and year (sbac_score_trends);
    a district outside a year's cohort (before or after its designation) is blank that year."""
    trends, partial = without_partial(trends)
    cohort = trends[trends["in_cohort"].astype(bool)]
    years = sorted(trends["school_year"].unique())
    rows = cohort[["district_code", "district_name"]].drop_duplicates().sort_values("district_name").reset_index(drop=True)
    columns = [Column("district_name", "District"), Column("district_code", "Code", "code")]
    for subject in SUBJECTS:
        block = cohort[cohort["subject"] == subject].set_index(["district_code", "school_year"])["distance_to_state"]
        for year in years:
            name = column_name("distance", subject, year)
            rows[name] = [block.get((code, year), pd.NA) for code in rows["district_code"]]
            columns.append(Column(name, f"{subject} {year}", "float1"))
    means = cohort.drop_duplicates(["subject", "school_year"]).set_index(["subject", "school_year"])["cohort_distance_to_state"]
    table = ReportTable(
        "distance_to_state", "Distance to the state average, by year",
        "Each cohort district's weighted scale score minus the statewide weighted average of that year and subject "
        "(negative: below the state).",
        "sbac_score_trends", columns, rows,
    )
    table.notes.append("The cohort of each year as a whole: " + "; ".join(
        f"{subject} {year} {means[(subject, year)]:+.1f}" for subject in SUBJECTS for year in years if (subject, year) in means.index)
        + "." + _cohorts_named(cohort.drop_duplicates("school_year").set_index("school_year")).replace(
            "Alliance cohort line", "cohort of each year"))
    if partial:
        table.notes.append(partial)
    return table


def years_section(trends: pd.DataFrame, yearly: ReportTable) -> Section:
    years = sorted(trends["school_year"].unique()) if len(trends) else []
    section = Section(
        "every_year", "Every year, not only the study's", "Years",
        paragraphs=[
            "The study compared 2014-15 with 2015-16. The same rules are applied here to every school year in the "
            f"exports ({', '.join(years) or 'none'}); a newly published year appears here as soon as it is loaded.",
        ],
    )
    if len(trends):
        section.figures = trend_figures(trends)
        section.tables.append(distance_table(trends))
    section.tables.append(yearly)
    return section


def yearly_table(yearly: pd.DataFrame, cohort: pd.DataFrame, by_year: pd.DataFrame | None = None) -> ReportTable:
    """Each cohort district's change for every consecutive pair of SBAC years (sbac_yearly_changes).

    One column per pair and subject; a pair's cohort is the cohort of its end year (section 11), so the rows are
    every district of any pair's cohort and a district outside a pair's cohort is "—" there, said in the last
    column, as is a change the asset excluded, with its reason.
    """
    table = ReportTable(
        "sbac_yearly_changes", "Year over year: change in weighted SBAC scale score",
        "The change in weighted score (as in B1 and B2) for every pair of consecutive school years loaded; a newly "
        "published year adds its pair here.",
        "sbac_yearly_changes",
        [Column("district_name", "District"), Column("district_code", "Code", "code")],
        cohort[["district_code", "district_name"]].iloc[0:0],
        unavailable=yearly.attrs.get("unavailable"),
    )
    if table.unavailable:
        return table
    members = yearly[yearly["in_cohort"].astype(bool)] if "in_cohort" in yearly else yearly.iloc[0:0]
    of_year = designations.cohort_codes(by_year) if by_year is not None and len(by_year) else {}
    rows = pd.concat([cohort[["district_code", "district_name"]], members[["district_code", "district_name"]]])
    rows = rows.drop_duplicates("district_code").sort_values("district_name").reset_index(drop=True)
    notes: dict[str, list[str]] = {code: [] for code in rows["district_code"]}
    pairs = yearly[["start_year", "end_year"]].drop_duplicates().sort_values("end_year").itertuples(index=False)
    for start, end in pairs:
        in_pair = of_year.get(end, set(cohort["district_code"]))
        for subject in ("Math", "ELA"):
            name = f"change_{subject.lower()}_{start}_{end}".replace("-", "_")
            block = yearly[(yearly["start_year"] == start) & (yearly["end_year"] == end) & (yearly["subject"] == subject)]
            block = block.set_index("district_code")
            rows[name] = [block["change"].get(code, pd.NA) if code in in_pair else pd.NA for code in rows["district_code"]]
            table.columns.append(Column(name, f"{subject} {start} to {end}", "float2"))
            for code in rows["district_code"]:
                if code not in in_pair:
                    note = f"{start} to {end}: not in that year's cohort"
                    if note not in notes[code]:
                        notes[code].append(note)
                elif code not in block.index:
                    notes[code].append(f"{subject} {start} to {end}: no row")
                elif bool(block.at[code, "excluded"]):
                    note = f"{start} to {end}: {block.at[code, 'exclusion_reason']}"
                    if note not in notes[code]:  # district scope: the same reason for both subjects
                        notes[code].append(note)
    if "cohort" in members and len(members):
        named = members.drop_duplicates("end_year").sort_values("end_year")
        table.description += " The districts are those of each pair's cohort (its end year's): " + "; ".join(
            f"pairs ending {', '.join(group['end_year'])}: the {label}" for label, group in named.groupby("cohort", sort=False)) + "."
    rows["exclusions"] = pd.Series(["; ".join(notes[code]) for code in rows["district_code"]], dtype=object)
    table.columns.append(Column("exclusions", "Excluded because"))
    table.rows = rows
    return table

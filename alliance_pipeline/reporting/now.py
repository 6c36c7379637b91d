"""The report's "Alliance Districts today" section (methodology section 13): which districts are Alliance Districts
now (the statute's cohorts), how they are doing on the newest data, and a watch list on the newest index."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.reporting.model import Column, ReportTable, Section
from alliance_pipeline.reporting.summary import short_name
from alliance_pipeline.school_year import start_of

WATCH_LABEL = "a watch list, not a designation: no cohort after FY2023 is defined in law"


def cohorts_table(designations: pd.DataFrame) -> ReportTable:
    """One row per statute cohort: its years, index year, the statute's count beside the computed one, the reading."""
    rows = designations.drop_duplicates("cohort").copy() if len(designations) else designations.copy()
    if len(rows):
        opportunity = designations.groupby("cohort")["opportunity"].apply(
            lambda s: int(s.fillna(False).astype(bool).sum()) if s.notna().any() else pd.NA)
        rows["years"] = rows["first_year"] + " to " + rows["last_year"]
        rows["index"] = rows["index_year"].fillna("District Performance Index (not published)")
        rows["count"] = [f"{n} (the statute's {s})" if ok else f"{n}: differs from the statute's {s}"
                         for n, s, ok in rows[["designated_count", "statute_count", "count_matches"]].itertuples(index=False)]
        rows["opportunity_districts"] = rows["cohort"].map(opportunity)
    return ReportTable(
        "statute_cohorts", "Alliance District cohorts (C.G.S. 10-262u)",
        "The statute designates Alliance Districts for five fiscal years at a time (fiscal year N is the school year "
        "ending June 30 of N). FY2013's districts are CSDE's own list; each later cohort is computed here on the "
        "newest Accountability Index published before it, by the reading of the statute shown (CSDE's steps 1-4), "
        "its count beside the statute's. Opportunity Districts: a cohort's districts among the ten lowest indexes of "
        "all towns in its index year.",
        "alliance_designations",
        [Column("cohort", "Cohort"), Column("years", "School years"), Column("index", "Index year"),
         Column("count", "Districts"), Column("opportunity_districts", "Opportunity Districts", "int"),
         Column("reading", "Reading of the statute")],
        rows.reset_index(drop=True),
        unavailable=designations.attrs.get("unavailable"),
    )


def _route(row) -> str:
    if row.admitted_by == "reference table":
        return "CSDE's FY2013 list"
    if row.admitted_by == "step 4":
        return row.step4_reason.split(";")[0]
    return f"rank {row.index_rank} from the lowest on the {row.index_year} index"


def current_table(cohort: pd.DataFrame, doing: pd.DataFrame) -> ReportTable:
    """The current cohort's districts, how each entered it, and its share meeting the standard in the newest year
    (``doing_now``)."""
    rows = cohort.sort_values("district_name").copy()
    rows["route"] = [_route(row) for row in rows.itertuples(index=False)]
    rows["opportunity_district"] = rows["opportunity"].map(
        lambda v: "—" if pd.isna(v) else "yes" if v else "", na_action=None)
    label = str(rows["cohort"].iloc[0]) if len(rows) else ""
    columns = [Column("district_name", "District"), Column("district_code", "Code", "code"),
               Column("route", "Designated as"), Column("accountability_index", "Index", "float1"),
               Column("opportunity_district", "Opportunity District")]
    held = doing[doing["district_code"].notna() & (doing["status"] == "held")] if len(doing) else doing
    if len(held):
        newest = str(held["school_year"].max())
        latest = held[held["school_year"] == newest].drop_duplicates(["district_code", "subject"])
        for subject in ("ELA", "Math"):
            figures = latest[latest["subject"] == subject].set_index("district_code")
            rows[f"share_{subject}"] = rows["district_code"].map(figures["share_met"]).astype("Float64")
            rows[f"distance_{subject}"] = rows["district_code"].map(figures["distance_to_state"]).astype("Float64")
            columns += [Column(f"share_{subject}", f"{subject} % meeting, {newest}", "float1"),
                        Column(f"distance_{subject}", f"{subject} distance to the state", "float1")]
    return ReportTable(
        "current_cohort", f"The {label} cohort: the Alliance Districts today",
        "Each district, how it entered the cohort (designated in an earlier cohort, which the statute keeps, or by "
        "its rank on the cohort's index), and its share of students meeting the standard in the newest year with "
        "scores, against the state (the tables below give every year).",
        "alliance_designations, doing_now", columns, rows.reset_index(drop=True),
    )


def doing_tables(doing: pd.DataFrame) -> list[ReportTable]:
    """One table per group: its pooled share meeting the standard per year and subject (the page); its districts'
    rows too in the CSV and the workbook."""
    rows = doing.rename(columns={"status": "availability", "reason": "why"}).copy()
    description = (
        "The share of students in grades 3-8 at Level 3 or 4 (meeting or exceeding the standard) in Smarter Balanced "
        "ELA and Math, from EdSight's all-grades-combined export: the group's share is its districts' students "
        "meeting the standard over their students with a scored test; the state's is summed the same way over the "
        "export's districts (it has no state row). Distance: the group's share minus the state's, in percentage "
        "points; a change is computed over the districts with a share in both years. Years without a test or "
        "without published results are shown as such, never filled in. The page shows each group; the CSV and the "
        "workbook add each of its districts.")
    columns = [Column("school_year", "School year"), Column("subject", "Subject"),
               Column("share_met", "% meeting", "float1"), Column("state_share", "State %", "float1"),
               Column("distance_to_state", "Distance", "float1"),
               Column("distance_change_since_first", "Distance change since the group's first year", "float1"),
               Column("distance_change_since_study_end", "Distance change since the study's end year", "float1"),
               Column("availability", "Status"), Column("why", "Why"), Column("grades", "Grades")]
    if rows.empty or doing.attrs.get("unavailable"):
        return [ReportTable("doing_now", "How they are doing: share of students meeting the standard", description,
                            "doing_now", columns, rows, unavailable=doing.attrs.get("unavailable") or "no rows")]
    tables = []
    for number, (group, block) in enumerate(rows.groupby("group", sort=False)):
        block = block.sort_values(["subject", "school_year"], kind="stable").reset_index(drop=True)
        block["district_name"] = block["district_name"].where(block["district_code"].notna(),
                                                              "all " + block["districts"].astype(str))
        tables.append(ReportTable(
            "doing_now" if number == 0 else f"doing_now_{number + 1}", f"How they are doing: {group}",
            description if number == 0 else f"As above, for {group}.", "doing_now",
            [*columns[:2], Column("district_name", "Districts"), *columns[2:], Column("district_code", "Code", "code")],
            block, page_rows=block[block["district_code"].isna()].reset_index(drop=True)))
    return tables


def watch_table(watch: pd.DataFrame) -> ReportTable:
    year = str(watch["index_year"].iloc[0]) if len(watch) else ""
    return ReportTable(
        "watch_list", f"Watch list on the {year} Accountability Index ({WATCH_LABEL})",
        "Towns now among the lowest by CSDE's steps 1-3 that are not Alliance Districts, and Alliance Districts "
        "now far from the lowest among all towns. Nothing here changes a designation.",
        "watch_list",
        [Column("watch", "Watched because"), Column("district_name", "District"), Column("district_code", "Code", "code"),
         Column("accountability_index", "Index", "float1"), Column("town_rank", "Rank among all towns", "rank"),
         Column("detail", "Detail")],
        watch.rename(columns={"reason": "detail"}).reset_index(drop=True),
        unavailable=watch.attrs.get("unavailable"),
    )


def today_section(designations: pd.DataFrame, watch: pd.DataFrame, doing: pd.DataFrame, cohort: pd.DataFrame,
                  scale_end: str | None) -> Section:
    """``cohort``: the current cohort's designated rows (``designations.current_cohort``); ``scale_end``: the newest
    year with weighted scale scores (the by-grade export), where the measure changes."""
    paragraphs = [_who_sentence(designations, cohort), _doing_sentence(doing, scale_end), _watch_sentence(watch)]
    tables = [cohorts_table(designations)]
    if len(cohort):
        tables.append(current_table(cohort, doing))
    tables += [*doing_tables(doing), watch_table(watch)]
    return Section("today", "Alliance Districts today", "Today", paragraphs=[p for p in paragraphs if p], tables=tables)


def _who_sentence(designations: pd.DataFrame, cohort: pd.DataFrame) -> str:
    if cohort.empty:
        notes = designations.attrs.get("not_computed") or []
        return ("Which districts are Alliance Districts today could not be computed here: "
                + ("; ".join(notes) if notes else "no cohort could be designated from the exports held") + ".")
    row = cohort.iloc[0]
    count, statute = int(row["designated_count"]), int(row["statute_count"])
    counted = (f"its {count} districts are the statute's count" if count == statute
               else f"{count} districts were computed, where the statute names {statute}: the reading below does not "
               "reproduce the statute's count")
    opportunity = cohort[cohort["opportunity"].fillna(False).astype(bool)]["district_name"]
    text = (f"Which districts are Alliance Districts today? C.G.S. 10-262u designates them in five-year cohorts; "
            f"the current one is the {row['cohort']} cohort, for {row['first_year']} to {row['last_year']}, and "
            f"{counted}.")
    if pd.notna(row["index_year"]):
        text += (f" It is computed here on the {row['index_year']} Accountability Index, the newest published before "
                 f"it ({row['reading']}).")
    if len(opportunity):
        text += (f" {len(opportunity)} of them are Opportunity Districts: "
                 + ", ".join(short_name(n) for n in opportunity) + ".")
    for note in designations.attrs.get("not_computed") or []:
        text += f" {note}."
    return text


def _doing_sentence(doing: pd.DataFrame, scale_end: str | None) -> str:
    if doing.empty or doing.attrs.get("unavailable"):
        why = doing.attrs.get("unavailable", "no all-grades-combined Smarter Balanced export is held")
        return f"How they are doing now cannot be told here: {why}."
    pooled = doing[doing["district_code"].isna() & (doing["status"] == "held")]
    if pooled.empty:
        return ""
    newest = str(pooled["school_year"].max())
    parts = []
    for group, block in pooled[pooled["school_year"] == newest].groupby("group", sort=False):
        figures = {row.subject: row for row in block.itertuples(index=False)}
        said = [f"{figures[s].share_met:.1f}% in {s} (state {figures[s].state_share:.1f}%)" for s in ("ELA", "Math")
                if s in figures and pd.notna(figures[s].share_met)]
        if not said:
            continue
        text = f"for {group}, {' and '.join(said)}"
        changes = [f"{figures[s].distance_change_since_first:+.1f} points in {s}" for s in ("ELA", "Math")
                   if s in figures and pd.notna(figures[s].distance_change_since_first)]
        if changes:
            text += (f"; its distance to the state changed by {' and '.join(changes)} since "
                     f"{figures['Math'].first_year if 'Math' in figures else ''}")
        parts.append(text)
    gaps = sorted(set(doing.loc[doing["status"].isin(["no test", "not published"]), "school_year"]))
    return (f"How are they doing now? In {newest}, the newest year with scores, the share of students in grades 3-8 "
            f"meeting the standard was, " + "; ".join(parts) + ". This is the share meeting the standard, not the "
            "study's weighted scale score" + (f" (held only to {scale_end}: EdSight's by-grade export)"
                                              if scale_end and start_of(scale_end) < start_of(newest) else "")
            + (f"; {', '.join(gaps)} have no figures (no test, or none published)" if gaps else "") + ".")


def _watch_sentence(watch: pd.DataFrame) -> str:
    if watch.empty:
        return ""
    year = watch["index_year"].iloc[0]
    lowest = watch[~watch["alliance_district"].astype(bool)]["district_name"]
    far = watch[watch["alliance_district"].astype(bool)]["district_name"]
    parts = []
    if len(lowest):
        parts.append(f"{len(lowest)} towns now among the lowest are not Alliance Districts ("
                     + ", ".join(short_name(n) for n in lowest) + ")")
    if len(far):
        parts.append(f"{len(far)} Alliance Districts are now far from the lowest ("
                     + ", ".join(short_name(n) for n in far) + ")")
    return f"On the {year} index, " + "; ".join(parts) + f". This is {WATCH_LABEL}."


def measure_change_sentence(doing: pd.DataFrame, scale_end: str | None) -> str:
    """For the did-it-last section: after ``scale_end``, the newest year with scale scores by grade, the share
    meeting the standard continues (``doing_now``'s study group); where the measure changes, said."""
    if doing.empty or doing.attrs.get("unavailable") or scale_end is None:
        return ""
    study = doing[doing["group"].str.startswith("the study's") & doing["district_code"].notna()
                  & doing["distance_change_since_study_end"].notna()]
    if study.empty:
        return ""
    newest = str(study["school_year"].max())
    if start_of(newest) <= start_of(scale_end):
        return ""  # the scale score covers every year: no change of measure
    latest = study[study["school_year"] == newest]
    end = str(latest["study_end_year"].iloc[0])
    parts, total = [], latest["district_code"].nunique()
    for subject in ("Math", "ELA"):
        rows = latest[latest["subject"] == subject]
        if len(rows):
            parts.append(f"{int((rows['distance_change_since_study_end'] > 0).sum())} in {subject}")
    return (f"After {scale_end} the exports hold no scale score by grade, so the measure changes there: by the share of "
            f"students meeting the standard (percentage points, not scale-score points), of the study's {total} "
            f"identified districts with figures, " + " and ".join(parts) + f" moved closer to the state from {end} to "
            f"{newest} (see 'Alliance Districts today').")

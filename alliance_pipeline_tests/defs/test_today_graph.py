"""Today's EdSight (methodology section 11): every real export from 2007-08 to 2025-26 in one folder, through
the whole graph (one session refresh of ../shared/edsight and ../shared/edsight-extra combined), and the bundled
sample's own section 11 cases (a blank-code row, a rename, a closed district)."""

from __future__ import annotations

import html

import dagster as dg
import pandas as pd
import pytest

from alliance_pipeline.edsight import read_export
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.methods.alliance_identification import accountability_index
from alliance_pipeline.school_year import sort_years

pytestmark = pytest.mark.real_exports


def _years(refreshed, family: str) -> list[str]:
    return sort_years(refreshed.instance.get_dynamic_partitions(FAMILIES[family].partitions_name))


def test_every_real_export_registers_and_materializes(combined_refresh):
    years = {family: _years(combined_refresh, family) for family in FAMILIES}
    assert len(years["enrollment"]) == 19 and years["enrollment"][0] == "2007-08" and years["enrollment"][-1] == "2025-26"
    assert years["sbac_district"] == ["2014-15", "2015-16", "2016-17", "2017-18", "2018-19"]
    assert years["sbac_growth"] == ["2015-16", "2024-25"]
    assert years["sbac_district_combined"] == ["2014-15", "2015-16", "2016-17", "2017-18", "2018-19", "2021-22",
                                               "2022-23", "2023-24", "2024-25"]
    assert years["sbac_subgroup_race"] == ["2014-15", "2015-16"]
    assert years["accountability"] == ["2014-15", "2015-16", "2016-17", "2017-18", "2018-19", "2021-22", "2022-23",
                                       "2023-24", "2024-25"]
    assert combined_refresh.result.success and not combined_refresh.result.notices
    assert combined_refresh.check_status("raw_enrollment") == "SUCCEEDED"
    for year in years["enrollment"]:
        assert len(combined_refresh.table("raw_enrollment", year)) > 150


def test_blank_codes_are_kept_flagged_and_listed_never_joined(combined_refresh):
    raw = combined_refresh.table("raw_enrollment", "2025-26")
    blank = raw[raw["code_missing"]]
    assert sorted(blank["district_name"]) == [
        "Department of Mental Health and Addiction Services",
        "Edmonds Cofield Preparatory Academy for Young Men, Inc. District",
        "Stamford Big Picture Learning Academy District"]
    assert blank["district_code"].isna().all()  # no code invented
    listed = combined_refresh.table("rows_without_code")
    edmonds = listed[listed["district_name"].str.startswith("Edmonds")]
    assert edmonds[["school_year", "source_row", "values"]].values.tolist() == [["2025-26", 62, "student_count=45"]]
    assert set(listed["school_year"]) == {"2021-22", "2022-23", "2023-24", "2024-25", "2025-26"}
    designations = combined_refresh.table("alliance_designations")
    assert designations["district_code"].notna().all()  # kept out of every per-district table
    assert not designations["district_name"].str.startswith("Edmonds").any()


def test_the_full_accountability_export_gives_the_extracts_index(combined_edsight):
    folder = combined_edsight / "accountability"
    full = read_export(folder / "next-generation-accountability__2015-16_all.csv", "2015-16").frame
    extract = read_export(folder / "next-generation-accountability__2015-16_district-totals_extract.csv", "2015-16").frame
    full_index, extract_index = accountability_index(full), accountability_index(extract)
    assert len(full_index) == len(extract_index) == 201
    assert full_index == extract_index


def test_the_full_export_is_read_and_the_run_says_so(combined_refresh, real_refresh):
    record = combined_refresh.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("raw_accountability"), asset_partitions=["2015-16"]),
        limit=1).records[0]
    meta = record.asset_materialization.metadata
    assert meta["source_file"].value.endswith("next-generation-accountability__2015-16_all.csv")
    assert "district-totals_extract" in meta["not_read"].value
    assert meta["expectations_suite"].value == "expectations/raw_accountability_full.json"
    # CSDE's 2017-18 designation is exactly the one the extract gives
    combined, extract = combined_refresh.table("alliance_identification"), real_refresh.table("alliance_identification")
    assert int(combined["designated"].sum()) == 33
    assert set(combined.loc[combined["designated"], "district_code"]) == set(extract.loc[extract["designated"], "district_code"])
    pd.testing.assert_series_equal(
        combined.set_index("district_code")["accountability_index"].sort_index(),
        extract.set_index("district_code")["accountability_index"].sort_index())


def test_statute_cohorts_and_the_cohort_of_each_year(combined_refresh):
    """Section 13 on every real export: FY2013's 30, FY2018's 33 (CSDE's, on 2015-16), FY2023's 36 (on 2018-19, the
    newest index published before it): each the statute's count, by one reading."""
    designations = combined_refresh.table("alliance_designations")
    cohorts = designations.drop_duplicates("cohort").set_index("cohort")
    assert cohorts["designated_count"].to_dict() == {"FY2013": 30, "FY2018": 33, "FY2023": 36}
    assert cohorts["count_matches"].all()
    assert cohorts["index_year"].fillna("").to_dict() == {"FY2013": "", "FY2018": "2015-16", "FY2023": "2018-19"}
    fy2023 = designations[(designations["cohort"] == "FY2023") & designations["designated"]]
    new = fy2023[fy2023["admitted_by"] == "steps 1-3"]
    earlier = set(designations.loc[(designations["cohort"] != "FY2023") & designations["designated"], "district_code"])
    assert earlier <= set(fy2023["district_code"])  # every earlier designee stays
    assert set(fy2023["district_name"]) - set(designations.loc[designations["cohort"] == "FY2018"]
                                              .query("designated")["district_name"]) == {
        "Enfield School District", "Plainfield School District", "Stratford School District"}
    assert len(new) == 30
    fy2018 = designations[designations["cohort"] == "FY2018"]
    identification = combined_refresh.table("alliance_identification")
    assert set(fy2018.loc[fy2018["designated"], "district_code"]) == set(
        identification.loc[identification["designated"], "district_code"])
    assert int(designations.loc[designations["cohort"] == "FY2018", "opportunity"].sum()) == 10

    by_year = combined_refresh.table("cohort_by_year")
    sizes = by_year.groupby("school_year").size()
    assert sizes["2016-17"] == 30 and sizes["2017-18"] == 33 and sizes["2021-22"] == 33
    assert sizes["2022-23"] == 36 and sizes["2025-26"] == 36
    yearly = combined_refresh.table("sbac_yearly_changes")
    assert set(yearly.loc[yearly["end_year"] == "2017-18", "cohort"]) == {
        "FY2018 cohort (33 districts, Accountability Index 2015-16)"}
    assert yearly.loc[yearly["in_cohort"] & (yearly["end_year"] == "2017-18"), "district_code"].nunique() == 33
    what_if = combined_refresh.table("designation_what_if")
    assert set(what_if["varied"]) == {"lowest_n", "enrollment_threshold", "index_year"}
    configured_row = what_if[what_if["alternative"].str.contains("configured")]
    assert (configured_row["designated"] == 33).all() and configured_row["entering"].map(len).eq(0).all()

    watch = combined_refresh.table("watch_list")
    assert set(watch["index_year"]) == {"2024-25"}
    assert not watch.loc[~watch["alliance_district"], "district_code"].isin(fy2023["district_code"]).any()


def test_how_they_are_doing_now_on_the_combined_export(combined_refresh):
    shares = combined_refresh.table("sbac_share_met")
    assert set(shares["school_year"]) == {"2014-15", "2015-16", "2016-17", "2017-18", "2018-19", "2021-22",
                                          "2022-23", "2023-24", "2024-25"}
    hartford = shares[(shares["district_code"] == "0640011") & (shares["subject"] == "Math")].set_index("school_year")
    assert hartford.loc["2024-25", "share_met"] == pytest.approx(100 * 1262 / 6755)  # the file: 1,262 of 6,755 (18.7 %)
    assert hartford.loc["2014-15", "grades"].startswith("3-8 (grade 11 taken out")
    doing = combined_refresh.table("doing_now")
    assert set(doing["group"]) == {"the FY2023 cohort (current)", "the study's 8 identified districts"}
    pooled = doing[doing["district_code"].isna() & (doing["subject"] == "Math")
                   & (doing["group"] == "the FY2023 cohort (current)")].set_index("school_year")
    assert pooled.loc["2019-20", "status"] == "no test" and pd.isna(pooled.loc["2019-20", "share_met"])
    assert pooled.loc["2020-21", "status"] == "not published"
    assert pooled.loc["2024-25", "first_year"] == "2022-23" and pd.notna(pooled.loc["2024-25", "distance_change_since_first"])
    report = html.unescape((combined_refresh.reports / "latest" / "appendix-b.html").read_text(encoding="utf-8"))
    assert "Alliance Districts today" in report and "the current one is the FY2023 cohort" in report
    assert "watch list, not a designation" in report
    assert "After 2018-19 the exports hold no scale score by grade, so the measure changes" in report  # did it last?
    # the trend's cohort line names its cohorts: two sets of districts, never one "cohort as a whole"
    assert "then the FY2018 cohort (33 districts, Accountability Index 2015-16) (2017-18 to 2018-19)" in report
    assert "The FY2013 cohort (the study's 30 Alliance Districts), the" in report


def test_renames_are_joined_on_the_code_with_the_newest_name(combined_refresh):
    names = combined_refresh.table("district_names")
    technical = names[names["district_code"] == "9000016"].set_index("district_name")
    assert set(technical.index) == {"Connecticut Technical High School System",
                                    "Connecticut Technical Education and Career System"}
    assert bool(technical.loc["Connecticut Technical Education and Career System", "newest"])
    trends = combined_refresh.table("sbac_score_trends")
    assert set(trends.loc[trends["district_code"] == "2420014", "district_name"]) == {"EdAdvance"}


def test_did_it_last_and_the_years_without_data(combined_refresh):
    lasted = combined_refresh.table("did_it_last")
    meriden = lasted[(lasted["district_name"] == "Meriden School District") & (lasted["identified_in"] == "study")
                     & (lasted["subject"] == "Math")].set_index("school_year")
    assert meriden.loc["2015-16", "distance_to_state"] == pytest.approx(-50.1, abs=0.05)
    assert meriden.loc["2018-19", "distance_to_state"] == pytest.approx(-28.0, abs=0.05)
    assert meriden["change_to_newest"].iloc[0] == pytest.approx(22.1, abs=0.05)
    assert meriden["newest_year"].iloc[0] == "2018-19"
    coverage = combined_refresh.table("data_coverage").set_index(["family", "school_year"])
    assert coverage.loc[("sbac_district", "2019-20"), "status"] == "no test"
    assert coverage.loc[("accountability", "2020-21"), "status"] == "not published"
    assert coverage.loc[("sbac_district", "2021-22"), "status"] == "not in the source"
    changes = combined_refresh.table("subgroup_gap_changes")  # two real subgroup years now
    assert {("2014-15", "2015-16")} == set(zip(changes["start_year"], changes["end_year"]))
    assert (~changes["excluded"].astype(bool)).sum() > 100
    report = (combined_refresh.reports / "latest" / "appendix-b.html").read_text(encoding="utf-8")
    assert "Did it last?" in report and "Years with no data, and why" in report


def test_the_sample_exercises_each_section_11_rule(sample_refresh):
    unjoined = sample_refresh.table("rows_without_code")
    assert unjoined["district_name"].tolist() == ["Sample Newly Opened Academy, Inc. District"]
    names = sample_refresh.table("district_names")
    assert names["district_code"].eq("9000016").sum() == 2  # renamed, same code
    changes = sample_refresh.table("sbac_yearly_changes")
    closed = changes[(changes["district_code"] == "3370015") & (changes["end_year"] == "2016-17")]
    assert len(closed) and closed["excluded"].all()
    assert closed["exclusion_reason"].str.contains("no row in 2016-17").all()

"""Section 11's pure functions against hand-worked tables: names, rows without code, coverage, designations on
every index year, the cohort of each year, what-if, did it last."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_pipeline.methods import designations, districts, yearly


def _raw(rows, year):
    """(code, name, count); code None = blank."""
    frame = pd.DataFrame([{"school_year": year, "district_name": name, "district_code": code, "student_count": count,
                           "is_aggregate": False, "code_missing": code is None, "source_row": 6 + i}
                          for i, (code, name, count) in enumerate(rows)])
    frame["district_code"] = frame["district_code"].astype("string")
    frame["student_count"] = frame["student_count"].astype("Int64")
    return frame


def test_names_history_keeps_every_name_and_shows_the_newest():
    raw = {"enrollment": {
        "2016-17": _raw([("9000016", "Connecticut Technical High School System", 10800)], "2016-17"),
        "2017-18": _raw([("9000016", "Connecticut Technical Education and Career System", 10900)], "2017-18"),
        "2018-19": _raw([("9000016", "Connecticut Technical Education and Career System", 11000),
                         (None, "Newly Opened Academy, Inc. District", 45)], "2018-19"),
    }}
    names = districts.district_names(raw)
    assert names[["district_name", "first_year", "last_year", "newest"]].values.tolist() == [
        ["Connecticut Technical High School System", "2016-17", "2016-17", False],
        ["Connecticut Technical Education and Career System", "2017-18", "2018-19", True],
    ]
    assert districts.newest_names(names) == {"9000016": "Connecticut Technical Education and Career System"}
    table = pd.DataFrame({"district_code": ["9000016", "0010011"], "district_name": ["old", "Andover"]})
    assert districts.with_newest_names(table, districts.newest_names(names))["district_name"].tolist() == [
        "Connecticut Technical Education and Career System", "Andover"]
    unjoined = districts.rows_without_code(raw)  # the blank-code row is listed, never in the names table
    assert unjoined[["school_year", "district_name", "source_row", "values"]].values.tolist() == [
        ["2018-19", "Newly Opened Academy, Inc. District", 7, "student_count=45"]]


def test_coverage_names_each_missing_year_and_why():
    gaps = pd.DataFrame({"family": ["sbac_district"], "school_year": ["2019-20"], "status": ["no test"],
                         "reason": ["no test in spring 2020"]})
    frame = districts.data_coverage({"sbac_district": ["2017-18", "2018-19", "2021-22"], "cmt_district": []},
                                    gaps, "2022-23")
    sbac = frame[frame["family"] == "sbac_district"]
    assert sbac[["school_year", "status"]].values.tolist() == [
        ["2017-18", "held"], ["2018-19", "held"], ["2019-20", "no test"], ["2020-21", "not in the source"],
        ["2021-22", "held"], ["2022-23", "not in the source"]]
    assert frame.loc[frame["family"] == "cmt_district", "reason"].tolist() == ["no export of this family in the source"]


def _enrollment(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"district_code": list(counts), "district_name": [f"D{c}" for c in counts],
                         "student_count": pd.array(list(counts.values()), dtype="Int64"), "is_aggregate": False})


def _index(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"district_code": list(values), "district_name": [f"D{c}" for c in values],
                         "category": "DistrictTot", "outcome_rate_pct": list(values), "is_aggregate": False}
                        ).assign(outcome_rate_pct=list(values.values()))


ROSTER = pd.DataFrame({"district_code": ["0010011"], "district_name": ["D0010011"], "first_year": ["2012-13"],
                       "last_year": ["2016-17"]})
CODES = ["0010011", "0020011", "0030011", "0040011"]


def test_statute_cohorts_chain_step_4_and_the_cohort_of_each_year():
    """Lowest 2 of four local districts; 0010011 is the roster's (FY2013) designee. FY2018 is designated on the
    2015-16 index, FY2023 on 2018-19 (2019-20 and 2020-21 have none), each step 4 adding every earlier designee."""
    enrollment = {year: _enrollment(dict.fromkeys(CODES, 2000)) for year in ("2015-16", "2016-17", "2018-19")}
    accountability = {"2015-16": _index(dict(zip(CODES, (80.0, 50.0, 55.0, 90.0)))),   # lowest: 0020011, 0030011
                      "2016-17": _index(dict(zip(CODES, (85.0, 70.0, 52.0, 51.0)))),  # never a cohort's index year
                      "2018-19": _index(dict(zip(CODES, (85.0, 70.0, 60.0, 51.0))))}  # lowest: 0040011, 0030011
    rule = designations.Rule("2015-16", "2017-18", 1000, 2)
    frame, notes = designations.alliance_designations(enrollment, accountability, ROSTER, rule, ["2019-20", "2020-21"])
    assert notes == []
    chosen = {c: set(group.loc[group["designated"], "district_code"]) for c, group in frame.groupby("cohort")}
    assert chosen == {"FY2013": {"0010011"}, "FY2018": {"0010011", "0020011", "0030011"},
                      "FY2023": {"0040011", "0030011", "0010011", "0020011"}}
    index = frame.drop_duplicates("cohort").set_index("cohort")
    assert index["index_year"].fillna("").to_dict() == {"FY2013": "", "FY2018": "2015-16", "FY2023": "2018-19"}
    assert index[["first_year", "last_year"]].loc["FY2023"].tolist() == ["2022-23", "2026-27"]
    # the statute's counts (30, 33, 36) are not this toy's: said per row, never hidden
    assert index["designated_count"].tolist() == [1, 3, 4] and not index["count_matches"].any()
    fy2023 = frame[frame["cohort"] == "FY2023"].set_index("district_code")
    assert fy2023.loc["0020011", "admitted_by"] == "step 4"
    assert fy2023.loc["0020011", "step4_reason"].startswith("designated in FY2013, FY2018")
    # Opportunity: designated and among the ten lowest of all towns (four towns here: all of them)
    assert fy2023["opportunity"].tolist() == fy2023["designated"].tolist()

    cohorts = designations.cohort_by_year(ROSTER, frame, ["2011-12", "2016-17", "2017-18", "2021-22", "2022-23",
                                                          "2027-28"])
    codes = designations.cohort_codes(cohorts)
    assert codes["2011-12"] == codes["2016-17"] == {"0010011"}  # the study's cohort before and through FY2013's years
    assert codes["2017-18"] == codes["2021-22"] == chosen["FY2018"]
    assert codes["2022-23"] == codes["2027-28"] == chosen["FY2023"]  # no later cohort in law: the last continues
    labelled = designations.with_cohort(pd.DataFrame({"end_year": ["2017-18"]}), cohorts, "end_year")
    assert labelled["cohort"].tolist() == ["FY2018 cohort (3 districts, Accountability Index 2015-16)"]

    # without the 2018-19 exports, FY2023 is not computed (never designated on an older index) and FY2018 continues
    del enrollment["2018-19"], accountability["2018-19"]
    frame, notes = designations.alliance_designations(enrollment, accountability, ROSTER, rule, ["2019-20", "2020-21"])
    assert set(frame["cohort"]) == {"FY2013", "FY2018"} and "FY2023" in notes[0] and "2018-19" in notes[0]
    assert designations.cohort_codes(designations.cohort_by_year(ROSTER, frame, ["2024-25"]))["2024-25"] == chosen["FY2018"]

    what_if = designations.designation_what_if(enrollment, accountability, ROSTER, rule, lowest=(1, 2), floors=(2500,))
    row = what_if.set_index("alternative")
    assert row.loc["the lowest 1", "leaving"] == ["0030011"] and row.loc["the lowest 1", "entering"] == []
    assert row.loc["the lowest 2 (the configured rule)", "entering"] == []
    assert row.loc["at least 2,500 students", "designated"] == 1  # nobody reaches the floor: only step 4's
    assert row.loc["the 2016-17 Accountability Index and enrollment", "entering"] == ["0040011"]


def test_the_index_year_of_a_cohort_is_the_newest_published_before_it():
    fy2018, fy2023 = designations.STATUTE_COHORTS[1:]
    assert fy2018.index_year() == "2015-16"
    assert fy2023.index_year() == "2020-21"  # were it published
    assert fy2023.index_year(["2019-20", "2020-21"]) == "2018-19"


def test_the_watch_list_names_the_lowest_outside_the_cohort_and_designees_far_above():
    codes = [f"00{n:02d}011" for n in range(1, 7)]
    enrollment = {"2024-25": _enrollment(dict.fromkeys(codes, 2000))}
    accountability = {"2024-25": _index(dict(zip(codes, (50.0, 60.0, 70.0, 80.0, 90.0, 95.0))))}
    current = pd.DataFrame({"district_code": ["0001011", "0006011"], "district_name": ["D1", "D6"],
                            "designated": True, "cohort": "FY2023", "first_year": "2022-23", "fiscal_year": 2023})
    frame = designations.watch_list(enrollment, accountability, ROSTER, current, designations.Rule(lowest_n=2), 4)
    watched = frame.set_index("district_code")["watch"].to_dict()
    assert watched == {"0002011": "among the lowest 2, not an Alliance District",
                       "0006011": "Alliance District, not among the lowest 4"}
    assert set(frame["index_year"]) == {"2024-25"} and frame["reason"].str.contains("FY2023").all()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(30, 95, allow_nan=False), min_size=4, max_size=4), st.integers(1, 4))
def test_the_fy2018_cohort_is_alliance_identification(index, lowest):
    """Property: FY2018's rows of alliance_designations equal section 6's own table (the 2017-18 designation)."""
    from alliance_pipeline.methods.alliance_identification import alliance_identification

    enrollment, accountability = {"2015-16": _enrollment(dict.fromkeys(CODES, 1500))}, {"2015-16": _index(dict(zip(CODES, index)))}
    rule = designations.Rule(lowest_n=lowest)
    frame, _ = designations.alliance_designations(enrollment, accountability, ROSTER, rule)
    own = alliance_identification(enrollment["2015-16"], accountability["2015-16"], ROSTER, lowest_n=lowest)
    fy2018 = frame[frame["cohort"] == "FY2018"]
    pd.testing.assert_frame_equal(fy2018[own.columns].reset_index(drop=True), own.reset_index(drop=True),
                                  check_dtype=False)


def test_did_it_last_follows_the_distance_to_the_newest_year():
    trends = pd.DataFrame({
        "district_code": ["0800011"] * 3, "district_name": ["Meriden"] * 3, "subject": ["Math"] * 3,
        "school_year": ["2015-16", "2017-18", "2018-19"], "distance_to_state": [-50.1, -36.1, -28.0],
        "low_participation": [False, False, True],
    })
    by_year = pd.DataFrame({"end_year": ["2018-19"], "district_code": ["0800011"]})
    frame = yearly.did_it_last(pd.DataFrame({"district_code": ["0800011"]}), by_year, trends, "2015-16")
    study = frame[frame["identified_in"] == "study"]
    assert study["school_year"].tolist() == ["2015-16", "2017-18", "2018-19"]
    assert study["change_to_newest"].iloc[0] == pytest.approx(-28.0 - -50.1)  # narrowed by 22.1 points
    assert study["identified_again"].iloc[0] == ["2018-19"]
    later = frame[frame["identified_in"] == "later year"]
    assert later["school_year"].tolist() == ["2018-19"] and later["change_to_newest"].iloc[0] == 0

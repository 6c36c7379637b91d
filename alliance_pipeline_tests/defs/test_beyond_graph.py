"""Sections 8-10 in the whole graph: the session's sample and real-exports refreshes, checked against
the section 1-5 tables and, for the subgroup exports, against the CSV cells read independently."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from alliance_pipeline.edsight.families import FAMILIES, SUBGROUP_FAMILIES

NEW_TABLES = [
    "identified_by_year", "sbac_score_trends", "identification_robustness", "identification_margins",
    "subgroup_proficiency", "subgroup_gaps", "subgroup_gap_summary", "subgroup_gap_changes",
]


def test_every_new_table_is_stored_validated_and_described_on_the_sample(sample_refresh):
    for name in NEW_TABLES:
        table = sample_refresh.table(name)
        assert len(table) and "unavailable" not in table.attrs, name
        assert sample_refresh.check_status(name) == "SUCCEEDED", name
        metadata = sample_refresh.metadata(name)
        assert metadata["available"].value is True and "preview" in metadata, name
    assert sample_refresh.metadata("identification_robustness")["setting/top_n"].value == "3"
    assert sample_refresh.metadata("identification_robustness")["variants"].value == 42


def test_the_study_year_of_identified_by_year_is_identified_districts(sample_refresh):
    by_year = sample_refresh.table("identified_by_year")
    study = sample_refresh.table("identified_districts")
    year = by_year[by_year["end_year"] == "2015-16"].reset_index(drop=True)
    assert year["district_code"].tolist() == study["district_code"].tolist()
    assert year["indicators"].tolist() == study["indicators"].tolist()
    assert year["ranks"].tolist() == study["ranks"].tolist()
    assert year["built_from"].iloc[0] == [
        "SBAC change Math", "SBAC change ELA", "T-score change Math", "T-score change ELA", "Growth rate Math",
        "Growth rate ELA"]
    assert set(by_year["end_year"]) == {"2015-16", "2016-17"}  # 2016-17 from the new pair, no code change


def test_trends_use_the_statewide_moments(sample_refresh):
    trends = sample_refresh.table("sbac_score_trends")
    moments = sample_refresh.table("statewide_moments")
    sbac = moments[moments["assessment"] == "SBAC"].set_index(["school_year", "subject"])["mean"]
    for (year, subject), group in trends.groupby(["school_year", "subject"]):
        assert group["state_mean"].iloc[0] == sbac[(year, subject)]
        cohort = group[group["in_cohort"] & group["score"].notna()]
        weighted = float((cohort["score"] * cohort["n_total"]).sum() / cohort["n_total"].sum())
        assert group["cohort_mean"].iloc[0] == pytest.approx(weighted, abs=1e-9)


def test_robustness_covers_the_study_and_every_year(sample_refresh):
    robustness = sample_refresh.table("identification_robustness")
    study = robustness[robustness["is_study"]]
    assert len(study) == 30 and study["variants"].eq(42).all()
    identified = set(sample_refresh.table("identified_districts")["district_code"])
    assert set(study.loc[study["identified_default"], "district_code"]) == identified
    assert (study.loc[~study["identified_default"], "selection_frequency"] < 1).all()
    margins = sample_refresh.table("identification_margins")
    assert set(margins["indicator"]) == {"SBAC change Math", "SBAC change ELA", "T-score change Math",
                                         "T-score change ELA", "Growth rate Math", "Growth rate ELA"}
    assert margins["margin"].dropna().ge(0).all()


def test_gap_changes_exist_for_each_pair_of_sample_years(sample_refresh):
    changes = sample_refresh.table("subgroup_gap_changes")
    assert set(zip(changes["start_year"], changes["end_year"])) == {("2014-15", "2015-16"), ("2015-16", "2016-17")}
    assert set(changes["scope"]) == {"district", "state", "cohort", "non_cohort"}
    computed = changes[~changes["excluded"]]
    assert len(computed) > 100 and computed["change"].notna().all()
    assert changes.loc[changes["excluded"], "change"].isna().all()
    assert changes.loc[changes["excluded"] & changes["scope"].eq("district"), "exclusion_reason"].notna().all()


def _csv_rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header = next(i for i, row in enumerate(rows) if row[:2] == ["District", "District Code"])
    return [row for row in rows[header + 1:] if any(cell.strip() for cell in row)]


@pytest.mark.real_exports
def test_real_subgroup_rows_equal_the_exports(real_refresh, shared_edsight):
    for name in SUBGROUP_FAMILIES:
        family = FAMILIES[name]
        path = next((shared_edsight / family.folder).glob(family.filename_for("2015-16")))
        raw = real_refresh.table(family.asset_name, "2015-16")
        assert len(raw) == len(_csv_rows(path)), name
        stars = sum(cell == "*" for row in _csv_rows(path) for cell in row[4:])
        assert int(raw["suppressed_columns"].map(len).sum()) == stars, name
        assert real_refresh.check_status(family.asset_name) == "SUCCEEDED"


def _proficiency(rows, code, subject, groups) -> float | None:
    """From the CSV cells: Level 3&4 count / scored x 100, adding the groups' counts; None when a cell is '*'."""
    scored = met = 0
    for row in rows:
        if row[1] == f'="{code}"' and row[2] == subject and row[3] in groups:
            if "*" in (row[7], row[16]):
                return None
            scored += int(row[7])
            met += int(row[16])
    return 100.0 * met / scored


@pytest.mark.real_exports
@pytest.mark.parametrize(("family", "code", "subject", "gap", "reference", "focal"), [
    ("sbac_subgroup_race", "0150011", "ELA", "White - Black", ("White",), ("Black or African American",)),
    ("sbac_subgroup_race", "0640011", "Math", "White - Hispanic", ("White",), ("Hispanic/Latino of any race",)),
    ("sbac_subgroup_meal", "0930011", "Math", "Not eligible - meal eligible", ("N",), ("F", "R")),
    ("sbac_subgroup_ell", "0150011", "ELA", "Not ELL - ELL", ("N",), ("Y",)),
    ("sbac_subgroup_special_education", "1510011", "Math", "Not special education - special education", ("N",), ("Y",)),
])
def test_real_gaps_checked_by_hand_from_the_csv_cells(real_refresh, shared_edsight, family, code, subject, gap,
                                                      reference, focal):
    spec = FAMILIES[family]
    rows = _csv_rows(next((shared_edsight / spec.folder).glob(spec.filename_for("2015-16"))))
    expected_ref, expected_focal = _proficiency(rows, code, subject, reference), _proficiency(rows, code, subject, focal)
    gaps = real_refresh.table("subgroup_gaps")
    row = gaps[(gaps["district_code"] == code) & (gaps["subject"] == subject) & (gaps["gap"] == gap)].iloc[0]
    if expected_ref is None or expected_focal is None:
        assert row["excluded"] and pd.isna(row["gap_value"]) and "suppressed (export row" in row["exclusion_reason"]
    else:
        assert not row["excluded"]
        assert row["reference_proficiency"] == pytest.approx(expected_ref, abs=1e-12)
        assert row["focal_proficiency"] == pytest.approx(expected_focal, abs=1e-12)
        assert row["gap_value"] == pytest.approx(expected_ref - expected_focal, abs=1e-12)


@pytest.mark.real_exports
def test_real_state_gap_sums_the_districts_that_published_both_groups(real_refresh, shared_edsight):
    """Worked from the export's own cells: the districts with both groups' counts published, summed; since CSDE
    withheld other districts' cells, the row is not the whole state's (complete is false, and the note says so)."""
    spec = FAMILIES["sbac_subgroup_race"]
    rows = _csv_rows(next((shared_edsight / spec.folder).glob(spec.filename_for("2015-16"))))
    groups = ("White", "Black or African American")
    cells = {(r[1], r[3]): r for r in rows if r[2] == "Math" and r[3] in groups and r[1].strip('="')}
    paired = {code for code, _ in cells if all((code, g) in cells and "*" not in (cells[(code, g)][7], cells[(code, g)][16])
                                               for g in groups)}

    def summed(group):
        return 100.0 * sum(int(cells[(c, group)][16]) for c in paired) / sum(int(cells[(c, group)][7]) for c in paired)

    summary = real_refresh.table("subgroup_gap_summary").set_index(["scope", "subject", "gap"])
    state = summary.loc[("state", "Math", "White - Black")]
    assert state["gap_value"] == pytest.approx(summed("White") - summed("Black or African American"), abs=1e-9)
    assert state["paired_districts"] == len({code.strip('="') for code in paired}) and not state["complete"]
    assert f"the {state['paired_districts']} of {state['districts']} districts that published both groups" in state["note"]
    assert state["rows_left_out"] == sum(
        1 for r in rows if r[2] == "Math" and r[3] in ("White", "Black or African American") and "*" in (r[7], r[16]))
    assert real_refresh.table("subgroup_gap_changes").empty  # one year of subgroup exports: no change yet
    assert "two consecutive school years" in real_refresh.metadata("subgroup_gap_changes")["unavailable_reason"].value


@pytest.mark.real_exports
def test_real_robustness_shows_the_thin_cut_offs(real_refresh):
    margins = real_refresh.table("identification_margins")
    study = margins[margins["is_study"]]
    math = study[study["indicator"] == "SBAC change Math"].set_index("rank_cohort")
    assert math.loc[3, "margin"] == math.loc[4, "margin"] < 0.5  # rank 3 vs 4: under half a point
    robustness = real_refresh.table("identification_robustness")
    identified = robustness[robustness["is_study"] & robustness["identified_default"]]
    assert set(identified["district_code"]) == set(real_refresh.table("identified_districts")["district_code"])
    assert {"robust", "moderate", "fragile"} >= set(identified["label"]) and len(identified) == 7
    assert set(real_refresh.table("identified_by_year")["end_year"]) == {"2015-16", "2016-17"}

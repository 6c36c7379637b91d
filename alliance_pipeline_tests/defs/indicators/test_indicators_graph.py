"""The whole graph in-process: six indicators on the sample, four on the real exports."""

from __future__ import annotations

import dagster as dg
import pytest

from alliance_pipeline.edsight import read_export
from alliance_pipeline.methods.identified_districts import INDICATORS

INDICATOR_ASSETS = ["sbac_score_changes", "growth_rankings", "t_score_changes"]


def test_sample_computes_all_six_indicators(sample_refresh):
    instance, _table, _metadata = sample_refresh.instance, sample_refresh.table, sample_refresh.metadata
    for name in INDICATOR_ASSETS:
        table = _table(name)
        assert len(table) and "unavailable" not in table.attrs, name
        assert _metadata(name)["available"].value is True
    identified = _table("identified_districts")
    assert identified.attrs["unavailable_indicators"] == {}
    assert len(identified) >= 3
    cohort = set(_table("alliance_cohort")["district_code"])
    assert set(identified["district_code"]) <= cohort
    picked = {name for names in identified["indicators"] for name in names}
    assert picked == {indicator.name for indicator in INDICATORS}
    changes = _table("sbac_score_changes")
    assert changes["excluded"].any() and not changes.loc[changes["excluded"], "change"].notna().any()
    assert _metadata("sbac_score_changes")["setting/suppression_scope"].value == "district"
    t = _table("t_scores")
    assert set(t["school_year"]) == {"2011-12", "2012-13", "2014-15", "2015-16", "2016-17"}
    for name in ("sbac_score_changes", "t_score_changes", "identified_districts", "growth_rankings"):
        evaluations = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(name), "expectations"), limit=5)
        assert evaluations and evaluations[0].status.value == "SUCCEEDED", name


@pytest.mark.real_exports
def test_real_exports_compute_four_indicators_and_report_t_scores_unavailable(real_refresh):
    _table, _metadata = real_refresh.table, real_refresh.metadata
    for name in ("t_scores", "t_score_changes"):
        table = _table(name)
        assert table.empty and "no CMT district exports" in table.attrs["unavailable"]
        assert _metadata(name)["available"].value is False
        [record] = real_refresh.instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(name), "expectations"), limit=1)
        evaluation = record.event.dagster_event.event_specific_data
        assert record.status.value == "FAILED" and evaluation.severity == dg.AssetCheckSeverity.WARN  # not green
    identified = _table("identified_districts")
    assert set(identified.attrs["unavailable_indicators"]) == {"T-score change Math", "T-score change ELA"}
    picked = {name for names in identified["indicators"] for name in names}
    assert picked == {"SBAC change Math", "SBAC change ELA", "Growth rate Math", "Growth rate ELA"}
    changes = _table("sbac_score_changes")
    cohort = changes[changes["in_cohort"]]
    assert cohort["district_code"].nunique() == 30
    assert cohort["rank_cohort"].notna().sum() > 20
    growth = _table("growth_rankings")
    assert growth.loc[growth["in_cohort"] & (growth["subject"] == "Math"), "rank_cohort"].min() == 1


@pytest.mark.real_exports
@pytest.mark.parametrize("year", ["2014-15", "2015-16", "2016-17"])
def test_district_averages_agree_with_the_statewide_export(shared_edsight, year):
    """The state file is an independent aggregate of the same students: within 1 scale point."""
    district = read_export(next((shared_edsight / "sbac-district").glob(f"*{year}*")), expected_year=year).frame
    state = read_export(next((shared_edsight / "sbac-state").glob(f"*{year}*")), expected_year=year).frame
    rows = district[~district["is_aggregate"] & district["total_scored"].notna() & district["average_vss"].notna()]
    compared = 0
    for (grade, subject), group in rows.groupby(["grade", "subject"]):
        weighted = float((group["total_scored"] * group["average_vss"]).sum() / group["total_scored"].sum())
        statewide = state[(state["grade"] == grade) & (state["subject"] == subject)]["average_vss"]
        assert len(statewide) == 1, (grade, subject)
        assert abs(weighted - float(statewide.iloc[0])) <= 1.0, (year, grade, subject, weighted)
        compared += 1
    assert compared >= 12

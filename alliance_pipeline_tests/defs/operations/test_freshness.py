"""The freshness checks (defs/operations/freshness.py): which school year CSDE has published by now, and whether the instance holds every year the source has."""

from __future__ import annotations

import dagster as dg


def test_newest_year_rule_follows_the_release_date():
    from datetime import date

    from alliance_pipeline.defs.operations.freshness import expected_newest_year

    assert expected_newest_year(date(2026, 11, 25)) == "2025-26"  # after 15 October: last spring's results
    assert expected_newest_year(date(2026, 10, 15)) == "2025-26"
    assert expected_newest_year(date(2026, 10, 14)) == "2024-25"  # before: the spring before
    assert expected_newest_year(date(2017, 3, 1), release=(9, 1)) == "2015-16"


def test_freshness_keeps_current_and_complete_apart(instance, env, sample_copy):
    """The sample ends in 2016-17 and the source holds nothing newer: "the warehouse holds every year the source
    holds" passes, while "the newest year is current" fails (WARN), naming every missing year up to the one the
    calendar expects. A newer export in the source that is refused fails the first with its reason."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from alliance_pipeline.defs.operations.freshness import CURRENT_FAMILIES, expected_newest_year, years_between
    from alliance_pipeline.defs.operations.planner import register_years

    defs = env.source(sample_copy)
    register_years(instance, defs.resources["edsight"])
    result = defs.resolve_job_def("check_freshness").execute_in_process(instance=instance, raise_on_error=False)
    assert result.success  # WARN checks do not fail the run
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {(f"raw_{name}", check) for name in CURRENT_FAMILIES
                                for check in ("newest_year_is_current", "holds_every_source_year")}
    expected = expected_newest_year(datetime.now(ZoneInfo("America/New_York")).date())
    current, holds = (evaluations[("raw_sbac_district", name)] for name in ("newest_year_is_current", "holds_every_source_year"))
    assert holds.passed and holds.severity == dg.AssetCheckSeverity.WARN
    assert "holds every school year the export source holds (newest 2016-17)" in holds.description
    assert not current.passed and current.severity == dg.AssetCheckSeverity.WARN
    missing = years_between("2016-17", expected)
    assert missing[0] == "2017-18" and missing[-1] == expected
    assert f"missing {', '.join(missing)}" in current.description
    assert current.metadata["missing_years"].value == ", ".join(missing)

    folder = sample_copy / "enrollment-district"  # a 2017-18 file whose title says 2016-17: refused
    (folder / "enrollment__2017-18_all-students.csv").write_bytes((folder / "enrollment__2016-17_all-students.csv").read_bytes())
    register_years(instance, defs.resources["edsight"])
    result = defs.resolve_job_def("check_freshness").execute_in_process(instance=instance, raise_on_error=False)
    enrollment = {(e.asset_key.to_user_string(), e.check_name): e
                  for e in result.get_asset_check_evaluations()}[("raw_enrollment", "holds_every_source_year")]
    assert not enrollment.passed
    assert "the export for 2017-18 is in the source but was refused" in enrollment.description
    assert "2016-17" in enrollment.description  # why: the title's year


def test_freshness_verdicts_by_hand():
    from alliance_pipeline.defs.operations.freshness import newest_year_verdict, source_verdict

    assert newest_year_verdict("2025-26", "2025-26") == (True, "newest school year 2025-26 is current (the calendar "
                                                         "expects 2025-26)", [])
    passed, why, missing = newest_year_verdict("2022-23", "2025-26")
    assert not passed and missing == ["2023-24", "2024-25", "2025-26"] and "missing 2023-24, 2024-25, 2025-26" in why
    assert newest_year_verdict(None, "2025-26")[2] == ["2025-26"]
    assert source_verdict("2016-17", ["2015-16", "2016-17"], {}, "raw_x", "x")[:1] == (True,)
    held, why, newest = source_verdict("2015-16", ["2015-16", "2016-17"], {"2016-17": "bad title"}, "raw_x", "x")
    assert not held and newest == "2016-17" and "refused: bad title" in why
    assert not source_verdict(None, [], {}, "raw_x", "x")[0]

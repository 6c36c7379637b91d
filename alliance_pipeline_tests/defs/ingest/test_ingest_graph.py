"""The asset graph in-process on a real SQLite instance: sample data, real exports, bad data."""

from __future__ import annotations

import dagster as dg
import pytest

from alliance_pipeline.defs.operations.planner import register_years
from alliance_pipeline.edsight.families import FAMILIES


def _check_evaluations(instance, asset: str):
    records = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), "expectations"), limit=100
    )
    return records


def test_all_raw_assets_and_checks_on_the_sample(sample_refresh):
    instance = sample_refresh.instance
    for family in FAMILIES.values():
        years = instance.get_dynamic_partitions(family.partitions_name)
        assert years, family.name
        for year in years:
            assert (sample_refresh.warehouse / family.asset_name / f"{year}.parquet").is_file()
        materialized = instance.get_materialized_partitions(dg.AssetKey(family.asset_name))
        assert materialized == set(years)
        # the refresh loads a family's years in one run: one check result for them, each year's on its partition
        evaluations = _check_evaluations(instance, family.asset_name)
        assert evaluations and all(record.status.value == "SUCCEEDED" for record in evaluations)
        for year in years:
            record = instance.fetch_materializations(dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(family.asset_name), asset_partitions=[year]), limit=1).records[0]
            metadata = record.asset_materialization.metadata
            assert "expectations met" in metadata["expectations"].value, (family.name, year)
            assert metadata["school_year"].value == year and len(metadata["source_sha256"].value) == 64
    assert (sample_refresh.warehouse / "alliance_cohort.parquet").is_file()


@pytest.mark.real_exports
def test_all_raw_assets_and_checks_on_the_real_exports(real_refresh):
    instance = real_refresh.instance
    assert instance.get_dynamic_partitions("sbac_district_years") == ["2014-15", "2015-16", "2016-17"]
    assert instance.get_dynamic_partitions("cmt_district_years") == []  # none published: nothing to load
    assert instance.get_dynamic_partitions("sbac_subgroup_race_years") == ["2015-16"]
    event = instance.get_latest_materialization_event(dg.AssetKey("raw_sbac_district"))
    metadata = event.asset_materialization.metadata
    assert metadata["rows_read"].value > 2000
    assert metadata["suppressed_cells"].value > 0
    assert len(metadata["source_sha256"].value) == 64


def _materialize_partition(defs, instance, family: str, year: str):
    return dg.materialize(
        list(defs.assets),
        selection=dg.AssetSelection.assets(FAMILIES[family].asset_name),
        partition_key=year,
        instance=instance,
        resources=dict(defs.resources),
        raise_on_error=False,
    )


def _failure_text(result) -> str:
    failures = [event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failures, "the run should have failed"
    data = failures[0].step_failure_data
    return data.user_failure_data.description if data.user_failure_data else data.error.message


def test_negative_count_fails_its_check_and_keeps_the_last_good_parquet(instance, env, sample_copy):
    defs = env.source(sample_copy)
    register_years(instance, defs.resources["edsight"])
    assert _materialize_partition(env.defs, instance, "sbac_district", "2015-16").success
    stored = env.warehouse_dir / "raw_sbac_district" / "2015-16.parquet"
    good = stored.read_bytes()

    path = next((sample_copy / "sbac-district").glob("*2015-16*"))
    lines = path.read_bytes().split(b"\r\n")
    cells = lines[9].split(b",")  # line 10 of the file: a data row
    cells[7] = b"-5"  # Total Number with Scored Tests
    lines[9] = b",".join(cells)
    path.write_bytes(b"\r\n".join(lines))

    result = _materialize_partition(env.defs, instance, "sbac_district", "2015-16")
    assert not result.success
    message = _failure_text(result)
    assert str(path) in message
    assert "'total_scored'" in message and "Total Number with Scored Tests" in message
    assert "row 10 = -5" in message
    assert stored.read_bytes() == good  # the last good output is untouched
    assert not [p for p in stored.parent.iterdir() if p.name != stored.name and "2015-16" in p.name]
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 1 and not checks[0].passed
    assert "row 10 = -5" in checks[0].description


def test_renamed_column_fails_with_the_column_named(instance, env, sample_copy):
    defs = env.source(sample_copy)
    register_years(instance, defs.resources["edsight"])
    path = next((sample_copy / "sbac-district").glob("*2016-17*"))
    path.write_bytes(path.read_bytes().replace(b'"AverageVSS"', b'"Average Score"'))
    result = _materialize_partition(env.defs, instance, "sbac_district", "2016-17")
    assert not result.success
    message = _failure_text(result)
    assert "required column 'average_vss' is missing" in message and str(path) in message
    assert not (env.warehouse_dir / "raw_sbac_district" / "2016-17.parquet").exists()


def test_export_for_another_year_is_rejected(instance, env, sample_copy):
    defs = env.source(sample_copy)
    folder = sample_copy / "sbac-district"
    wrong = folder / "smarter-balanced__2013-14_ela-and-math_all-students_all-grades.csv"
    wrong.write_bytes(next(folder.glob("*2015-16*")).read_bytes())  # a 2015-16 report filed as 2013-14
    changes = register_years(instance, defs.resources["edsight"])
    assert f"{wrong} is named for 2013-14 but its title says 2015-16" in "\n".join(changes.refused)  # not registered
    instance.add_dynamic_partitions("sbac_district_years", ["2013-14"])  # added by hand in the UI: still rejected
    result = _materialize_partition(env.defs, instance, "sbac_district", "2013-14")
    assert not result.success
    message = _failure_text(result)
    assert "school year 2015-16" in message and "loaded for 2013-14" in message and str(wrong) in message

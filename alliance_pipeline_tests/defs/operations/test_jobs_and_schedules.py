"""The jobs, schedules and sensors the UI shows (defs/operations/jobs.py, schedules.py): named for their purpose, the annual schedule's requests, settings that cannot work refused before any asset computes."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from alliance_pipeline.definitions import defs


def test_jobs_schedules_and_sensors_are_named_for_their_purpose():
    jobs = {job.name for job in defs.jobs}
    assert {"single_year_sbac_district", "single_year_enrollment", "cross_year_tables", "report_only"} <= jobs
    assert {s.name for s in defs.sensors} == {"school_year_partitions", "new_school_year_sensor", "republished_export_sensor",
                                              "cross_year_tables_sensor", "keep_tables_current", "alert_on_run_failure",
                                              "coded_plan_sheets_sensor"}
    assert all(job.tags.get("dagster/max_runtime") == "3600" for job in defs.jobs)
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():  # owners, tags and the concurrency pool on every asset
        node = graph.get(key)
        assert node.owners == ["team:alliance-data"] and node.tags["stage"] == node.group_name and node.pools == {"alliance_cpu"}, key
    schedules = [s for s in defs.schedules if s.name.startswith("annual_refresh_")]
    assert schedules and all(s.cron_schedule == "0 6 15 10 *" and s.execution_timezone == "America/New_York" for s in schedules)
    assert defs.resolve_schedule_def("daily_freshness_check").job_name == "check_freshness"
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.code_version, key
        name = key.to_user_string()
        # Yearly tables follow their raw partition; raw ones follow the exports; cross-year ones the consistency sensor.
        assert (node.automation_condition is not None) == (node.partitions_def is not None and not name.startswith("raw_")), name


def test_annual_schedule_adds_new_years_and_requests_the_latest(instance, env, sample_copy):
    defs = env.source(sample_copy)
    schedule = defs.resolve_schedule_def("annual_refresh_sbac_district")
    resources = {name: defs.resources[name] for name in ("edsight", "refresh_policy")}
    with dg.build_schedule_context(instance=instance, resources=resources, repository_def=defs.get_repository_def(),
                                   scheduled_execution_time=pd.Timestamp("2027-10-15T06:00", tz="America/New_York")) as context:
        requests = schedule.evaluate_tick(context).run_requests
    assert [(r.job_name, r.partition_key) for r in requests] == [
        ("single_year_sbac_district", "2015-16"), ("single_year_sbac_district", "2016-17")]
    assert instance.get_dynamic_partitions("sbac_district_years") == ["2014-15", "2015-16", "2016-17"]


def test_misconfigured_settings_fail_before_any_asset_computes(instance, env, sample_copy):
    """An unknown suppression scope is refused when the run is launched; a year the instance does not hold fails the
    run as it starts, naming the setting and the years that exist."""
    import pytest

    from alliance_pipeline.defs.operations.planner import register_years

    defs = env.source(sample_copy)
    register_years(instance, defs.resources["edsight"])
    job = defs.resolve_job_def("cross_year_tables")
    with pytest.raises(dg.DagsterInvalidConfigError, match="suppression_scope"):
        job.execute_in_process(instance=instance, run_config={"resources": {"method": {"config": {"suppression_scope": "county"}}}})
    result = job.execute_in_process(instance=instance, raise_on_error=False,
                                    run_config={"resources": {"method": {"config": {"growth_year": "2051-52"}}}})
    assert not result.success
    failures = [e for e in result.all_events if e.event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE)]
    text = " ".join(str(e.event_specific_data) for e in failures) + " ".join(e.message or "" for e in failures)
    assert "growth_year = '2051-52' is not a school year of raw_sbac_growth (it has 2015-16, 2016-17)" in text, text
    assert not result.get_asset_materialization_events()  # nothing computed

"""Operations in-process on a real DagsterInstance: a new school year, a republished export, automation, jobs."""

from __future__ import annotations

import hashlib
import time

import dagster as dg
import pandas as pd
import pytest

from alliance_pipeline import paths
from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.defs.operations import consistency
from alliance_pipeline.edsight import read_export
from alliance_pipeline.methods import sbac
from alliance_pipeline.refresh import failure_message, refresh
from alliance_pipeline.sample_data import SEED, write_export
from alliance_pipeline_tests.helpers import execute, new_years, tick

SBAC_GROUP = {"raw_sbac_district", "sbac_district_scores"}
DOWNSTREAM_OF_SBAC = {
    "sbac_score_changes", "sbac_yearly_changes", "statewide_moments", "t_scores", "t_score_changes",
    "identified_districts", "appendix_b_report", "raw_export_versions",
}
NOT_DOWNSTREAM_OF_SBAC = {"growth_rankings", "alliance_identification", "opportunity_districts", "alliance_cohort"}


def _cross_year(defs, instance) -> set[str]:
    """One tick of cross_year_tables_sensor: runs what it requests in one run; the next tick asks for nothing."""
    request = tick(defs, "cross_year_tables_sensor", instance)
    if isinstance(request, dg.SkipReason):
        return set()
    assert request.job_name == "cross_year_tables" and request.tags["alliance_pipeline/inputs"]
    execute(defs, instance, request)
    again = tick(defs, "cross_year_tables_sensor", instance)
    assert isinstance(again, dg.SkipReason) and "current" in again.skip_message, again
    return {key.to_user_string() for key in request.asset_selection}


def _materialized_partitions(instance, asset: str) -> list[str]:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset)), limit=1000).records
    return sorted(record.partition_key for record in records)


def _materializations(instance, asset: str) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(asset), limit=1000).records)


def test_new_year_and_republished_export_flow_through_the_graph(loaded_sample):
    instance, env, sample_copy = loaded_sample
    defs = env.source(sample_copy)
    assert _cross_year(defs, instance) == set()  # everything is current after the first load
    assert "current" in tick(defs, "cross_year_tables_sensor", instance).skip_message
    assert tick(defs, "republished_export_sensor", instance).skip_reason.skip_message.startswith("no export changed")

    # CSDE publishes 2017-18: the partition is registered, the new-year sensor asks for that year of SBAC only.
    write_export(sample_copy, "sbac_district", "2017-18", SEED)
    result = tick(defs, "school_year_partitions", instance)
    assert [(r.partitions_def_name, r.partition_keys) for r in result.dynamic_partitions_requests] == [
        ("sbac_district_years", ["2017-18"])] and not result.run_requests
    instance.add_dynamic_partitions("sbac_district_years", ["2017-18"])
    assert "still running" not in tick(defs, "cross_year_tables_sensor", instance).skip_message
    [request] = new_years(defs, instance).run_requests
    assert (request.job_name, request.partition_key) == ("single_year_sbac_district", "2017-18")
    assert request.tags["alliance_pipeline/family"] == "sbac_district" and request.tags["alliance_pipeline/school_year"] == "2017-18"
    execute(defs, instance, request)
    assert set(defs.resolve_job_def("single_year_sbac_district").asset_layer.executable_asset_keys) == {
        dg.AssetKey(name) for name in SBAC_GROUP}
    requested = _cross_year(defs, instance)
    assert DOWNSTREAM_OF_SBAC <= requested and not (requested & NOT_DOWNSTREAM_OF_SBAC), requested
    yearly = read_parquet(env.warehouse_dir / "sbac_yearly_changes.parquet")
    pairs = set(map(tuple, yearly[["start_year", "end_year"]].drop_duplicates().to_numpy()))
    assert pairs == {("2014-15", "2015-16"), ("2015-16", "2016-17"), ("2016-17", "2017-18")}
    assert yearly.loc[yearly["end_year"] == "2017-18", "rank_cohort"].notna().sum() > 0

    # CSDE republishes 2015-16 with changed numbers: a run for that year only, then its downstream in one run.
    before = read_parquet(env.warehouse_dir / "sbac_score_changes.parquet")
    old_path = write_export(sample_copy, "sbac_district", "2015-16", SEED)  # same path, same content as loaded
    old_sha = read_export(old_path).sha256
    write_export(sample_copy, "sbac_district", "2015-16", SEED, revision=1)
    assert not new_years(defs, instance).run_requests
    result = tick(defs, "republished_export_sensor", instance)
    assert [(r.job_name, r.partition_key) for r in result.run_requests] == [("single_year_sbac_district", "2015-16")]
    assert result.run_requests[0].tags["alliance_pipeline/trigger"] == "republished"
    execute(defs, instance, result.run_requests[0])
    assert _materialized_partitions(instance, "raw_sbac_district") == ["2014-15", "2015-16", "2015-16", "2016-17", "2017-18"]
    assert _materialized_partitions(instance, "raw_sbac_growth") == ["2015-16", "2016-17"]  # untouched
    requested = _cross_year(defs, instance)
    assert DOWNSTREAM_OF_SBAC <= requested and not (requested & NOT_DOWNSTREAM_OF_SBAC), requested
    assert not tick(defs, "republished_export_sensor", instance).run_requests  # refreshed once, not again

    # Both versions stay in the archive, listed by raw_export_versions.
    versions = read_parquet(env.warehouse_dir / "raw_export_versions.parquet")
    year = versions[(versions["family"] == "sbac_district") & (versions["school_year"] == "2015-16")]
    new_sha = read_export(sample_copy / "sbac-district" / old_path.name).sha256
    assert set(year["sha256"]) == {old_sha, new_sha} and year.loc[year["is_latest"], "sha256"].tolist() == [new_sha]
    assert all(pd.notna(year["first_seen"])) and all(map(lambda p: paths.Path(p).is_file(), year["archive_path"]))

    # The indicator now holds the new numbers, equal to the method applied to the new export.
    after = read_parquet(env.warehouse_dir / "sbac_score_changes.parquet")
    expected_end = sbac.district_scores(read_export(sample_copy / "sbac-district" / old_path.name).frame)
    expected = expected_end.set_index(["district_code", "subject"])["score"]
    got = after.set_index(["district_code", "subject"])["score_end"].dropna()
    assert (got - expected.reindex(got.index)).abs().max() < 1e-9
    assert not after["score_end"].equals(before["score_end"])


def _register_years(defs, instance) -> None:
    """One tick of school_year_partitions, its partition requests applied as the daemon applies them."""
    ticked = tick(defs, "school_year_partitions", instance)
    for request in ticked.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def _sensors_load(defs, instance) -> set[str]:
    """What the daemon does on a fresh instance: register the years, load each, then the cross-year run."""
    _register_years(defs, instance)
    for request in new_years(defs, instance).run_requests:
        execute(defs, instance, request)
    return _cross_year(defs, instance)


def _one_family(sample_copy):
    import shutil

    for folder in sample_copy.iterdir():  # one family keeps the flow short
        if folder.name != "sbac-district":
            shutil.rmtree(folder)
    return sample_copy


def test_an_instance_loaded_by_the_sensors_alone_builds_the_reference_tables_with_the_report(instance, env, sample_copy):
    """No refresh: the sensors register and load the years, then the first cross-year run also materializes the
    unpartitioned roots (alliance_cohort and the other reference tables), which no yearly change leads to."""
    defs = env.source(_one_family(sample_copy))
    requested = _sensors_load(defs, instance)
    assert {"alliance_cohort", "study_identified_districts", "plan_codebook", "appendix_b_report"} <= requested
    assert instance.get_latest_materialization_event(dg.AssetKey("alliance_cohort")) is not None
    assert (env.reports_dir / "latest" / "appendix-b.html").is_file()


def test_materialize_all_before_any_year_is_registered_says_not_computed_then_the_sensors_fill_it_in(
        instance, env, sample_copy):
    """Materialize all pressed on a fresh instance before school_year_partitions' first tick: the cross-year tables
    have nothing to read, so each says it could not be computed (no KeyError, no failed run); once the sensors
    register and load the years, the cross-year run rebuilds everything from them."""
    defs = env.source(_one_family(sample_copy))
    early = defs.resolve_job_def("cross_year_tables").execute_in_process(instance=instance, raise_on_error=False)
    assert early.success
    assert read_parquet(env.warehouse_dir / "sbac_score_changes.parquet").attrs["unavailable"]
    html = (env.reports_dir / "latest" / "appendix-b.html").read_text(encoding="utf-8")
    assert "Could not be computed." in html
    requested = _sensors_load(defs, instance)
    assert {"sbac_score_changes", "appendix_b_report"} <= requested
    assert not read_parquet(env.warehouse_dir / "sbac_score_changes.parquet").attrs.get("unavailable")


def test_a_deleted_warehouse_is_never_called_current(instance, env, sample_copy):
    """The warehouse and the reports deleted while the instance remembers them: no sensor calls them current; the
    next ticks load the years again and rebuild every cross-year table and the report, which then are current."""
    import shutil

    defs = env.source(_one_family(sample_copy))
    _sensors_load(defs, instance)
    before = read_parquet(env.warehouse_dir / "sbac_score_changes.parquet")
    shutil.rmtree(env.warehouse_dir)
    shutil.rmtree(env.reports_dir)
    waiting = tick(defs, "cross_year_tables_sensor", instance)
    assert isinstance(waiting, dg.SkipReason) and "current" not in waiting.skip_message
    assert "not loaded yet (raw_sbac_district 2014-15" in waiting.skip_message
    requests = new_years(defs, instance).run_requests
    # the family's three years again, in one run over them, keyed apart from the first load (its keys' storage ids)
    [request] = requests
    assert request.tags["alliance_pipeline/school_years"] == "2014-15,2015-16,2016-17"
    assert request.partition_key_range == dg.PartitionKeyRange("2014-15", "2016-17")
    first = "new:raw_sbac_district:" + hashlib.sha256(",".join(
        f"new:raw_sbac_district:{year}" for year in ("2014-15", "2015-16", "2016-17")).encode()).hexdigest()[:16]
    assert request.run_key.startswith("new:raw_sbac_district:") and request.run_key != first
    for request in requests:
        execute(defs, instance, request)
    requested = _cross_year(defs, instance)  # the next tick says current, from the files
    assert {"sbac_score_changes", "alliance_cohort", "appendix_b_report"} <= requested
    pd.testing.assert_frame_equal(read_parquet(env.warehouse_dir / "sbac_score_changes.parquet"), before)
    assert (env.reports_dir / "latest" / "appendix-b.html").is_file()


def test_identical_bytes_after_a_range_leave_every_year_current(instance, env, sample_copy):
    """A family's years stored by one run (a range), then each raw year re-materialized by hand with the same bytes:
    every derived year still counts as computed from what its raw year holds (the range's input event pointer
    names one event for all years, so the year's own event before it is the one read), so nothing waits."""
    defs = env.source(_one_family(sample_copy))
    assert refresh(defs, instance, progress=lambda message: None).success
    assert "current" in tick(defs, "cross_year_tables_sensor", instance).skip_message
    for year in ("2014-15", "2015-16", "2016-17"):
        execute(defs, instance, dg.RunRequest(job_name="single_year_sbac_district", partition_key=year,
                                               asset_selection=[dg.AssetKey("raw_sbac_district")]))
        assert "current" in tick(defs, "cross_year_tables_sensor", instance).skip_message, year


@pytest.mark.parametrize("launched_by", ["new_school_year_sensor", "a Materialize all backfill"])
def test_a_refused_year_in_a_run_over_several_holds_back_none_of_the_others(instance, env, sample_copy, launched_by):
    """new_school_year_sensor loads a family's new years in one run, and so does Materialize all (the yearly assets'
    BackfillPolicy.single_run: the backfill's run carries only Dagster's own backfill and range tags); one refused
    year fails that run (nothing stored), so the sensor's next tick loads each of its years on its own: the good
    years are stored, the bad one fails alone with its file and column, and then nothing more is asked for them."""
    defs = env.source(_one_family(sample_copy))
    path = next((sample_copy / "sbac-district").glob("*2015-16*"))
    path.write_text(path.read_text().replace('"=""0640011""",', '"=""0640011""",-', 1))
    _register_years(defs, instance)
    [ranged] = new_years(defs, instance).run_requests
    assert ranged.tags["alliance_pipeline/school_years"] == "2014-15,2015-16,2016-17"
    if launched_by != "new_school_year_sensor":
        ranged = dg.RunRequest(job_name=ranged.job_name, tags={
            "dagster/backfill": "abcdefgh", "dagster/asset_partition_range_start": "2014-15",
            "dagster/asset_partition_range_end": "2016-17"})
    failed = execute(defs, instance, ranged, success=False)
    assert "2015-16" in failure_message(failed.all_events) and str(path) in failure_message(failed.all_events)
    assert not (env.warehouse_dir / "raw_sbac_district").exists()  # nothing stored from the refused range
    retries = new_years(defs, instance).run_requests
    assert sorted(r.partition_key for r in retries) == ["2014-15", "2015-16", "2016-17"]
    assert all(r.run_key.startswith("after-range:raw_sbac_district:") for r in retries)
    for request in retries:
        execute(defs, instance, request, success=request.partition_key != "2015-16")
    stored = sorted(p.stem for p in (env.warehouse_dir / "raw_sbac_district").glob("*.parquet"))
    assert stored == ["2014-15", "2016-17"]
    assert not new_years(defs, instance).run_requests  # the bad year waits for a fix


def test_a_new_year_is_loaded_from_the_second_tick_after_it_is_registered(instance, env, sample_copy):
    """One tick for an operator's *Materialize all*: the tick of new_school_year_sensor that first sees registered
    years only says so (its cursor remembers them); the next tick loads them."""
    defs = env.source(_one_family(sample_copy))
    _register_years(defs, instance)
    first = tick(defs, "new_school_year_sensor", instance)
    assert not first.run_requests
    assert first.skip_reason.skip_message.startswith("3 school year(s) registered since the last tick (raw_sbac_district")
    [request] = tick(defs, "new_school_year_sensor", instance, first.cursor).run_requests
    assert request.tags["alliance_pipeline/school_years"] == "2014-15,2015-16,2016-17"


def test_the_sensors_leave_to_a_backfill_in_progress_what_it_will_build(instance, env, sample_copy):
    """*Materialize all* pressed on a fresh instance as soon as the years are registered, beside the always-on sensors:
    while its backfill is in progress, new_school_year_sensor and coded_plan_sheets_sensor leave it the years it
    targets and cross_year_tables_sensor waits for it (nothing loaded twice, no cross-year run racing the backfill's);
    once it has ended, they take up whatever it left unloaded."""
    from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

    defs = env.source(_one_family(sample_copy))
    _register_years(defs, instance)
    plan_tick = tick(defs, "coded_plan_sheets_sensor", instance)
    [added] = plan_tick.dynamic_partitions_requests
    instance.add_dynamic_partitions(added.partitions_def_name, list(added.partition_keys))
    graph = defs.resolve_asset_graph()
    backfill = PartitionBackfill.from_asset_partitions(  # what the UI's Materialize all submits
        backfill_id="materializeall", asset_graph=graph, partition_names=None,
        asset_selection=sorted(graph.materializable_asset_keys), backfill_timestamp=time.time(), tags={},
        dynamic_partitions_store=instance, all_partitions=True, title=None, description=None, run_config=None)
    instance.add_backfill(backfill)
    skipped = new_years(defs, instance)
    assert not skipped.run_requests and "backfill in progress" in skipped.skip_reason.skip_message
    waiting = tick(defs, "coded_plan_sheets_sensor", instance)  # a fresh cursor: every plan year is new to it
    assert not waiting.run_requests and "loaded or requested" in waiting.skip_reason.skip_message
    assert "a backfill in progress" in tick(defs, "cross_year_tables_sensor", instance).skip_message

    instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELED))  # ended, nothing loaded
    [request] = new_years(defs, instance).run_requests
    assert request.tags["alliance_pipeline/school_years"] == "2014-15,2015-16,2016-17"
    assert sorted(r.partition_key for r in tick(defs, "coded_plan_sheets_sensor", instance).run_requests) \
        == sorted(added.partition_keys)
    assert "no school year has been loaded yet" in tick(defs, "cross_year_tables_sensor", instance).skip_message


def test_the_report_waits_for_a_settled_set_of_exports_and_identical_bytes_cascade_nothing(loaded_sample):
    """A republished year whose run fails leaves the last report in place (the sensor waits, a manual report run is
    refused); fixed, one run rebuilds the report from one set of versions. Re-loading identical bytes (a backfill of
    two enrollment years) gives the same data versions: no downstream run, no automation request."""
    instance, env, sample_copy = loaded_sample
    defs = env.source(sample_copy)
    report = env.reports_dir / "latest" / "appendix-b.html"
    html = report.read_bytes()
    built = consistency.built_from(instance)
    assert built and built["raw_sbac_district[2015-16]"] == read_export(
        next((sample_copy / "sbac-district").glob("*2015-16*"))).sha256[:16]
    counts = {name: _materializations(instance, name) for name in ("alliance_identification", "opportunity_districts",
                                                                   "raw_export_versions", "appendix_b_report")}

    # Identical bytes, two enrollment years: same data versions, nothing downstream.
    for year in ("2014-15", "2015-16"):
        execute(defs, instance, dg.RunRequest(job_name="single_year_enrollment", partition_key=year))
    assert _cross_year(defs, instance) == set()
    assert dg.evaluate_automation_conditions(defs=defs, instance=instance).total_requested == 0
    assert {name: _materializations(instance, name) for name in counts} == counts and report.read_bytes() == html

    # A republished 2016-17 that fails validation: the year is not settled, so nothing after it is rebuilt.
    path = next((sample_copy / "sbac-district").glob("*2016-17*"))
    good = path.read_bytes()
    assert b"Assessments, 2016-17" in good
    path.write_bytes(good.replace(b"Assessments, 2016-17", b"Assessments, 2015-16", 1))  # names the wrong year
    [request] = tick(defs, "republished_export_sensor", instance).run_requests
    execute(defs, instance, request, success=False)
    skip = tick(defs, "cross_year_tables_sensor", instance)
    assert "last run failed: raw_sbac_district[2016-17]" in skip.skip_message and "stays in place" in skip.skip_message
    refused = defs.resolve_job_def("report_only").execute_in_process(instance=instance, raise_on_error=False)
    assert not refused.success and report.read_bytes() == html
    assert "not built from a mix of export versions" in str(refused.all_events)

    # Fixed (CSDE republishes again): the year loads, and one run rebuilds its downstream and the report.
    write_export(sample_copy, "sbac_district", "2016-17", SEED, revision=1)
    [request] = tick(defs, "republished_export_sensor", instance).run_requests
    execute(defs, instance, request)
    # Its cross-year run fails (recorded failed here, as a run killed midway is): that state is held back, with why,
    # until a school year is loaded again; the operator reloads the year (the same bytes) and the state gets its run.
    first = tick(defs, "cross_year_tables_sensor", instance)
    instance.report_run_failed(instance.create_run_for_job(defs.resolve_job_def(first.job_name), tags=first.tags))
    held = tick(defs, "cross_year_tables_sensor", instance)
    assert "failed (run" in held.skip_message and "no school year was loaded since" in held.skip_message
    execute(defs, instance, dg.RunRequest(job_name="single_year_sbac_district", partition_key="2016-17"))
    assert tick(defs, "cross_year_tables_sensor", instance).run_key != first.run_key
    requested = _cross_year(defs, instance)
    assert DOWNSTREAM_OF_SBAC <= requested and "opportunity_districts" not in requested
    assert consistency.built_from(instance)["raw_sbac_district[2016-17]"] == read_export(path).sha256[:16]
    assert report.read_bytes() != html


def test_an_hourly_republish_tick_downloads_no_unchanged_export(instance, env, sample_copy):
    """Exports served by http.server on 127.0.0.1, counting the export bytes it sends: with nothing changed a tick
    sends none (HEAD only); a touched but identical file is downloaded once, then remembered in the cursor; a
    republished one is downloaded and requested, its run named by family and year."""
    import functools
    import http.server
    import os
    import threading

    served: list[tuple[str, int]] = []

    class Counting(http.server.SimpleHTTPRequestHandler):
        def copyfile(self, source, outputfile):
            body = source.read()
            served.append((self.path, len(body)))
            outputfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Counting, directory=str(sample_copy)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        defs = env.source(url=f"http://127.0.0.1:{server.server_address[1]}/")
        from alliance_pipeline.defs.operations.planner import register_years

        register_years(instance, defs.resources["edsight"])
        for year in ("2014-15", "2015-16", "2016-17"):
            execute(defs, instance, dg.RunRequest(job_name="single_year_sbac_district", partition_key=year))

        def republish_tick(cursor):
            served.clear()
            result = tick(defs, "republished_export_sensor", instance, cursor)
            exports = [(path, size) for path, size in served if path.endswith(".csv")]
            return result, exports, sum(size for _, size in exports)

        result, exports, sent = republish_tick(None)
        assert sent == 0 and not result.run_requests, exports
        assert "3 loaded exports checked" in result.skip_reason.skip_message

        # Touched, same bytes: one download to compare, then the cursor remembers it.
        path = next((sample_copy / "sbac-district").glob("*2015-16*"))
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 120))
        result, exports, sent = republish_tick(result.cursor)
        assert [p for p, _ in exports] == [f"/sbac-district/{path.name}"] and not result.run_requests
        result, exports, sent = republish_tick(result.cursor)
        assert sent == 0 and not result.run_requests

        # Republished: downloaded once and requested, the run named by family and year.
        write_export(sample_copy, "sbac_district", "2015-16", SEED, revision=1)
        result, exports, sent = republish_tick(result.cursor)
        assert [p for p, _ in exports] == [f"/sbac-district/{path.name}"] and sent == path.stat().st_size
        [request] = result.run_requests
        assert (request.partition_key, request.tags["alliance_pipeline/family"], request.tags["alliance_pipeline/school_year"]) == (
            "2015-16", "sbac_district", "2015-16") and request.run_key.startswith("republish:raw_sbac_district:2015-16:")
    finally:
        server.shutdown()
        server.server_close()

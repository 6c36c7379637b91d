"""An operator's lifecycle that stays consistent on its own (one real instance, the sensors ticked as the daemon
ticks them, a webhook on 127.0.0.1): a republished file reverted and republished again gets its run each time; a
refused file is archived, alerted once and explained on every tick; a year added by hand whose export is refused is
removed; a failed year recovers when the good file is put back; registered but unloaded years hold the report;
re-materializing identical bytes leaves everything current; the sensors that load exports are on by default."""

from __future__ import annotations

import http.server
import json
import threading

import dagster as dg
import pytest

from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.defs.operations import consistency
from alliance_pipeline.defs.operations.alerts import AlertSettings
from alliance_pipeline.edsight import read_export
from alliance_pipeline.sample_data import SEED, write_export
from alliance_pipeline_tests.helpers import execute, new_years, tick


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    finally:
        server.shutdown()
        server.server_close()


def _cross_year_request(defs, instance):
    request = tick(defs, "cross_year_tables_sensor", instance)
    assert isinstance(request, dg.RunRequest), request.skip_message
    return request


def _held_sha(env, family: str, year: str) -> str:
    versions = read_parquet(env.warehouse_dir / "raw_export_versions.parquet")
    held = versions[(versions["family"] == family) & (versions["school_year"] == year) & versions["is_latest"]]
    return held["sha256"].item()


def test_the_sensors_that_load_exports_are_on_by_default():
    from alliance_pipeline.definitions import defs

    for name in ("school_year_partitions", "new_school_year_sensor", "republished_export_sensor",
                 "cross_year_tables_sensor"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING, name
    assert defs.resolve_sensor_def("republished_export_sensor").minimum_interval_seconds == 300


def test_an_operators_lifecycle_stays_consistent_on_its_own(loaded_sample, webhook):
    instance, env, sample_copy = loaded_sample  # the sample refreshed, then:
    url, alerts = webhook
    defs = env.source(sample_copy, alerts=AlertSettings(webhook_url=url))
    keys = []

    # 1. Republished (B), reverted (A), republished again (B): each state the warehouse does not hold gets its run,
    #    and the versions table and the report follow the warehouse.
    shas = {}
    for revision in (1, 0, 1):
        shas[revision] = read_export(write_export(sample_copy, "sbac_district", "2015-16", SEED, revision=revision)).sha256
        [request] = tick(defs, "republished_export_sensor", instance).run_requests
        execute(defs, instance, request)
        cross = _cross_year_request(defs, instance)
        assert cross.run_key not in keys, "a state seen before must still get its run"
        keys.append(cross.run_key)
        execute(defs, instance, cross)
        assert _held_sha(env, "sbac_district", "2015-16") == shas[revision]
        assert consistency.built_from(instance)["raw_sbac_district[2015-16]"] == shas[revision][:16]
    assert "current" in tick(defs, "cross_year_tables_sensor", instance).skip_message

    # 2. Re-materializing identical bytes (one raw partition, by hand): nothing waits on the table behind it.
    execute(defs, instance, dg.RunRequest(job_name="single_year_sbac_district", partition_key="2016-17",
                                           asset_selection=[dg.AssetKey("raw_sbac_district")]))
    assert "current" in tick(defs, "cross_year_tables_sensor", instance).skip_message

    # 3. A refused file: archived as rejected, alerted once, explained on every tick, the freshness check says so.
    folder = sample_copy / "enrollment-district"
    bad = folder / "enrollment__2017-18_all-students.csv"
    bad.write_bytes((folder / "enrollment__2016-17_all-students.csv").read_bytes())  # its title says 2016-17
    first = tick(defs, "school_year_partitions", instance)
    assert "raw_enrollment 2017-18: not registered" in first.skip_reason.skip_message
    again = tick(defs, "school_year_partitions", instance, first.cursor)
    assert "still not registered" in again.skip_reason.skip_message and "2016-17" in again.skip_reason.skip_message
    refused = [alert for alert in alerts if alert["event"] == "export_refused"]
    assert len(refused) == 1 and refused[0]["school_year"] == "2017-18" and "2016-17" in refused[0]["message"]
    from alliance_pipeline.archive import list_versions
    versions = list_versions(env.root / "archive")
    assert (versions[(versions["family"] == "enrollment") & (versions["school_year"] == "2017-18")]["status"]
            == "rejected").all()

    # 4. The same year added by hand (the UI's "Add a partition"): removed on the next tick, with the reason.
    instance.add_dynamic_partitions("enrollment_years", ["2017-18"])
    removal = tick(defs, "school_year_partitions", instance, again.cursor)
    assert [(r.partitions_def_name, r.partition_keys) for r in removal.dynamic_partitions_requests
            if isinstance(r, dg.DeleteDynamicPartitionsRequest)] == [("enrollment_years", ["2017-18"])]
    instance.delete_dynamic_partition("enrollment_years", "2017-18")
    bad.unlink()

    # 5. A registered year never loaded holds the report, and says so.
    write_export(sample_copy, "sbac_growth", "2017-18", SEED)
    instance.add_dynamic_partitions("sbac_growth_years", ["2017-18"])
    assert "not loaded yet" in tick(defs, "cross_year_tables_sensor", instance).skip_message
    [request] = new_years(defs, instance).run_requests
    execute(defs, instance, request)

    # 6. A year that failed validation recovers when the good file is put back, with no hand-holding.
    path = next((sample_copy / "sbac-district").glob("*2016-17*"))
    good = path.read_bytes()
    path.write_bytes(good.replace(b"Assessments, 2016-17", b"Assessments, 2015-16", 1))
    [request] = tick(defs, "republished_export_sensor", instance).run_requests
    execute(defs, instance, request, success=False)
    assert "last run failed" in tick(defs, "cross_year_tables_sensor", instance).skip_message
    assert not tick(defs, "republished_export_sensor", instance).run_requests  # the bad file: not again
    path.write_bytes(good)
    [request] = tick(defs, "republished_export_sensor", instance).run_requests
    assert request.tags["alliance_pipeline/trigger"] == "recovered" and request.partition_key == "2016-17"
    execute(defs, instance, request)
    execute(defs, instance, _cross_year_request(defs, instance))
    assert "current" in tick(defs, "cross_year_tables_sensor", instance).skip_message

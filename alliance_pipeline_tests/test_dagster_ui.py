"""The Dagster UI as an engineer uses it: `dagster dev` on 127.0.0.1, driven in headless Chromium.

On a fresh instance, *Materialize all* loads every school year and builds the report
(dagster-materialize-all-report.png); finds the asset groups and every asset name;
launches one partition of a raw asset from its page and waits until the run shows
success (dagster-asset-groups.png, dagster-run-success.png); a rejected export shows
as a failed check (dagster-check-failed.png); a republished export, then reverted, is rebuilt into the report
each time by the daemon alone. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import dagster as dg
import pytest

from alliance_pipeline import paths
from alliance_pipeline.definitions import defs
from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.defs.operations.consistency import active_runs, built_from
from alliance_pipeline.edsight import read_export
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import LocalExports
from alliance_pipeline.plans.sheets import find_sheets
from alliance_pipeline.sample_data import SEED, write_export
from alliance_pipeline_tests.browser import chromium_page, screenshot_path
from alliance_pipeline_tests.dagster_dev import (
    backfill_done,
    dismiss_welcome,
    launch_partition,
    materialize_all,
    registered_years,
    run_seconds,
    wait_until,
    what_happened,
)
from alliance_pipeline_tests.dagster_dev import dagster_dev as start_dagster_dev

pytestmark = pytest.mark.browser

GROUPS = ("ingest", "indicators", "identification", "now", "every_year", "robustness", "equity", "plan_coding", "reports")
YEAR = "2015-16"


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    """`dagster dev` on a free port with a fresh DAGSTER_HOME (deploy/dagster-local.yaml) and a copy of the sample; its
    sensors tick every 10 s and 5 s (refresh_policy.sensor_seconds; 60 s and 30 s by default) and the republish check
    every 10 s (300 s by default), as an operator watching a refresh might set them."""
    with start_dagster_dev(tmp_path_factory.mktemp("dagster-dev"), ALLIANCE_SENSOR_SECONDS="10",
                           ALLIANCE_REPUBLISH_CHECK_SECONDS="10") as dev:
        yield dev


def test_materialize_all_on_a_fresh_instance_loads_every_year_and_the_report(dagster_dev):
    """What an operator tries first: nothing registered by hand; the always-on school_year_partitions and
    coded_plan_sheets_sensor register the sample's years and plan years, and Materialize all, pressed at once, loads
    every one of them, then the cross-year tables and the report. The always-on sensors leave to the backfill what it
    builds (new_school_year_sensor loads a year from its second tick after the year is registered, so a press as the
    years appear is not raced). After it the consistency sensor finds the report current (no second build)."""
    home, base = dagster_dev["home"], dagster_dev["url"]
    expected = {name: list(years) for name, years in
                ((name, LocalExports(dagster_dev["source"]).discover(name)) for name in FAMILIES)}
    found, _ = find_sheets(paths.SAMPLE_PLANS_DIR)
    wait_until(lambda: registered_years(home) == expected and plan_years(home) == set(found), 240,
               "school_year_partitions and coded_plan_sheets_sensor register the sample's years", poll=1)
    with chromium_page(1600, 1000) as page:
        materialize_all(page, base)
        backfill = wait_until(lambda: backfill_done(home), 1800, "the Materialize all backfill ends", poll=2)
        assert backfill.status.value == "COMPLETED_SUCCESS", backfill.status
        # The sensors left the years to the backfill (a tick that began before the press may still submit its runs).
        after_press = datetime.fromtimestamp(backfill.backfill_timestamp + 15, timezone.utc)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            beside = [r.dagster_run.tags.get("dagster/run_key") for r in instance.get_run_records(
                dg.RunsFilter(tags={"alliance_pipeline/trigger": "new_school_year"}, created_after=after_press))]
            assert not beside, beside
        page.goto(f"{base}/assets/appendix_b_report")
        dismiss_welcome(page)
        page.get_by_text("built_from").first.wait_for(timeout=60000)
        page.screenshot(path=screenshot_path("dagster-materialize-all-report.png"))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for name, family in FAMILIES.items():
            loaded = instance.get_materialized_partitions(dg.AssetKey(family.asset_name))
            assert loaded == set(expected[name]), (name, loaded)
        report = instance.get_latest_materialization_event(dg.AssetKey("appendix_b_report")).asset_materialization
        built = report.metadata["built_from"].value
        assert {k.split("[")[0] for k in built} >= {family.asset_name for family in FAMILIES.values() if expected[family.name]}
    assert (dagster_dev["reports"] / "latest" / "appendix-b.html").is_file()
    wait_until(lambda: "cross_year_tables_sensor skipped: the cross-year tables and the report are current"
               in dagster_dev["log"].read_text(), 180, "the consistency sensor finds the report current")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        built_at = instance.get_latest_materialization_event(dg.AssetKey("appendix_b_report")).timestamp
        later = [r for r in instance.get_run_records(dg.RunsFilter(job_name="cross_year_tables"))
                 if r.create_timestamp.timestamp() > built_at]
        assert not later, "the report was built a second time from the same exports"


def plan_years(home) -> set[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return set(instance.get_dynamic_partitions("plan_years"))


def test_asset_groups_and_a_partition_launched_from_the_ui(dagster_dev):
    graph = defs.resolve_asset_graph()
    by_group: dict[str, list[str]] = {}
    for key in graph.get_all_asset_keys():
        by_group.setdefault(graph.get(key).group_name, []).append(key.to_user_string())
    assert set(by_group) == set(GROUPS)
    base = dagster_dev["url"]
    with chromium_page(1600, 1000) as page:
        page.goto(f"{base}/asset-groups")
        dismiss_welcome(page)
        for group in GROUPS:
            page.locator(f'text="{group}" >> visible=true').first.wait_for(timeout=60000)
        page.screenshot(path=screenshot_path("dagster-asset-groups.png"))

        for group in GROUPS:
            page.goto(f"{base}/locations/alliance_pipeline/asset-groups/{group}/list")
            dismiss_welcome(page)
            for name in sorted(by_group[group]):
                page.locator(f'text="{name}" >> visible=true').first.wait_for(timeout=60000)

        run_id = launch_partition(page, base, "raw_enrollment", YEAR)
        page.get_by_text("Success", exact=True).first.wait_for(timeout=300000)
        page.get_by_text(f"partition: {YEAR}").first.wait_for(timeout=10000)
        page.screenshot(path=screenshot_path("dagster-run-success.png"))

    with dg.DagsterInstance.from_config(str(dagster_dev["home"])) as instance:
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags["dagster/partition"] == YEAR
    assert (dagster_dev["warehouse"] / "raw_enrollment" / f"{YEAR}.parquet").is_file()


def test_a_rejected_export_shows_as_a_failed_check_in_the_ui(dagster_dev):
    """A gzip file saved under the export's name: the run fails, the asset's Checks tab shows the expectations
    check as failed, the run's log the reader's message (file and row), and the step's message says it once."""
    base, source = dagster_dev["url"], dagster_dev["source"]
    path = next((source / "sbac-district").glob(f"*{YEAR}*"))
    original = path.read_bytes()
    path.write_bytes(gzip.compress(original))
    try:
        with chromium_page(1600, 1000) as page:
            run_id = launch_partition(page, base, "raw_sbac_district", YEAR)
            page.get_by_text("Failure", exact=True).first.wait_for(timeout=300000)
            wait_until(lambda: run_seconds(dagster_dev["home"], run_id)[0] == "FAILURE", 300, "the run fails", poll=2)
            page.goto(f"{base}/assets/raw_sbac_district?view=checks")
            dismiss_welcome(page)
            page.get_by_text("expectations", exact=True).first.click(timeout=60000)
            page.get_by_text("Failed", exact=True).first.wait_for(timeout=60000)
            page.screenshot(path=screenshot_path("dagster-check-failed.png"))
            # The reader's message (file and row) in the run's log, as the operator opens it from the alert.
            page.goto(f"{base}/runs/{run_id}")
            page.get_by_text("gzip archive").first.wait_for(timeout=60000)
    finally:
        path.write_bytes(original)
    with dg.DagsterInstance.from_config(str(dagster_dev["home"])) as instance:
        # The republished-export sensor is on by default and may launch its own run on the same bad file; the
        # check's record of this run is the one asserted.
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("raw_sbac_district"), "expectations"), limit=20)
        [record] = [entry for entry in history if entry.run_id == run_id]
        assert record.status.value == "FAILED"
        failures = [event for event in instance.all_logs(run_id) if event.dagster_event
                    and event.dagster_event.event_type == dg.DagsterEventType.STEP_FAILURE]
        [failure] = failures
        description = failure.dagster_event.step_failure_data.user_failure_data.description
        assert description.count(path.name) == 1 and "row 1" in description


def _report_state(dev, family: str, asset: str, year: str) -> tuple[str | None, str | None]:
    """(the SHA-256 prefix the latest report was built from, the one raw_export_versions marks latest) for a year."""
    with dg.DagsterInstance.from_config(str(dev["home"])) as instance:
        if active_runs(instance):
            return None, None
        report = (built_from(instance) or {}).get(f"{asset}[{year}]")
    versions = read_parquet(dev["warehouse"] / "raw_export_versions.parquet")
    latest = versions[(versions["family"] == family) & (versions["school_year"] == year) & versions["is_latest"]]
    return report, (latest["sha256"].item()[:16] if len(latest) == 1 else None)


def test_a_reverted_republish_rebuilds_the_report_through_the_daemon(dagster_dev):
    """CSDE republishes a year (B), then the file is put back (A): with nothing launched by hand, the daemon's
    republished_export_sensor reloads the year each time and cross_year_tables_sensor rebuilds the cross-year tables
    and the report, even for A, a state built once before (its run key is not reused); the versions table and
    the report's sources follow the warehouse."""
    source = dagster_dev["source"]
    original = next((source / "sbac-district").glob(f"*{YEAR}*"))
    before = original.read_bytes()
    try:
        for revision in (1, 0):
            sha = read_export(write_export(source, "sbac_district", YEAR, SEED, revision=revision)).sha256[:16]
            wait_until(lambda: _report_state(dagster_dev, "sbac_district", "raw_sbac_district", YEAR) == (sha, sha),
                       900, f"the daemon rebuilds the report from revision {revision} ({sha})", poll=5,
                       explain=lambda: what_happened(dagster_dev))
        assert original.read_bytes() == before  # revision 0 is the sample's own file
    finally:
        original.write_bytes(before)
    html = (dagster_dev["reports"] / "latest" / "appendix-b.html").read_text()
    assert read_export(original).sha256 in html  # the report's sources cite the file it was built from

"""The Dagster UI as an engineer uses it: `dagster dev` on 127.0.0.1, driven in headless Chromium.

Finds the asset groups and every asset name, launches one partition of a raw
asset from its page, and waits until the run shows success. Screenshots go to
artifacts/screenshots/ (dagster-asset-groups.png, dagster-run-success.png).
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from alliance_pipeline import paths
from alliance_pipeline.definitions import defs
from alliance_pipeline.defs.common.resources import EdSightSource
from alliance_pipeline.refresh import register_years
from alliance_pipeline_tests.browser import chromium_page, screenshot_path

pytestmark = pytest.mark.browser

GROUPS = ("ingest", "indicators", "identification", "every_year", "robustness", "equity", "reports")
YEAR = "2015-16"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"dagster dev did not answer at {url} within {seconds}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    """`dagster dev -w workspace.yaml` on a free port with a temporary DAGSTER_HOME; stopped afterwards."""
    root = tmp_path_factory.mktemp("dagster-dev")
    home = root / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    source = root / "edsight"  # a copy: a test corrupts one file, as an operator's folder might be
    shutil.copytree(paths.SAMPLE_EDSIGHT_DIR, source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env.update(DAGSTER_HOME=str(home), ALLIANCE_WAREHOUSE_DIR=str(root / "warehouse"),
               ALLIANCE_REPORTS_DIR=str(root / "reports"), ALLIANCE_EDSIGHT_DIR=str(source),
               ALLIANCE_ARCHIVE_DIR=str(root / "archive"))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        register_years(instance, EdSightSource(directory=str(source)))
    port = _free_port()
    log = root / "dagster-dev.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=paths.PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/server_info", process, log)
        yield {"url": f"http://127.0.0.1:{port}", "home": home, "warehouse": root / "warehouse", "log": log,
               "source": source}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _dismiss_welcome(page) -> None:
    """The first visit may show Dagster's 'Join the community' dialog; skip it if it is there."""
    button = page.get_by_role("button", name="Skip")
    try:
        button.click(timeout=3000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: no dialog this time
        pass


def _launch(page, base: str, asset: str, year: str) -> str:
    """Materialize one partition of ``asset`` from its page, as an operator does; returns the run id."""
    page.goto(f"{base}/assets/{asset}")
    _dismiss_welcome(page)
    page.get_by_role("button", name="Materialize").first.click()
    page.locator("[role=dialog] [class*=TagSelector_tagSelectorContainer]").click()
    page.get_by_placeholder("Filter partitions").fill(year)
    page.locator(f"text={year} >> visible=true").first.click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Launch 1 run").click()
    page.get_by_role("link", name="View", exact=True).click()
    page.wait_for_url("**/runs/**")
    return page.url.rstrip("/").split("/runs/")[1].split("?")[0]


def test_asset_groups_and_a_partition_launched_from_the_ui(dagster_dev):
    graph = defs.resolve_asset_graph()
    by_group: dict[str, list[str]] = {}
    for key in graph.get_all_asset_keys():
        by_group.setdefault(graph.get(key).group_name, []).append(key.to_user_string())
    assert set(by_group) == set(GROUPS)
    base = dagster_dev["url"]
    with chromium_page(1600, 1000) as page:
        page.goto(f"{base}/asset-groups")
        _dismiss_welcome(page)
        for group in GROUPS:
            page.locator(f'text="{group}" >> visible=true').first.wait_for(timeout=60000)
        page.screenshot(path=screenshot_path("dagster-asset-groups.png"))

        for group in GROUPS:
            page.goto(f"{base}/locations/alliance_pipeline/asset-groups/{group}/list")
            _dismiss_welcome(page)
            for name in sorted(by_group[group]):
                page.locator(f'text="{name}" >> visible=true').first.wait_for(timeout=60000)

        run_id = _launch(page, base, "raw_enrollment", YEAR)
        page.get_by_text("Success", exact=True).first.wait_for(timeout=300000)
        page.get_by_text(f"partition: {YEAR}").first.wait_for(timeout=10000)
        page.screenshot(path=screenshot_path("dagster-run-success.png"))

    with dg.DagsterInstance.from_config(str(dagster_dev["home"])) as instance:
        run = instance.get_run_by_id(run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.tags["dagster/partition"] == YEAR
    assert (dagster_dev["warehouse"] / "raw_enrollment" / f"{YEAR}.parquet").is_file()


def test_a_rejected_export_shows_as_a_failed_check_in_the_ui(dagster_dev):
    """A gzip file saved under the export's name: the run fails, the asset's Checks tab shows the expectations
    check as failed with the reader's message (file and row), and the step's message says it once."""
    base, source = dagster_dev["url"], dagster_dev["source"]
    path = next((source / "sbac-district").glob(f"*{YEAR}*"))
    original = path.read_bytes()
    path.write_bytes(gzip.compress(original))
    try:
        with chromium_page(1600, 1000) as page:
            run_id = _launch(page, base, "raw_sbac_district", YEAR)
            page.get_by_text("Failure", exact=True).first.wait_for(timeout=300000)
            page.goto(f"{base}/assets/raw_sbac_district?view=checks")
            _dismiss_welcome(page)
            page.get_by_text("expectations").first.wait_for(timeout=60000)
            page.get_by_text("Failed", exact=True).first.wait_for(timeout=60000)
            assert page.get_by_text("Not evaluated", exact=True).count() == 0
            page.get_by_text("gzip archive").first.wait_for(timeout=60000)
            page.screenshot(path=screenshot_path("dagster-check-failed.png"))
    finally:
        path.write_bytes(original)
    with dg.DagsterInstance.from_config(str(dagster_dev["home"])) as instance:
        [record] = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("raw_sbac_district"), "expectations"), limit=1)
        assert record.run_id == run_id and record.status.value == "FAILED"
        failures = [event for event in instance.all_logs(run_id) if event.dagster_event
                    and event.dagster_event.event_type == dg.DagsterEventType.STEP_FAILURE]
        [failure] = failures
        description = failure.dagster_event.step_failure_data.user_failure_data.description
        assert description.count(path.name) == 1 and "row 1" in description

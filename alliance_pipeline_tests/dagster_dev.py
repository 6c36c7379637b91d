"""`dg dev` (the README's UI command) on 127.0.0.1 with a fresh instance, and what an operator does in its UI (headless Chromium).

Shared by tests/test_dagster_ui.py and benchmarks/bench_ui_runs.py. The instance is configured
from deploy/dagster-local.yaml, as the README's UI command does; nothing is registered before
the UI starts (the always-on school_year_partitions sensor does that).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg

from alliance_pipeline import paths
from alliance_pipeline.edsight.families import FAMILIES


class DagsterDevError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DagsterDevError(f"dg dev exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise DagsterDevError(f"dg dev did not answer at {url} within {seconds}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def dagster_dev(root: Path, exports: Path = paths.SAMPLE_EDSIGHT_DIR, **settings: str):
    """Start `dg dev` (the project's [tool.dg]; the same code location as `dagster dev -w workspace.yaml`) with DAGSTER_HOME, warehouse, reports and archive under ``root`` and a
    copy of ``exports`` as the source; yields a dict of those paths and the URL; stops it afterwards. ``settings``:
    more ALLIANCE_* variables, as an operator sets them (e.g. ALLIANCE_SENSOR_SECONDS)."""
    home = root / "home"
    home.mkdir(parents=True)
    shutil.copy(paths.PROJECT_ROOT / "deploy" / "dagster-local.yaml", home / "dagster.yaml")
    source = root / "edsight"  # a copy: a test corrupts one file, as an operator's folder might be
    shutil.copytree(exports, source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env.update(DAGSTER_HOME=str(home), ALLIANCE_WAREHOUSE_DIR=str(root / "warehouse"),
               ALLIANCE_REPORTS_DIR=str(root / "reports"), ALLIANCE_EDSIGHT_DIR=str(source),
               ALLIANCE_ARCHIVE_DIR=str(root / "archive"), **settings)
    port = _free_port()
    log = root / "dagster-dev.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dg"), "dev", "-h", "127.0.0.1", "-p", str(port)],  # the README's command
            cwd=paths.PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/server_info", process, log)
        yield {"url": f"http://127.0.0.1:{port}", "home": home, "warehouse": root / "warehouse", "log": log,
               "source": source, "reports": root / "reports", "root": root}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def registered_years(home: Path) -> dict[str, list[str]]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {name: list(instance.get_dynamic_partitions(family.partitions_name)) for name, family in FAMILIES.items()}


def wait_until(predicate, seconds: float, what: str, poll: float = 5.0, explain=None):
    """``predicate()`` once it is truthy; after ``seconds``, an error naming ``what`` and, if given, ``explain()``
    (what the deployment did meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise DagsterDevError(f"{what}: not within {seconds:.0f}s" + (f"\n{explain()}" if explain else ""))


def what_happened(dev: dict, runs: int = 12, log_lines: int = 40) -> str:
    """The instance's latest runs (job, status, partition, run key) and the sensor lines of the dg dev log."""
    with dg.DagsterInstance.from_config(str(dev["home"])) as instance:
        records = instance.get_run_records(limit=runs)
    lines = [f"  {r.create_timestamp:%H:%M:%S} {r.dagster_run.job_name} {r.dagster_run.status.value} "
             f"{r.dagster_run.tags.get('dagster/partition', '')} {r.dagster_run.tags.get('dagster/run_key', '')}"
             for r in reversed(records)]
    plain = re.sub(r"\x1b\[[0-9;]*m", "", dev["log"].read_text(errors="replace"))
    sensors = [line for line in plain.splitlines() if "sensor" in line.lower() and "Checking for new runs" not in line
               and "alert_on_run_failure" not in line]
    return "latest runs:\n" + "\n".join(lines) + "\nsensor log:\n" + "\n".join(sensors[-log_lines:])


def dismiss_welcome(page) -> None:
    """The first visit may show Dagster's 'Join the community' dialog; skip it if it is there."""
    button = page.get_by_role("button", name="Skip")
    try:
        button.click(timeout=3000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: no dialog this time
        pass


def materialize_all(page, base: str) -> None:
    """Global asset lineage -> Materialize all -> Launch backfill (all partitions), as an operator first tries."""
    page.goto(f"{base}/asset-groups")
    dismiss_welcome(page)
    for attempt in range(3):  # a busy machine may show the welcome dialog after the first look: skip it, try again
        try:
            page.get_by_role("button", name="Materialize all").first.click(timeout=20000)
            break
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: an overlay was in the way
            if attempt == 2:
                raise
            dismiss_welcome(page)
            page.keyboard.press("Escape")
    page.get_by_role("button", name="Launch backfill").click()
    page.get_by_text("backfill", exact=False).first.wait_for(timeout=30000)


def launch_partition(page, base: str, asset: str, year: str) -> str:
    """Materialize one partition of ``asset`` from its page, as an operator does; returns the run id."""
    page.goto(f"{base}/assets/{asset}")
    dismiss_welcome(page)
    page.get_by_role("button", name="Materialize").first.click()
    page.locator("[role=dialog] [class*=TagSelector_tagSelectorContainer]").click()
    page.get_by_placeholder("Filter partitions").fill(year)
    page.get_by_role("menuitem", name=year).first.click()  # the dialog also lists the selection as text
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Launch 1 run").click()
    page.get_by_role("link", name="View", exact=True).click()
    page.wait_for_url("**/runs/**")
    return page.url.rstrip("/").split("/runs/")[1].split("?")[0]


def backfill_done(home: Path):
    """The latest backfill once it is no longer running, else None."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        backfills = instance.get_backfills(limit=1)
        if backfills and backfills[0].status.value not in ("REQUESTED", "CANCELING"):
            return backfills[0]
    return None


def run_seconds(home: Path, run_id: str) -> tuple[str, float, float]:
    """A run's status, seconds from launch to end, and seconds it executed."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [record] = instance.get_run_records(dg.RunsFilter(run_ids=[run_id]))
        created = record.create_timestamp.timestamp()
        return record.dagster_run.status.value, (record.end_time or time.time()) - created, \
            (record.end_time or time.time()) - (record.start_time or created)

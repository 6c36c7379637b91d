"""Faults through the whole graph, on copies of the session's sample refresh: degenerate but valid new years (every
score up by exactly 2; every cohort district withheld) refresh, and a refresh killed with SIGKILL at moments chosen
from its own run events (a year run's first stored asset, the report's step) leaves nothing half-written, its runs
are marked failed by the next refresh, which produces what an uninterrupted one does."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from alliance_pipeline import paths
from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.defs.operations.planner import register_years
from alliance_pipeline.reference import load_cohort
from alliance_pipeline.refresh import _failure_message, refresh
from alliance_pipeline_tests.helpers import copy_of_refresh, warehouse_tables

NAMES = {"sbac-district": "smarter-balanced__{}_ela-and-math_all-students_all-grades.csv",
         "sbac-state": "smarter-balanced__{}_ela-and-math_all-students_all-grades_ct.csv"}


def _records(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def add_sbac_year(source: Path, year: str, change) -> None:
    """A new SBAC year (district and state exports) made from 2016-17's: ``change(cells, vss, scored, code)``
    edits each data row in place."""
    for folder, name in NAMES.items():
        records = _records(source / folder / name.format("2016-17"))
        header = next(i for i, row in enumerate(records) if row and row[0] == "District")
        columns = records[header]
        vss, scored = columns.index("AverageVSS"), columns.index("Total Number with Scored Tests")
        code = columns.index("District Code") if "District Code" in columns else None
        records[0][0] = records[0][0].replace("2016-17", year)
        for row in records[header + 1:]:
            if len(row) > vss and row[vss] not in ("", "*"):
                change(row, vss, scored, code)
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(records)
        (source / folder / name.format(year)).write_text(out.getvalue(), encoding="utf-8")


def plus_two(row, vss, scored, code):
    row[vss] = str(int(float(row[vss])) + 2)


COHORT = set(load_cohort()["district_code"])


def cohort_withheld(row, vss, scored, code):
    if code is not None and row[code].strip('="') in COHORT:
        row[vss] = row[scored] = "*"


@pytest.fixture
def sample_copy_refreshed(sample_refresh, tmp_path_factory):
    yield from copy_of_refresh(sample_refresh, paths.SAMPLE_EDSIGHT_DIR, tmp_path_factory, "faults")


def test_degenerate_new_years_refresh(sample_copy_refreshed):
    """2017-18: every score up by exactly 2 (the cohort's spread of changes is 0); 2018-19: every cohort district
    withheld. Both load, and the cross-year tables and the report are built (one run, as the sensor launches it)."""
    refreshed, source, defs = sample_copy_refreshed
    add_sbac_year(source, "2017-18", plus_two)
    add_sbac_year(source, "2018-19", cohort_withheld)
    register_years(refreshed.instance, defs.resources["edsight"])  # then what the sensors launch
    runs = [(f"single_year_{family}", year) for year in ("2017-18", "2018-19") for family in ("sbac_district", "sbac_state")]
    for job, year in [*runs, ("cross_year_tables", None)]:
        run = defs.resolve_job_def(job).execute_in_process(instance=refreshed.instance, partition_key=year,
                                                           raise_on_error=False)
        assert run.success, _failure_message(run)
    margins = read_parquet(refreshed.warehouse / "identification_margins.parquet")
    equal = margins[(margins["end_year"] == "2017-18") & margins["indicator"].str.startswith("SBAC change")]
    assert len(equal) and equal["margin_sd"].isna().all() and equal["cohort_sd"].isna().all()  # no spread ...
    assert equal["margin_sd_note"].str.contains("same value").all()  # ... and why
    changes = read_parquet(refreshed.warehouse / "sbac_yearly_changes.parquet")
    withheld = changes[(changes["end_year"] == "2018-19") & changes["district_code"].isin(COHORT)]
    assert len(withheld) and withheld["excluded"].all()
    report = (refreshed.reports / "latest" / "appendix-b.html").read_text()
    assert "withhold the 2018-19 scores of every district identified" in report  # said, not guessed


def _wait_for(instance: dg.DagsterInstance, moment, process: subprocess.Popen, timeout: float = 300.0):
    """Poll the instance's runs and events until ``moment(instance)`` is true (the refresh still running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the refresh ended before the moment came"
        if moment(instance):
            return
        time.sleep(0.1)
    raise AssertionError("the moment never came")


def _stored(instance: dg.DagsterInstance, count: int):
    """After ``count`` materializations of a year's raw asset have been stored (a run in the middle)."""
    def moment(instance):
        records = instance.fetch_materializations(dg.AssetKey("raw_enrollment"), limit=count).records
        return len(records) >= count
    return moment


def _report_step_started(instance: dg.DagsterInstance) -> bool:
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="cross_year_tables", statuses=[dg.DagsterRunStatus.STARTED]))
    return any(event.dagster_event and event.dagster_event.event_type == dg.DagsterEventType.STEP_START
               and event.dagster_event.step_key == "appendix_b_report"
               for run in runs for event in instance.all_logs(run.run_id))


def _cli_refresh(root: Path, source: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env.update(DAGSTER_HOME=str(root / "dagster_home"), ALLIANCE_REPORTS_DIR=str(root / "reports"))
    return subprocess.Popen([sys.executable, "-m", "alliance_pipeline.cli", "refresh", "--source", str(source),
                             "--warehouse", str(root / "warehouse")], env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_killed_refresh_leaves_nothing_half_written_and_the_next_one_recovers(sample_copy_refreshed, sample_refresh):
    refreshed, source, defs = sample_copy_refreshed
    instance = refreshed.instance
    for moment in (_stored(instance, instance.fetch_materializations(dg.AssetKey("raw_enrollment"), limit=1000)
                           .records.__len__() + 2), _report_step_started):
        process = _cli_refresh(refreshed.root, source)
        try:
            _wait_for(instance, moment, process)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        for path in refreshed.warehouse.rglob("*.parquet"):  # every file a reader sees is whole
            read_parquet(path)
        latest = refreshed.reports / "latest" / "appendix-b.html"
        assert latest.is_file() and latest.read_text(encoding="utf-8").rstrip().endswith("</html>")
    left = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert left  # the killed runs still say "started" ...
    result = refresh(defs, instance, progress=lambda message: None)
    assert result.success, result.failure.message
    for run in left:  # ... until the next refresh marks them failed
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    assert not [p for p in refreshed.warehouse.rglob(".*") if p.is_file()]  # leftovers removed
    assert not [p for p in refreshed.reports.iterdir() if p.name.startswith(".")]
    ours, clean = warehouse_tables(refreshed.root), warehouse_tables(sample_refresh.root)
    assert ours.keys() == clean.keys()
    for name in clean:
        pd.testing.assert_frame_equal(ours[name], clean[name], obj=name)

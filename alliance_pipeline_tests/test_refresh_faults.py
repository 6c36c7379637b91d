"""Faults around the data (issue: faults survived): storage that refuses a write (a full disk and a read-only
folder, on real tmpfs mounts), a folder where a file goes, a killed writer's leftovers, a killed refresh's runs,
two refreshes at once, a server that stalls or drips, hostile text, paths that are not export files, and
degenerate but valid data. Each is bounded in time."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from alliance_pipeline.atomic import StorageError, atomic_path, remove_leftovers
from alliance_pipeline.edsight.sources import HttpExports, LocalExports, SourceTimeout
from alliance_pipeline_tests.helpers import quiet_instance, run_cli, snapshot


@contextmanager
def tmpfs(path: Path, size: str, read_only: bool = False):
    """A real tmpfs of ``size`` at ``path`` (root can mount; the CI machine runs as root)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True, timeout=30)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, timeout=30)


def _remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, timeout=30)


def test_a_full_disk_names_the_folder_and_keeps_the_old_file(tmp_path):
    with tmpfs(tmp_path / "small", "64k") as root:
        target = root / "warehouse" / "table.parquet"
        target.parent.mkdir()
        target.write_bytes(b"old")
        with pytest.raises(StorageError) as error:
            with atomic_path(target) as tmp:
                tmp.write_bytes(b"x" * (1 << 20))
        assert "no space left on the device holding" in str(error.value) and str(target.parent) in str(error.value)
        assert target.read_bytes() == b"old"
        assert [p.name for p in target.parent.iterdir()] == ["table.parquet"]  # no temporary left


def test_a_read_only_folder_is_named(tmp_path):
    with tmpfs(tmp_path / "ro", "1m") as root:
        (root / "warehouse").mkdir()
        _remount_read_only(root)
        with pytest.raises(StorageError) as error:
            with atomic_path(root / "warehouse" / "table.parquet") as tmp:
                tmp.write_bytes(b"new")
        assert "is read-only" in str(error.value) and str(root / "warehouse") in str(error.value)


def test_a_folder_where_the_file_goes_is_named(tmp_path):
    target = tmp_path / "table.parquet"
    target.mkdir()
    with pytest.raises(StorageError) as error:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"new")
    assert f"{target} is a folder" in str(error.value)


def test_files_are_written_as_the_umask_says(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "table.parquet") as tmp:
            tmp.write_bytes(b"new")
    finally:
        os.umask(old)
    assert (tmp_path / "table.parquet").stat().st_mode & 0o777 == 0o644  # readable by the webserver's user


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait(timeout=30)
    return process.pid


def test_a_killed_writers_leftovers_are_removed_by_the_next_write(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / f".table.parquet.{dead}-abc.tmp"
    live = tmp_path / f".table.parquet.{alive}-def.tmp"
    stale.write_bytes(b"half")
    live.write_bytes(b"being written")
    with atomic_path(tmp_path / "table.parquet") as tmp:
        tmp.write_bytes(b"new")
    assert not stale.exists() and live.exists()
    folder = tmp_path / f".20261201T000000Z_abcdefgh.{dead}-xyz.tmp"  # a report's staging folder
    folder.mkdir()
    (folder / "appendix-b.html").write_text("half")
    assert remove_leftovers(tmp_path) == [folder] and not folder.exists()


def test_a_killed_refreshs_run_is_marked_failed_by_the_next_one(tmp_path):
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    from alliance_pipeline.defs.operations.constants import TRIGGER_TAG
    from alliance_pipeline.refresh import HOST_TAG, PID_TAG, mark_dead_runs

    with quiet_instance(tmp_path) as instance:
        tags = {TRIGGER_TAG: "refresh", HOST_TAG: socket.gethostname()}
        dead = DagsterRun(job_name="single_year_enrollment", run_id="a" * 36, status=DagsterRunStatus.STARTED,
                          tags={**tags, PID_TAG: str(_dead_pid())})
        running = DagsterRun(job_name="single_year_enrollment", run_id="b" * 36, status=DagsterRunStatus.STARTED,
                             tags={**tags, PID_TAG: str(os.getpid())})
        instance.add_run(dead)
        instance.add_run(running)
        assert mark_dead_runs(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(running.run_id).status == DagsterRunStatus.STARTED


def test_a_second_refresh_waits_for_the_first(tmp_path):
    from alliance_pipeline.refresh import refresh_lock

    said, order = [], []
    with quiet_instance(tmp_path) as instance:
        def second():
            with refresh_lock(instance, said.append):
                order.append("second")

        with refresh_lock(instance, said.append):
            thread = threading.Thread(target=second)
            thread.start()
            time.sleep(0.5)
            order.append("first")
        thread.join(timeout=30)
    assert order == ["first", "second"]
    assert said and "another refresh is running" in said[0]


class _Stalling(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/"):
            body = b'<a href="enrollment__2015-16_all-students.csv">x</a>'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.server.mode == "silent":
            time.sleep(5)  # accepts, sends nothing
            return
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        for _ in range(40):  # drips: a byte every 0.1 s, never the whole body
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.1)


@pytest.fixture
def stalling_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stalling)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode", ["silent", "drip"])
def test_a_stalled_server_fails_in_bounded_time_with_no_partial_download(tmp_path, stalling_server, mode):
    stalling_server.mode = mode
    url = f"http://127.0.0.1:{stalling_server.server_address[1]}/"
    source = HttpExports(url, tmp_path / "downloads", timeout=1.0, retries=2, budget=1.5)
    started = time.monotonic()
    with pytest.raises(SourceTimeout) as error:
        source.fetch("enrollment", "2015-16")
    assert time.monotonic() - started < 4.5  # not retried: connect + read timeout, or the download budget
    assert url in str(error.value) and ("timed out" in str(error.value) or "too slow" in str(error.value))
    assert not [path for path in (tmp_path / "downloads").rglob("*") if path.is_file()]  # no partial, no cache


def test_entries_that_are_not_export_files_are_named_and_withdraw_nothing(tmp_path, sample_copy):
    from alliance_pipeline.defs.common.partitions import apply_year_changes, year_changes

    folder = sample_copy / "enrollment-district"
    source = LocalExports(sample_copy)
    (tmp_path / "home").mkdir()
    with quiet_instance(tmp_path / "home") as instance:
        apply_year_changes(instance, year_changes(instance, source, ["enrollment"]))
        before = instance.get_dynamic_partitions("enrollment_years")
        good = folder / "enrollment__2015-16_all-students.csv"
        good.rename(folder / "enrollment__2015-16_all-students.csv ")  # a trailing space
        (folder / "enrollment__2016-17_all-students.csv").unlink()
        (folder / "enrollment__2016-17_all-students.csv").mkdir()  # a folder named like the export
        changes = year_changes(instance, source, ["enrollment"])
        apply_year_changes(instance, changes)
        assert sorted(instance.get_dynamic_partitions("enrollment_years")) == sorted(before)  # nothing withdrawn
        said = "\n".join(changes.messages())
        assert "spaces before or after its name" in said and "'enrollment__2015-16_all-students.csv'" in said
        assert "is a folder, not an export file" in said


def test_hostile_text_is_inert_in_csv_escaped_in_markdown_and_plain_in_charts():
    from alliance_pipeline.reporting.charts import bar_chart_svg
    from alliance_pipeline.reporting.render import inert, md_escape

    assert inert("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert inert("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert inert("@SUM(A1)") == "'@SUM(A1)" and inert("-1+1") == "'-1+1"
    assert inert("-12.5") == "-12.5" and inert(-12.5) == -12.5 and inert("Hartford") == "Hartford"
    assert md_escape("<script>alert(1)</script> & co") == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    svg = bar_chart_svg(["$x^2$ District", "Plain"], [1.0, 2.0], [True, False], "points $1", "Costs $5 and $6")
    assert "$x^2$" in svg and "$5" in svg  # shown as written, never read as math


def test_no_spread_gives_no_margin_in_standard_deviations():
    from alliance_pipeline.methods.robustness import spread

    assert np.isnan(spread(np.array([2.0, 2.0, 2.0 + 1e-13]))[0])
    assert "same value" in spread(np.array([2.0, 2.0]))[1]
    assert "needs two" in spread(np.array([2.0]))[1]
    assert spread(np.array([1.0, 3.0])) == (pytest.approx(2 ** 0.5), None)


def test_a_refresh_on_a_full_or_read_only_warehouse_says_so_and_recovers(tmp_path, sample_copy):
    """The refresh's message is the cause (folder, what to do), not Dagster's outer "Error occurred while handling
    output"; after space is freed the same run succeeds with no cleanup."""
    from alliance_pipeline.refresh import refresh
    from alliance_pipeline_tests.helpers import pipeline_defs

    (tmp_path / "home").mkdir()
    with tmpfs(tmp_path / "disk", "96k") as root, \
            quiet_instance(tmp_path / "home", set_dagster_home=False) as instance:
        defs = pipeline_defs(root, sample_copy)
        full = refresh(defs, instance, progress=lambda message: None)
        assert not full.success
        assert "no space left on the device holding" in full.failure.message and str(root) in full.failure.message
        assert "Error occurred while handling output" not in full.failure.message.split(" (while: ")[0]
        _remount_read_only(root)
        read_only = refresh(defs, instance, progress=lambda message: None)
        assert not read_only.success and "is read-only" in read_only.failure.message
        subprocess.run(["mount", "-o", "remount,rw,size=64m", str(root)], check=True, timeout=30)
        job_name, year = full.failure.label.split(" (")[0], full.failure.label.split(" (")[1].rstrip(")")
        again = defs.resolve_job_def(job_name).execute_in_process(instance=instance, partition_key=year,
                                                                 raise_on_error=False)
        assert again.success


def test_a_cohort_smaller_than_the_top_n_is_all_identified_with_no_cut_off_margin():
    import pandas as pd

    from alliance_pipeline.methods import identified_districts as section_5
    from alliance_pipeline.methods.robustness import Analysis, indicator_margins
    from alliance_pipeline.methods.yearly import YearIndicators

    changes = pd.DataFrame({"district_code": ["0010011", "0020011"], "district_name": ["A", "B"],
                            "subject": ["Math", "Math"], "change": [4.0, 1.0], "excluded": [False, False],
                            "rank_cohort": pd.array([1, 2], dtype="Int64"), "in_cohort": [True, True]})
    selections, identified, missing = section_5.select_and_identify({"sbac_score_changes": changes}, {}, 3)
    assert sorted(identified["district_code"]) == ["0010011", "0020011"]
    margins = indicator_margins(YearIndicators("2015-16", {"sbac_score_changes": changes}, {}), 3,
                                Analysis("study", "2014-15", "2015-16", "2015-16", "2015-16", True))
    assert margins["selected"].all() and margins["cutoff_value"].isna().all()  # no district left out: no cut-off
    assert margins["margin"].isna().all()


def test_a_refresh_waits_for_the_uis_runs_then_refuses_with_what_runs(tmp_path, env):
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    from alliance_pipeline.refresh import refresh

    said = []
    with quiet_instance(tmp_path) as instance:
        backfill = DagsterRun(job_name="single_year_sbac_district", run_id="c" * 36, status=DagsterRunStatus.STARTED,
                              tags={"dagster/backfill": "abcd"})
        instance.add_run(backfill)
        result = refresh(env.defs, instance, progress=said.append, wait_seconds=1.0)
        assert not result.success and not result.runs
        assert "refresh not started" in result.refused and "single_year_sbac_district (cccccccc)" in result.refused
        assert any("waiting for 1 run(s) launched from the UI" in line for line in said)
        assert not instance.get_dynamic_partitions("sbac_district_years")  # nothing was changed


def test_a_full_temporary_folder_is_named_and_the_last_report_stays(tmp_path):
    """TMPDIR on a tmpfs with almost no room (Python still accepts it as the temporary folder): the report's
    workbook writer stages its sheets there, so the report step fails naming that folder, and the report published
    before stays the latest."""
    import shutil

    from alliance_pipeline_tests.helpers import SHARED_EDSIGHT

    source = tmp_path / "edsight" / "sbac-district"
    source.mkdir(parents=True)
    name = "smarter-balanced__2015-16_ela-and-math_all-students_all-grades.csv"
    shutil.copyfile(SHARED_EDSIGHT / "sbac-district" / name, source / name)
    first = run_cli(["refresh", "--source", str(tmp_path / "edsight")], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    reports = tmp_path / "reports"
    before = snapshot(reports)
    with tmpfs(tmp_path / "small-tmp", "256k") as temp:
        (temp / "filler").write_bytes(b"\0" * (248 * 1024))
        done = run_cli(["refresh", "--source", str(tmp_path / "edsight")], tmp_path, TMPDIR=str(temp))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (f"the temporary folder {temp} (TMPDIR: the workbook writer stages each sheet there) refused the "
            "report's files (No space left on device)") in done.stderr
    assert snapshot(reports) == before  # the earlier report is still the latest, whole

"""The Dagster instance itself in trouble, as an operator's machine meets it (issue 37, item 1): `alliance-pipeline
refresh` in a fresh process against a DAGSTER_HOME whose database another process holds locked, whose run history
is damaged, whose dagster.yaml is not YAML, or that sits on a read-only mount. Each ends in one line naming the file
or folder and what to do (a lock is waited for, within a bound, saying so), and nothing is changed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from alliance_pipeline import paths
from alliance_pipeline_tests.helpers import SHARED_EDSIGHT, run_cli, snapshot

ENROLLMENT = "enrollment-district/enrollment__2015-16_all-students.csv"


@pytest.fixture
def home_with_history(tmp_path: Path) -> Path:
    """A DAGSTER_HOME with the project's configuration and its SQLite run history created, and one real export."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(paths.PROJECT_ROOT / "deploy" / "dagster-local.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs()
    (tmp_path / "edsight" / "enrollment-district").mkdir(parents=True)
    shutil.copyfile(SHARED_EDSIGHT / ENROLLMENT, tmp_path / "edsight" / ENROLLMENT)
    assert (home / "history" / "runs.db").is_file()
    return home


def _hold_lock(database: Path, seconds: float) -> subprocess.Popen:
    """A second process holding an exclusive SQLite lock on ``database`` for ``seconds``."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\n"
        f"time.sleep({seconds})\n")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def _files(home: Path) -> dict[str, str]:
    """Every file of the home by SHA-256, but SQLite's own journal files (-wal, -shm), which a reader opens."""
    return {path: sha for path, sha in snapshot(home).items() if not path.endswith(("-wal", "-shm"))}


def _one_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_locked_run_history_is_waited_for_then_refused_in_one_line(tmp_path, home_with_history):
    database = home_with_history / "history" / "runs.db"
    before = _files(home_with_history)
    holder = _hold_lock(database, 60)
    try:
        done = run_cli(["refresh", "--source", str(tmp_path / "edsight"), "--lock-wait", "3"], tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2
    assert f"{database} is locked by another process; waiting up to 3s for it" in done.stdout
    line = _one_line(done)
    assert f"{database} (the Dagster instance's run history) is still locked by another process after 3s" in line
    assert line.endswith("nothing was changed") and _files(home_with_history) == before
    assert not (tmp_path / "warehouse").exists()


def test_a_lock_released_while_waiting_lets_the_refresh_run(tmp_path, home_with_history):
    database = home_with_history / "history" / "runs.db"
    holder = _hold_lock(database, 4)
    started = time.monotonic()
    done = run_cli(["refresh", "--source", str(tmp_path / "edsight"), "--lock-wait", "60"], tmp_path)
    holder.wait()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is locked by another process; waiting up to 60s for it" in done.stdout and "Done:" in done.stdout
    assert time.monotonic() - started >= 3
    assert (tmp_path / "warehouse" / "raw_enrollment" / "2015-16.parquet").is_file()


def test_a_damaged_run_history_is_named_with_what_to_do(tmp_path, home_with_history):
    database = home_with_history / "history" / "runs.db"
    database.write_bytes(b"this is not an SQLite database, it was overwritten\n" * 20)
    before = _files(home_with_history)
    done = run_cli(["refresh", "--source", str(tmp_path / "edsight")], tmp_path)
    assert done.returncode == 2
    line = _one_line(done)
    assert f"{database} is not an SQLite database (damaged): move it aside (mv {database} {database}.damaged)" in line
    assert _files(home_with_history) == before and not (tmp_path / "warehouse").exists()


def test_a_dagster_yaml_with_a_syntax_error_names_its_line_and_column(tmp_path, home_with_history):
    config = home_with_history / "dagster.yaml"
    config.write_text("concurrency:\n  runs:\n    max_concurrent_runs: [2\n", encoding="utf-8")
    before = _files(home_with_history)
    done = run_cli(["refresh", "--source", str(tmp_path / "edsight")], tmp_path)
    assert done.returncode == 2
    line = _one_line(done)
    assert f"{config} is not valid YAML, line 4, column 1:" in line and "deploy/dagster-local.yaml" in line
    assert _files(home_with_history) == before


def test_a_read_only_dagster_home_is_named(tmp_path, home_with_history):
    """DAGSTER_HOME on a read-only bind mount (a real mount: root in CI)."""
    mounted = tmp_path / "read-only-home"
    mounted.mkdir()
    subprocess.run(["mount", "--bind", str(home_with_history), str(mounted)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mounted)], check=True)
        done = run_cli(["refresh", "--source", str(tmp_path / "edsight")], tmp_path, DAGSTER_HOME=str(mounted))
    finally:
        subprocess.run(["umount", str(mounted)], check=True)
    assert done.returncode == 2
    line = _one_line(done)
    assert f"DAGSTER_HOME {mounted} is not writable by this process" in line and line.endswith("nothing was changed")

"""The production topology end to end: ``scripts/deploy-local`` starts PostgreSQL, Redis, the code location's gRPC
server, the webserver, the daemon with its run queue and two Celery workers (dagster-celery); a full refresh of real
exports (two families, two school years each: every kind of run a refresh launches, at a fraction of the real folder's
cost) goes through the webserver's GraphQL API and the queue, its steps run on the workers, its outputs equal an
in-process refresh of the same folder, and a worker killed in the middle of a step fails the run cleanly, the next run
recovering.

Needs Debian's postgresql and redis-server (./scripts/test installs them). Every process the topology started is
stopped at the end (``deploy-local stop``, bounded in time) and checked gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from alliance_pipeline import paths
from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.refresh import failure_message
from alliance_pipeline_tests.helpers import TRIMMED, refresh_of, trimmed_exports, warehouse_tables

pytestmark = [pytest.mark.scale_out, pytest.mark.postgres]

BIN = Path(sys.executable).parent
SCRIPT = paths.PROJECT_ROOT / "scripts" / "deploy-local"
SERVICES = ("grpc", "daemon", "webserver", "worker1", "worker2", "redis")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _deploy(command: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run([str(SCRIPT), command], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=paths.PROJECT_ROOT)
    assert done.returncode == 0, f"deploy-local {command}:\n{done.stdout}\n{done.stderr}"
    return done


def _pid_alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class Topology:
    def __init__(self, state: Path, root: Path, env: dict):
        self.state, self.root, self.env = state, root, env
        self.url = env["ALLIANCE_WEBSERVER_URL"]

    def pid(self, service: str) -> int:
        return int((self.state / "run" / f"{service}.pid").read_text())

    def instance(self) -> dg.DagsterInstance:
        with pytest.MonkeyPatch.context() as patch:
            for key in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
                patch.setenv(key, self.env[key])
            return dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"])

    def graphql(self):
        from dagster_graphql import DagsterGraphQLClient
        return DagsterGraphQLClient(self.url.removeprefix("http://"))


@pytest.fixture(scope="module")
def trimmed(tmp_path_factory, shared_edsight) -> Path:
    return trimmed_exports(tmp_path_factory.mktemp("trimmed") / "edsight")


@pytest.fixture(scope="module")
def trimmed_refresh(tmp_path_factory, trimmed):
    """The same exports refreshed in process: what the deployment's refresh must equal."""
    yield from refresh_of(tmp_path_factory, trimmed, "trimmed-refresh")


@pytest.fixture(scope="module")
def topology(trimmed):
    # The postgres user (as root) must reach the state folder: not under pytest's private tmp.
    base = Path(tempfile.mkdtemp(prefix="alliance-deploy-"))
    base.chmod(0o755)
    state, root = base / "state", base / "out"
    exports = base / "edsight"
    exports.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLIANCE_", "DAGSTER_"))}
    env.update(ALLIANCE_DEPLOY_DIR=str(state), ALLIANCE_BIN=str(BIN), ALLIANCE_EDSIGHT_DIR=str(exports),
               ALLIANCE_WAREHOUSE_DIR=str(root / "warehouse"), ALLIANCE_REPORTS_DIR=str(root / "reports"),
               ALLIANCE_PG_PORT=str(_free_port()), ALLIANCE_REDIS_PORT=str(_free_port()),
               ALLIANCE_GRPC_PORT=str(_free_port()), ALLIANCE_WEB_PORT=str(_free_port()), ALLIANCE_WORKERS="2")
    pids = []
    try:
        _deploy("start", env, timeout=600)
        lines = _deploy("env", env, timeout=60).stdout
        for line in lines.splitlines():
            key, value = line.removeprefix("export ").split("=", 1)
            env[key] = value.strip("'")
        env["DAGSTER_PG_PASSWORD"] = ""
        topology = Topology(state, root, env)
        pids = [topology.pid(name) for name in SERVICES]
        yield topology, exports, trimmed
    finally:
        stopped = _deploy("stop", env, timeout=180).stderr
        print(stopped)
        left = [pid for pid in pids if _pid_alive(pid)]
        shutil.rmtree(base, ignore_errors=True)
        assert not left, f"still running after deploy-local stop: {left}"
        assert "killed" not in stopped  # each service stopped when asked


def _workers_by_run(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """step key -> the Celery worker that executed it, from the run's event log."""
    steps = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        metadata = record.dagster_event.engine_event_data.metadata or {}
        if "Celery worker" in metadata:
            steps[record.step_key] = metadata["Celery worker"].value
    return steps


def _wait_run(instance: dg.DagsterInstance, run_id: str, timeout: float = 900.0) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return run
        time.sleep(1.0)
    raise AssertionError(f"run {run_id} did not finish in {timeout:.0f}s")


def _settled(instance: dg.DagsterInstance, timeout: float = 900.0):
    """Until no run is queued or running (the sensors' runs included)."""
    deadline = time.monotonic() + timeout
    active = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED]
    while instance.get_runs(filters=dg.RunsFilter(statuses=active)):
        assert time.monotonic() < deadline, "runs still active"
        time.sleep(2.0)


def _comparable(root: Path) -> dict[str, pd.DataFrame]:
    """Every Parquet table, without the moments each export version was first seen and last loaded (the clock's)."""
    return {name: frame.drop(columns=[c for c in ("first_seen", "last_outcome_at") if c in frame.columns])
            for name, frame in warehouse_tables(root).items()}


def test_a_refresh_through_the_queue_runs_its_steps_on_the_workers_and_survives_a_killed_one(topology, trimmed_refresh):
    top, exports, real = topology
    # The exports arrive, and the operator refreshes through the deployment (the CLI submits each run to the
    # webserver, whose queue and daemon launch it; the steps go to the workers).
    shutil.copytree(real, exports, dirs_exist_ok=True)
    done = subprocess.run([str(BIN / "alliance-pipeline"), "refresh", "--webserver", top.url], env=top.env,
                          capture_output=True, text=True, timeout=2400, cwd=paths.PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"submitted to {top.url}" in done.stdout and "PostgresRunStorage" in done.stdout
    with top.instance() as instance:
        _settled(instance)  # what the sensors launched on their own as well
        runs = instance.get_runs()
        assert runs and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs), \
            [(run.job_name, run.status.value) for run in runs if run.status != dg.DagsterRunStatus.SUCCESS]
        refreshed = [run for run in runs if run.tags.get("alliance_pipeline/trigger") == "refresh"]
        # through a webserver, a run per family and school year, then the cross-year tables (and the plan years,
        # unless the deployment's coded_plan_sheets_sensor loaded them first)
        assert len(refreshed) == int(done.stdout.split("Done: ")[1].split()[0]) >= sum(map(len, TRIMMED.values())) + 1
        workers = {run.run_id: _workers_by_run(instance, run.run_id) for run in refreshed}
        assert all(workers[run.run_id] for run in refreshed)  # every step of every run on a worker ...
        most = max(len(set(steps.values())) for steps in workers.values())
        seen = sorted({worker for steps in workers.values() for worker in steps.values()})
        print(f"steps on {most} workers (in one run; {', '.join(seen)} over the refresh)")
        assert most >= 2  # ... and one run's steps spread over both
        assert "alliance_cpu" in instance.event_log_storage.get_concurrency_keys()  # the pool still applied

    # The same outputs as an in-process refresh of the same exports.
    ours, clean = _comparable(top.root), _comparable(trimmed_refresh.root)
    assert ours.keys() == clean.keys()
    for name in clean:
        pd.testing.assert_frame_equal(ours[name], clean[name], obj=name)

    # A worker killed in the middle of a step: the run fails cleanly, nothing half-written, the next run recovers.
    client = top.graphql()
    with top.instance() as instance:
        # report_only: one step, the report (the longest: it draws the charts), reading the stored Parquet
        run_id = client.submit_job_execution("report_only", tags={"alliance_pipeline/trigger": "test"})
        deadline = time.monotonic() + 600
        step = "appendix_b_report"
        while step not in (steps := _workers_by_run(instance, run_id)):
            assert time.monotonic() < deadline and not instance.get_run_by_id(run_id).is_finished, \
                f"{step} never reached a worker"
            time.sleep(0.2)
        hostname = steps[step]
        master = _children(top.pid(hostname.split("@")[0]))  # dagster-celery -> celery's main process
        pool = [child for pid in master for child in _children(pid)]
        assert pool, f"no pool process under {hostname}"
        for pid in pool:
            os.kill(pid, signal.SIGKILL)
        run = _wait_run(instance, run_id)
        assert run.status == dg.DagsterRunStatus.FAILURE, run.status  # failed, and says where and why:
        said = failure_message([record.dagster_event for record in instance.all_logs(run_id) if record.dagster_event])
        assert f"[{step}]" in said and "WorkerLostError" in said, said
        print(f"killed {hostname}'s pool process during {step}: {said}")
        latest = top.root / "reports" / "latest" / "appendix-b.html"  # the published report is the earlier one, whole
        assert latest.read_text(encoding="utf-8").rstrip().endswith("</html>")
        for path in (top.root / "warehouse").rglob("*.parquet"):  # every file a reader sees is whole
            read_parquet(path)
        again = _wait_run(instance, client.submit_job_execution("report_only"))
        assert again.status == dg.DagsterRunStatus.SUCCESS
    assert not [p for p in (top.root / "warehouse").rglob(".*") if p.is_file()]  # no leftovers
    ours = _comparable(top.root)
    for name in clean:
        pd.testing.assert_frame_equal(ours[name], clean[name], obj=name)

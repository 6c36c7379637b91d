"""Materialize every asset for every available school year, with the jobs the UI shows.

Used by ``alliance-pipeline refresh`` and by the tests. It launches the code location's own jobs on the given
instance: ``single_year_<family>`` once per registered school year (the run is named, partitioned and tagged as
when the UI, a schedule or a sensor launches it: ``alliance_pipeline/family``, ``alliance_pipeline/school_year``),
then ``cross_year_tables`` once. The first failed run stops the refresh, and its message (the failing check,
file, column and rows) is returned. What to run is the planner's (``defs/operations/planner.py``:
``refresh_requests``), the one the sensors and schedules plan with; this module only launches it.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import dagster as dg

from alliance_pipeline.atomic import writer_alive
from alliance_pipeline.defs.common.resources import EdSightSource, resolved
from alliance_pipeline.defs.operations import consistency, planner
from alliance_pipeline.defs.operations.constants import CROSS_YEAR_JOB, TRIGGER_TAG, YEAR_JOBS
from alliance_pipeline.edsight.families import FAMILIES


@dataclass
class RunOutcome:
    label: str
    success: bool
    seconds: float
    run_id: str
    message: str = ""
    superseded: bool = False  # a range of years that failed, then loaded year by year (each year its own outcome)


@dataclass
class RefreshResult:
    runs: list[RunOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # files not registered, years removed
    refused: str | None = None  # why the refresh did not start (other runs still active)

    @property
    def success(self) -> bool:
        return self.refused is None and all(run.success or run.superseded for run in self.runs)

    @property
    def failure(self) -> RunOutcome | None:
        return next((run for run in self.runs if not (run.success or run.superseded)), None)


def error_chain(error) -> list[tuple[str, str]]:
    """A Dagster error and its causes, outermost first, as (class name, first line of the message), each once."""
    chain: list[tuple[str, str]] = []
    seen = set()
    while error is not None:
        lines = [line.strip() for line in (error.message or "").strip().splitlines() if line.strip()]
        # a first line that announces a list ("... errors occurred in workers:") is said with its first item
        text = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else lines[0] if lines else ""
        if text and text not in seen:
            seen.add(text)
            chain.append((error.cls_name or "", text))
        error = error.cause or error.context
    return chain


def explained(error) -> str:
    """The error as one line: the first cause that is not Dagster's own wrapper (the StorageError naming the folder,
    ``[Errno 28] No space left on device``, a resource's own message), then the outer message it came through."""
    chain = error_chain(error)
    if not chain:
        return ""
    own = [text for cls, text in chain if not cls.startswith("Dagster")]
    if not own or own[0] == chain[0][1]:
        return chain[0][1]
    return f"{own[0]} (while: {chain[0][1]})"


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    return failure_message(result.all_events)


def failure_message(events: list[dg.DagsterEvent]) -> str:
    """What failed in a run, from its events: each failed step's own message, else a failed check's description,
    else the run's error."""
    messages = []
    for event in events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            user = event.step_failure_data.user_failure_data
            text = (user.description if user and user.description else None) or (explained(error) if error else "")
            text = text.strip()
            messages.append(text if text.startswith(event.step_key) else f"{event.step_key}: {text}")
    if not messages:  # a failed check without a step failure: its description names file, column and rows
        for event in events:
            evaluation = event.event_specific_data if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION else None
            if (evaluation is not None and not evaluation.passed and evaluation.description
                    and evaluation.severity == dg.AssetCheckSeverity.ERROR):  # a warning did not fail the run
                messages.append(evaluation.description)
                break
    if not messages:  # a failure before any step (a resource that could not start): the run's own error
        for event in events:
            if event.event_type in (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.ENGINE_EVENT):
                error = getattr(event.event_specific_data, "error", None)
                if error is not None:
                    messages.append(explained(error))
    return "\n".join(dict.fromkeys(messages)) or "run failed"


PID_TAG = "alliance_pipeline/pid"
HOST_TAG = "alliance_pipeline/host"
LOCK_NAME = ".alliance-refresh.lock"
UNFINISHED = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED)


def mark_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs a refresh on this machine launched whose process is gone (killed) but that the instance still calls
    started: marked failed with the reason, so no sensor and no report waits on them. (A deployment's daemon does
    the same for the runs it launched: run monitoring, deploy/dagster-local.yaml.) Returns the run ids."""
    host = socket.gethostname()
    marked = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(UNFINISHED), tags={TRIGGER_TAG: "refresh"})):
        pid, run_host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if not pid or run_host != host or writer_alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"the process that ran it (alliance-pipeline refresh, pid {pid} on "
                                   f"{host}) ended without finishing it (killed?); marked failed by the next refresh")
        marked.append(run.run_id)
    return marked


@contextmanager
def refresh_lock(instance: dg.DagsterInstance, progress: Callable[[str], None]):
    """One refresh at a time per Dagster instance: a second one waits for the first (saying so) instead of racing
    it for the instance's database and the warehouse."""
    path = Path(instance.root_directory) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"  another refresh is running on this Dagster instance ({instance.root_directory}); waiting "
                     "for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def others_running(instance: dg.DagsterInstance) -> list[str]:
    """Runs queued or running that no refresh launched (the UI's backfill, a sensor's run), as "job (run id)"."""
    return consistency.active_runs(instance, unless_tag=(TRIGGER_TAG, "refresh"))


def wait_for_others(instance: dg.DagsterInstance, progress: Callable[[str], None], wait_seconds: float) -> list[str]:
    """Wait (at most ``wait_seconds``) until no run launched by the UI or a sensor is queued or running on the
    instance; returns what still runs (empty: go ahead)."""
    deadline = time.monotonic() + wait_seconds
    running = others_running(instance)
    if running:
        progress(f"  waiting for {len(running)} run(s) launched from the UI or by a sensor to finish: "
                 f"{', '.join(running[:5])}")
    while running and time.monotonic() < deadline:
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
        running = others_running(instance)
    return running


class InProcess:
    """Each run executed here, in this process, on the given instance (the default), one after another; a family's
    years in one run (a partition range), loaded again year by year when that run fails."""

    ranged = True

    def tags(self) -> dict[str, str]:  # which process runs it: a killed refresh's runs are marked failed by the next
        return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}

    def run_all(self, defs: dg.Definitions, instance: dg.DagsterInstance, batch: list[dg.RunRequest],
                log_level: str, announce: Callable[[int, str], None]):
        """(index in ``batch``, success, run id, failure message) of each run in turn, stopping after the first
        failure."""
        for index, request in enumerate(batch):
            announce(index, "running here")
            run = defs.resolve_job_def(request.job_name).execute_in_process(
                partition_key=request.partition_key, instance=instance, raise_on_error=False,
                tags={**request.tags, **self.tags()},
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
            yield index, run.success, run.run_id, "" if run.success else _failure_message(run)
            if not run.success:
                return


@dataclass
class ThroughWebserver:
    """Each run submitted to a deployment's webserver (its GraphQL API, as the UI launches runs), queued by its
    run coordinator and launched by its daemon, with the deployment's executor (Celery workers, deploy/); waited
    for by polling its status. ``instance`` must be the deployment's (the same DAGSTER_HOME). The yearly runs are
    submitted together, the cross-year run once they have all succeeded (one run per year: the deployment's
    workers take them in parallel)."""

    ranged = False
    url: str
    poll_seconds: float = 1.0
    timeout_seconds: float = 3600.0

    def run_all(self, defs: dg.Definitions, instance: dg.DagsterInstance, batch: list[dg.RunRequest],
                log_level: str, announce: Callable[[int, str], None]):
        """Submit every run of ``batch`` at once (the queue runs them as its limits allow; a sensor seeing them queued
        launches none of its own), then (index in ``batch``, success, run id, failure message) of each as it
        finishes, in order."""
        from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

        client = DagsterGraphQLClient(self.url.split("://", 1)[-1].rstrip("/"),
                                      use_https=self.url.startswith("https://"))
        run_ids = []
        for index, request in enumerate(batch):
            year = request.partition_key
            try:
                run_ids.append(client.submit_job_execution(
                    request.job_name, tags={**request.tags, **({"dagster/partition": year} if year else {})}))
            except DagsterGraphQLClientError as exc:  # unreachable, or the deployment refused the run
                cause = str(exc.__cause__ or exc).strip().splitlines()[0][:300]  # not the query text it quotes
                yield index, False, "", (f"{self.url} did not take the {request.job_name} run ({year or 'all years'}): "
                                         f"{cause}")
                return
        for index, run_id in enumerate(run_ids):
            announce(index, f"queued as run {run_id[:8]}")
        deadline = time.monotonic() + self.timeout_seconds
        if run_ids and instance.get_run_by_id(run_ids[0]) is None:
            yield 0, False, run_ids[0], (f"{self.url} accepted run {run_ids[0]}, but the Dagster instance here "
                                      f"({instance.root_directory}) does not hold it: set DAGSTER_HOME (and its "
                                      "DAGSTER_PG_* variables) to the deployment's: eval \"$(scripts/deploy-local env)\"")
            return
        for index, run_id in enumerate(run_ids):
            while not ((run := instance.get_run_by_id(run_id)) and run.is_finished):
                if time.monotonic() > deadline:
                    yield index, False, run_id, (f"run {run_id} still {run.status.value if run else 'unknown'} after "
                                          f"{self.timeout_seconds:.0f}s")
                    return
                time.sleep(self.poll_seconds)
            if run.status == dg.DagsterRunStatus.SUCCESS:
                yield index, True, run_id, ""
            else:
                events = [record.dagster_event for record in instance.all_logs(run_id) if record.dagster_event is not None]
                yield index, False, run_id, failure_message(events)


def refresh(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    progress: Callable[[str], None] = print,
    log_level: str = "WARNING",
    wait_seconds: float = 1800.0,
    launcher: InProcess | ThroughWebserver | None = None,
) -> RefreshResult:
    """Register the source's school years, then launch every year job and the cross-year job (the planner's
    ``refresh_requests``); one refresh at a time per instance (``refresh_lock``), after marking the runs of a killed
    refresh failed, and only once the runs the UI or a sensor launched have finished (waiting at most
    ``wait_seconds``, then refusing)."""
    with refresh_lock(instance, progress):
        for run_id in mark_dead_runs(instance):
            progress(f"  run {run_id[:8]} of an earlier refresh was left started by a process that died: marked failed")
        still = wait_for_others(instance, progress, wait_seconds)
        if still:
            return RefreshResult(refused=f"refresh not started: {len(still)} run(s) launched from the UI or by a "
                                 f"sensor are still queued or running after {wait_seconds:.0f}s: {', '.join(still[:5])}. "
                                 "Nothing was changed; run it again once they finish (or cancel them in the UI)")
        return _refresh(defs, instance, progress, log_level, launcher or InProcess())


def _refresh(defs: dg.Definitions, instance: dg.DagsterInstance, progress: Callable[[str], None],
             log_level: str, launcher: InProcess | ThroughWebserver) -> RefreshResult:
    source: EdSightSource = resolved(defs.resources["edsight"])  # its dg.EnvVar fields read now, as a run would
    changes = planner.register_years(instance, source)
    for name, found in changes.found.items():
        progress(f"  {FAMILIES[name].asset_name}: {', '.join(found) if found else 'no exports found'}")
    plan_changes = planner.register_plan_years(instance, resolved(defs.resources["plans"]))
    progress(f"  raw_plan_codes: {', '.join(plan_changes.found) or 'no coding sheets found'}")
    notices = [*changes.messages(), *plan_changes.messages()]
    for message in notices:
        progress(f"  warning: {message}")
    jobs = {job.name for job in defs.jobs}
    requests, skipped = planner.refresh_requests(instance, jobs, ranged=launcher.ranged)
    if len(skipped) == len(jobs & set(YEAR_JOBS)):
        folders = ", ".join(dict.fromkeys(f"{family.folder}/" for family in FAMILIES.values()))
        return RefreshResult(notices=notices, skipped=skipped, refused=(
            f"refresh not started: {source.describe()} holds no EdSight export that could be read, so there is "
            f"nothing to compute. Put the exports in one sub-folder per family ({folders}) under EdSight's file "
            "names (README, Export families). Nothing was changed."))
    result = RefreshResult(notices=notices, skipped=skipped)
    yearly = [request for request in requests if request.job_name != CROSS_YEAR_JOB]
    # in process, each run on its own, so that a range that fails is loaded again year by year before going on
    batches = [[request] for request in yearly] if launcher.ranged else [yearly]
    batches.append([request for request in requests if request.job_name == CROSS_YEAR_JOB])
    counter = Counter(total=len(requests))
    for batch in batches:
        launch(defs, instance, launcher, batch, log_level, progress, counter, result)
        failed = [run for run in result.runs[-len(batch):] if not run.success]
        years = planner.request_years(batch[0])
        if failed and len(batch) == 1 and years and len(years) > 1:
            failed[0].superseded = True
            progress(f"      {failed[0].label}: loading each year on its own, so that only a refused year fails")
            counter.total += len(years)
            family = YEAR_JOBS[batch[0].job_name]
            launch(defs, instance, launcher, [planner.year_request(family, year, None, "refresh") for year in years],
                   log_level, progress, counter, result, stop_at_failure=False)
        if not result.success:
            break
    return result


@dataclass
class Counter:
    total: int
    done: int = 0


def launch(defs: dg.Definitions, instance: dg.DagsterInstance, launcher: InProcess | ThroughWebserver,
           batch: list[dg.RunRequest], log_level: str, progress: Callable[[str], None],
           counter: Counter, result: RefreshResult, stop_at_failure: bool = True) -> None:
    """Launch ``batch`` (the planner's requests), adding each outcome to ``result``; ``stop_at_failure=False``:
    every run of the batch, whatever one of them gives."""
    labels = [f"{request.job_name} ({_years_label(planner.request_years(request))})" for request in batch]
    first = counter.done

    def announce(index: int, how: str) -> None:
        progress(f"[{first + index + 1}/{counter.total}] {labels[index]}: {how} ...")

    pending = [batch] if stop_at_failure else [[request] for request in batch]
    offset = 0
    for part in pending:
        started = time.monotonic()
        for index, success, run_id, message in launcher.run_all(defs, instance, part, log_level,
                                                                 lambda i, how, o=offset: announce(o + i, how)):
            counter.done += 1
            label = labels[offset + index]
            outcome = RunOutcome(label=label, success=success, seconds=time.monotonic() - started, run_id=run_id,
                                 message=message)
            started = time.monotonic()
            result.runs.append(outcome)
            progress(f"      {label}: {'ok' if success else 'FAILED'} in {outcome.seconds:.1f}s (run {run_id[:8]})")
        offset += len(part)


def _years_label(years: list[str] | None) -> str:
    if not years:
        return "all years"
    return years[0] if len(years) == 1 else f"{years[0]} to {years[-1]}, {len(years)} years"

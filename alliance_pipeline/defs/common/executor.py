"""The code location's executor: in-process by default, Celery workers when a deployment says so.

Chosen by configuration, never by code: the run config's ``execution: config:`` block (``deploy/celery.yaml``), or,
for the runs schedules and sensors launch with no run config, the environment of the process that runs the run
(``deploy/celery.env``, which ``scripts/deploy-local`` hands to every service):

- ``ALLIANCE_EXECUTOR``: ``in_process`` (the default: every step in the run's own process, one after another) or
  ``celery`` (each step a task on the broker's ``dagster`` queue, run by whichever worker takes it);
- ``ALLIANCE_CELERY_BROKER``, ``ALLIANCE_CELERY_BACKEND``: the broker's and the result backend's URLs
  (e.g. ``redis://127.0.0.1:6379/0``).

The Celery executor is dagster-celery's own; before it submits anything it asks the broker which workers consume
the queue and fails the run at once, saying so, when none does (a task sent to a queue nobody reads waits forever).
The ``alliance_cpu`` pool still applies: dagster-celery claims each step's concurrency slot on the instance before
submitting it. ``execute_in_process`` (``alliance-pipeline refresh``, the tests) always runs in process.
"""

from __future__ import annotations

import time

import dagster as dg
from dagster._core.execution.retries import RetryMode, get_retries_config
from dagster._core.executor.in_process import InProcessExecutor

from alliance_pipeline.defs.common.configuration import ENVIRONMENT, environment_value

KINDS = ("in_process", "celery")
QUEUE = "dagster"  # dagster-celery's queue; the workers of deploy/ consume it
VARIABLES = ENVIRONMENT["executor"]  # the variables a deployment sets (deploy/celery.env)

CONFIG = {
    "kind": dg.Field(dg.Noneable(dg.StringSource), is_required=False,
                     description=f"in_process or celery (unset: ${VARIABLES['kind']}, else in_process)"),
    "broker": dg.Field(dg.Noneable(dg.StringSource), is_required=False,
                       description=f"Celery broker URL (unset: ${VARIABLES['broker']})"),
    "backend": dg.Field(dg.Noneable(dg.StringSource), is_required=False,
                        description=f"Celery result backend URL (unset: ${VARIABLES['backend']}, else the broker)"),
    "worker_wait_seconds": dg.Field(float, default_value=30.0, description="how long to wait for a worker to "
                                    "answer on the queue before failing the run"),
    "retries": get_retries_config(),
}


class ExecutorSettingError(Exception):
    """An executor setting that cannot work (unknown kind, no broker), named with where it came from."""


def setting(config: dict, name: str) -> str | None:
    """A setting from the run config, else from its environment variable."""
    return config.get(name) or environment_value("executor", name)


def kind_of(config: dict) -> str:
    kind = setting(config, "kind") or "in_process"
    if kind not in KINDS:
        raise ExecutorSettingError(f"executor kind {kind!r} (from {'the run config' if config.get('kind') else '$' + VARIABLES['kind']}) "
                                   f"is not one of {', '.join(KINDS)}")
    return kind


def _requirements(config: dict):
    return dg.multiple_process_executor_requirements() if kind_of(config) == "celery" else []


def consumers(app, queue: str, timeout: float) -> list[str]:
    """Hostnames of the workers that consume ``queue``, asked over the broker once a second until one answers or
    ``timeout`` passes (each ask collects the replies that come within the second)."""
    deadline = time.monotonic() + timeout
    while True:
        answers = app.control.inspect(timeout=1.0).active_queues() or {}
        found = sorted(host for host, queues in answers.items() if any(q.get("name") == queue for q in queues))
        if found or time.monotonic() >= deadline:
            return found


def _celery_executor(config: dict, retries: RetryMode):
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app

    broker = setting(config, "broker")
    if not broker:
        raise ExecutorSettingError(f"the celery executor needs a broker: set execution.config.broker or "
                                   f"${VARIABLES['broker']} (e.g. redis://127.0.0.1:6379/0)")
    wait = config["worker_wait_seconds"]

    class WorkersFirst(CeleryExecutor):
        """dagster-celery's executor, refusing to submit to a queue that no worker consumes."""

        def execute(self, plan_context, execution_plan):
            workers = consumers(make_app(self.app_args()), QUEUE, wait)
            if not workers:
                raise ExecutorSettingError(f"no Celery worker consumes the {QUEUE!r} queue on {broker} (asked for "
                                           f"{wait:.0f}s): start one (scripts/deploy-local, or dagster-celery worker "
                                           f"start -A dagster_celery.app -q {QUEUE}) and re-run")
            plan_context.log.info(f"Celery workers on the {QUEUE!r} queue: {', '.join(workers)}")
            yield from super().execute(plan_context, execution_plan)

    return WorkersFirst(retries=retries, broker=broker, backend=setting(config, "backend") or broker)


@dg.executor(name="alliance", config_schema=CONFIG, requirements=_requirements)
def alliance_executor(init_context: dg.InitExecutorContext):
    """In process (default) or on Celery workers, as ``execution: config: kind`` or ``$ALLIANCE_EXECUTOR`` says."""
    config = init_context.executor_config
    retries = RetryMode.from_config(config["retries"])
    if kind_of(config) == "celery":
        return _celery_executor(config, retries)
    return InProcessExecutor(retries=retries)

"""The executor is chosen by configuration: run config first, then the environment, else in process."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.executor.in_process import InProcessExecutor

from alliance_pipeline.definitions import defs
from alliance_pipeline.defs.common import executor
from alliance_pipeline_tests.helpers import quiet_instance


def _init(config: dict) -> dg.InitExecutorContext:
    """What Dagster hands the executor: ``config`` with the schema's defaults filled in."""
    processed = dg.validate_run_config(defs.resolve_job_def("cross_year_tables"), {"execution": {"config": config}})
    return dg.InitExecutorContext(job=dg.reconstructable(_job), executor_def=executor.alliance_executor,
                                  executor_config=processed["execution"]["alliance"], instance=dg.DagsterInstance.ephemeral())


def _job():  # a reconstructable target for the init context
    return defs.resolve_job_def("cross_year_tables")


def test_every_job_runs_on_the_configurable_executor():
    assert {defs.resolve_job_def(job.name).executor_def.name for job in defs.jobs} == {"alliance"}


def test_in_process_unless_configured(monkeypatch):
    monkeypatch.delenv("ALLIANCE_EXECUTOR", raising=False)
    assert executor.kind_of({}) == "in_process"
    assert executor._requirements({}) == []  # execute_in_process and ephemeral instances keep working
    assert isinstance(executor.alliance_executor.executor_creation_fn(_init({})), InProcessExecutor)


def test_celery_from_the_environment_or_the_run_config(monkeypatch):
    monkeypatch.setenv("ALLIANCE_EXECUTOR", "celery")
    monkeypatch.setenv("ALLIANCE_CELERY_BROKER", "redis://127.0.0.1:1/0")
    assert executor.kind_of({}) == "celery"
    assert executor._requirements({}) == dg.multiple_process_executor_requirements()
    made = executor.alliance_executor.executor_creation_fn(_init({}))
    assert made.broker == made.backend == "redis://127.0.0.1:1/0"  # the backend defaults to the broker
    monkeypatch.delenv("ALLIANCE_EXECUTOR")
    made = executor.alliance_executor.executor_creation_fn(
        _init({"kind": "celery", "broker": "redis://h:2/0", "backend": "redis://h:2/1"}))
    assert (made.broker, made.backend) == ("redis://h:2/0", "redis://h:2/1")  # the run config wins


def test_settings_that_cannot_work_are_named(monkeypatch):
    monkeypatch.setenv("ALLIANCE_EXECUTOR", "celry")
    with pytest.raises(executor.ExecutorSettingError, match=r"'celry' \(from \$ALLIANCE_EXECUTOR\) is not one of in_process, celery"):
        executor.kind_of({})
    monkeypatch.setenv("ALLIANCE_EXECUTOR", "celery")
    monkeypatch.delenv("ALLIANCE_CELERY_BROKER", raising=False)
    with pytest.raises(executor.ExecutorSettingError, match=r"needs a broker: set execution.config.broker or \$ALLIANCE_CELERY_BROKER"):
        executor.alliance_executor.executor_creation_fn(_init({}))


def test_a_refresh_through_an_unreachable_webserver_says_so_and_runs_nothing(tmp_path):
    from alliance_pipeline.refresh import ThroughWebserver

    with quiet_instance(tmp_path) as instance:
        outcomes = list(ThroughWebserver("http://127.0.0.1:9").run_all(
            defs, instance, [dg.RunRequest(job_name="cross_year_tables")], "CRITICAL", lambda index, how: None))
        assert len(outcomes) == 1 and outcomes[0][:2] == (0, False)  # the run it is about, and failed
        assert outcomes[0][3].startswith("http://127.0.0.1:9 did not take the cross_year_tables run (all years): ")
        assert "Connection refused" in outcomes[0][3] and "query" not in outcomes[0][3]
        assert not instance.get_runs()

"""How the code location's one Definitions object is built (``definitions.py`` holds it: ``defs = build_defs()``).

The assets, their checks and the alert sensor are loaded from every module of the ``defs`` package
(``pyproject.toml``'s ``defs_module``: one folder per asset group, ``defs/<group>/``), and the project-wide policies
are applied to them once: owners and tags (below), and, in ``defs/common/checks.py: table_asset``, the automation
policy, the concurrency pool and the export source's retries. The operations (``defs/operations/``: jobs, sensors, schedules)
are built for the loaded assets, with the intervals and cron the ``refresh_policy`` resource sets.

This is also the one place configuration comes from: every setting is a field of a resource, and the fields an
operator sets from the environment (``defs/common/configuration.py``) are read with ``dg.EnvVar`` (resolved when a
run or tick starts; the UI shows which variable). ``build_defs`` takes resources for a CLI run or a test, so nothing
sets environment variables. Importing this module builds nothing.
"""

from __future__ import annotations

import warnings

import dagster as dg

import alliance_pipeline.defs
from alliance_pipeline.defs.common.configuration import ENVIRONMENT, environment_value, read_at_load, variable
from alliance_pipeline.defs.common.executor import alliance_executor
from alliance_pipeline.defs.common.io_manager import ParquetIOManager
from alliance_pipeline.defs.common.resources import (
    CodeLocationGraph,
    EdSightSource,
    IdentificationSettings,
    MethodSettings,
    PlanSheets,
    RefreshPolicy,
    Storage,
)
from alliance_pipeline.defs.operations import schedules, sensors
from alliance_pipeline.defs.operations.alerts import AlertSettings
from alliance_pipeline.defs.operations.jobs import build_jobs

OWNERS = ["team:alliance-data"]
RESOURCE_TYPES = {"storage": Storage, "edsight": EdSightSource, "plans": PlanSheets, "alerts": AlertSettings, "refresh_policy": RefreshPolicy}


def from_environment(name: str, **values) -> dict:
    """Field values for resource ``name``: ``values`` where given (not None), else ``dg.EnvVar`` for each variable
    that is set, else nothing (the field's default). A field that is part of a definition (``AT_LOAD``: the annual
    cron, the sensors' intervals) is read now."""
    fields = RESOURCE_TYPES[name].model_fields
    config = {}
    for field in ENVIRONMENT[name]:
        number = fields[field].annotation in (int, "int")
        if values.get(field) is not None:
            config[field] = values[field]
        elif (value := environment_value(name, field)) is None:
            continue
        elif read_at_load(fields[field]):  # part of a definition: read when the code location loads
            config[field] = int(value) if number else value
        else:
            config[field] = dg.EnvVar.int(variable(name, field)) if number else dg.EnvVar(variable(name, field))
    return config


def build_resources(storage: Storage | None = None, edsight: EdSightSource | None = None,
                    plans: PlanSheets | None = None, **overrides) -> dict:
    """Every resource, from the environment where not given. ``edsight`` and the IO manager share ``storage``."""
    storage = storage or Storage(**from_environment("storage"))
    edsight = edsight or EdSightSource(storage=storage, **from_environment("edsight"))
    resources = {
        "storage": storage,
        "io_manager": ParquetIOManager(storage=storage),
        "edsight": edsight,
        "plans": plans or PlanSheets(edsight=edsight, **from_environment("plans")),
        "method": MethodSettings(),
        "identification_settings": IdentificationSettings(),
        "alerts": AlertSettings(**from_environment("alerts")),
        "refresh_policy": RefreshPolicy(**from_environment("refresh_policy")),
    }
    resources.update(overrides)
    return resources


def load_defs_package() -> dg.Definitions:
    """Every asset, check and sensor defined at the top of a module of the ``defs`` package (none listed by hand).

    Dagster's ``load_definitions_from_package_module``: it imports the package's modules and takes what they define.
    ``dg.load_from_defs_folder`` would take the same objects, but builds a component tree and scans every installed
    package's entry points first: 0.3 s more CPU in every process that loads the code location (each run, each
    tick's server), a third more than the rest of the load (benchmarks/bench_perf.py --part import)."""
    with warnings.catch_warnings():  # in preview in Dagster 1.13 (its module scan is load_assets_from_package_module's)
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return dg.load_definitions_from_package_module(alliance_pipeline.defs)


def with_policies(loaded: dg.Definitions) -> dg.Definitions:
    """Every asset with its owners and tags (the domain, the stage of the method it belongs to: its group); the
    checks and sensors loaded beside them kept as they are."""
    return dg.Definitions(assets=dg.map_asset_specs(
        lambda spec: spec.merge_attributes(owners=OWNERS, tags={"domain": "education", "stage": spec.group_name or ""}),
        list(loaded.assets),
    ), asset_checks=list(loaded.asset_checks or []), sensors=list(loaded.sensors or []))


def operations(assets, policy: RefreshPolicy) -> dg.Definitions:
    """The jobs, sensors and schedules for ``assets`` (intervals and cron from ``policy``)."""
    jobs = build_jobs(assets)
    years = list(jobs.years.values())
    return dg.Definitions(
        jobs=jobs.all(),
        schedules=[*(schedules.annual_schedule(name, job, policy.cron) for name, job in jobs.years.items()),
                   schedules.daily_freshness_check()],
        sensors=[
            sensors.school_year_partitions_sensor(max(5, policy.sensor_seconds // 2)),
            sensors.new_school_year_sensor(years, policy.sensor_seconds),
            sensors.republished_export_sensor(years, policy.republish_check_seconds),
            sensors.cross_year_tables_sensor(jobs.cross_year, policy.sensor_seconds),
            sensors.keep_tables_current(policy.sensor_seconds),
            sensors.coded_plan_sheets_sensor(jobs.plan_year, policy.sensor_seconds),
        ],
    )


# Each run executes its steps in its own process, one after another: a subprocess per step spent about 5 s importing
# pandas, Great Expectations and Dagster before doing a second of work. Parallelism comes from runs (the instance runs
# two at once, deploy/dagster-local.yaml): the machine has 2 cores. A deployment spreads steps over Celery workers
# by configuration alone (defs/common/executor.py; deploy/celery.env).
EXECUTOR = alliance_executor


def build_defs(**resources) -> dg.Definitions:
    """The code location's definitions with ``build_resources(**resources)``."""
    loaded = with_policies(load_defs_package())
    bound = build_resources(**resources)
    graph = CodeLocationGraph()  # the report's view of the whole graph: these Definitions, once built
    bound["asset_graph"] = graph.resource()
    return graph.bind(dg.Definitions.merge(
        loaded,
        operations(list(loaded.assets), bound["refresh_policy"]),
        dg.Definitions(resources=bound, executor=EXECUTOR),
    ))

"""The one Definitions object of the code location.

Each domain under ``defs/`` contributes its own ``definitions.py``; they are merged here, where the project-wide
policies are applied once: owners and tags (below), and, in ``defs/common/checks.py: table_asset``, the automation
policy, the concurrency pool and the export source's retries. The operations (jobs, schedules, sensors, freshness
checks) are built for the merged assets.

This is also the one place configuration comes from: every setting is a field of a resource, and the fields an
operator sets from the environment are read with ``dg.EnvVar`` (resolved when a run or tick starts; the UI shows
which variable). ``build_defs`` takes resources for a CLI run or a test, so nothing sets environment variables.
"""

from __future__ import annotations

import os

import dagster as dg

from alliance_pipeline.defs.beyond_study import definitions as beyond_study
from alliance_pipeline.defs.common.executor import alliance_executor
from alliance_pipeline.defs.common.io_manager import ParquetIOManager
from alliance_pipeline.defs.common.resources import (
    CodeLocationGraph, EdSightSource, IdentificationSettings, MethodSettings, PlanSheets, RefreshPolicy, Storage,
)
from alliance_pipeline.defs.identification import definitions as identification
from alliance_pipeline.defs.indicators import definitions as indicators
from alliance_pipeline.defs.ingest import definitions as ingest
from alliance_pipeline.defs.now import definitions as now
from alliance_pipeline.defs.operations.alerts import AlertSettings
from alliance_pipeline.defs.operations.definitions import operations_defs
from alliance_pipeline.defs.plans import definitions as plans
from alliance_pipeline.defs.reports import definitions as reports
from alliance_pipeline.defs.today import definitions as today

OWNERS = ["team:alliance-data"]
# Each domain contributes its own definitions (defs/<domain>/definitions.py); build_defs merges them.
DOMAINS = [ingest, indicators, identification, today, now, beyond_study, plans, reports]

# resource -> field -> the environment variable an operator sets it with (unset: the field's default).
ENVIRONMENT = {
    "storage": {"warehouse_dir": "ALLIANCE_WAREHOUSE_DIR", "reports_dir": "ALLIANCE_REPORTS_DIR",
                "archive_dir": "ALLIANCE_ARCHIVE_DIR", "downloads_dir": "ALLIANCE_DOWNLOADS_DIR"},
    "edsight": {"directory": "ALLIANCE_EDSIGHT_DIR", "base_url": "ALLIANCE_EDSIGHT_URL"},
    "plans": {"directory": "ALLIANCE_PLANS_DIR"},
    "alerts": {"webhook_url": "ALLIANCE_ALERT_WEBHOOK", "ui_url": "ALLIANCE_UI_URL"},
    "refresh_policy": {"cron": "ALLIANCE_REFRESH_CRON", "republish_check_seconds": "ALLIANCE_REPUBLISH_CHECK_SECONDS",
                       "sensor_seconds": "ALLIANCE_SENSOR_SECONDS",
                       "latest_years": "ALLIANCE_REFRESH_LATEST_YEARS",
                       "release_date": "ALLIANCE_RELEASE_DATE"},
}
# refresh_policy fields that are part of a definition (a schedule's cron, a sensor's interval): read at load.
AT_LOAD = ("cron", "republish_check_seconds", "sensor_seconds")
RESOURCE_TYPES = {"storage": Storage, "edsight": EdSightSource, "plans": PlanSheets, "alerts": AlertSettings, "refresh_policy": RefreshPolicy}


def from_environment(name: str, **values) -> dict:
    """Field values for resource ``name``: ``values`` where given (not None), else ``dg.EnvVar`` for each variable
    that is set, else nothing (the field's default). The annual cron is read now: a schedule's cron is part of its
    definition."""
    fields = RESOURCE_TYPES[name].model_fields
    config = {}
    for field, variable in ENVIRONMENT[name].items():
        if values.get(field) is not None:
            config[field] = values[field]
        elif os.environ.get(variable):
            number = fields[field].annotation in (int, "int")
            if field in AT_LOAD:  # part of a definition: read when the code location loads
                config[field] = int(os.environ[variable]) if number else os.environ[variable]
            elif number:
                config[field] = dg.EnvVar.int(variable)
            else:
                config[field] = dg.EnvVar(variable)
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


def with_policies(domains: dg.Definitions) -> dg.Definitions:
    """Every asset: its owners and tags (the domain, the stage of the method it belongs to); a domain's own jobs
    and sensors (plan coding's) kept as they are."""
    return dg.Definitions(assets=dg.map_asset_specs(
        lambda spec: spec.merge_attributes(owners=OWNERS, tags={"domain": "education", "stage": spec.group_name or ""}),
        list(domains.assets),
    ), jobs=list(domains.jobs or []), sensors=list(domains.sensors or []))


# Each run executes its steps in its own process, one after another: a subprocess per step spent about 5 s importing
# pandas, Great Expectations and Dagster before doing a second of work. Parallelism comes from runs (the instance runs
# two at once, deploy/dagster-local.yaml): the machine has 2 cores. A deployment spreads steps over Celery workers
# by configuration alone (defs/common/executor.py; deploy/celery.env).
EXECUTOR = alliance_executor


def build_defs(**resources) -> dg.Definitions:
    """The code location's definitions with ``build_resources(**resources)``."""
    domains = with_policies(dg.Definitions.merge(*(domain.defs for domain in DOMAINS)))
    bound = build_resources(**resources)
    graph = CodeLocationGraph()  # the report's view of the whole graph: these Definitions, once built
    bound["asset_graph"] = graph.resource()
    return graph.bind(dg.Definitions.merge(
        domains,
        operations_defs(list(domains.assets), bound["refresh_policy"]),
        dg.Definitions(sensors=[plans.plan_sheets_sensor(bound["refresh_policy"].sensor_seconds)]),
        dg.Definitions(resources=bound, executor=EXECUTOR),
    ))


defs = build_defs()

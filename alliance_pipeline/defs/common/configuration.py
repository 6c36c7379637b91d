"""Where every setting an operator gives comes from: one table of environment variables.

Each resource field an operator may set has its variable here; ``code_location.from_environment`` turns them into
``dg.EnvVar`` fields (read when a run or tick starts; the UI shows which variable), or, for a field that is part of
a definition (a schedule's cron, a sensor's interval: ``AT_LOAD`` on the field), into its value when the code
location loads. The executor has no resources (Dagster builds it before any), so it reads its three variables from
here too (``environment_value``), at the start of each run, as the CLI reads its ``--webserver`` default.
"""

from __future__ import annotations

import os

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
    # the executor's (defs/common/executor.py): not a resource; its run config, when given, comes first
    "executor": {"kind": "ALLIANCE_EXECUTOR", "broker": "ALLIANCE_CELERY_BROKER", "backend": "ALLIANCE_CELERY_BACKEND"},
    # `alliance-pipeline refresh --webserver`'s default: a deployment's webserver to submit the runs to
    "cli": {"webserver": "ALLIANCE_WEBSERVER_URL"},
}

# On a resource field: part of a definition (a schedule's cron, a sensor's interval), read when the code location
# loads, not when a run starts: ``Field(..., json_schema_extra=AT_LOAD)``.
AT_LOAD = {"alliance_pipeline/read_at": "load"}


def variable(resource: str, field: str) -> str:
    """The environment variable that sets ``resource``'s ``field``."""
    return ENVIRONMENT[resource][field]


def environment_value(resource: str, field: str) -> str | None:
    """The value an operator set for ``resource``'s ``field`` in the environment (None: unset or empty)."""
    return os.environ.get(variable(resource, field)) or None


def read_at_load(field_info) -> bool:
    """Whether a resource field (pydantic ``FieldInfo``) is part of a definition: ``AT_LOAD``."""
    extra = field_info.json_schema_extra
    return isinstance(extra, dict) and extra.get("alliance_pipeline/read_at") == "load"

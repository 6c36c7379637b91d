"""Run-failure alerts: a JSON message to a webhook (Slack, Teams, a ticketing system's intake URL).

The webhook is the ``alerts`` resource's ``webhook_url`` (``code_location.py`` sets it from the environment
variable ``ALLIANCE_ALERT_WEBHOOK``); without one the sensor logs and sends nothing.
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from alliance_pipeline.defs.common.configuration import variable

ENV_WEBHOOK, ENV_UI_URL = variable("alerts", "webhook_url"), variable("alerts", "ui_url")


class AlertSettings(dg.ConfigurableResource):
    """Where run-failure alerts go."""

    webhook_url: str | None = Field(default=None, description=f"Webhook for run-failure alerts ({ENV_WEBHOOK}).")
    ui_url: str = Field(default="http://127.0.0.1:3000", description=f"The Dagster UI's address, for run links ({ENV_UI_URL}).")
    timeout_seconds: float = Field(default=10.0, description="HTTP timeout for one alert.")

    def webhook(self) -> str | None:
        return self.webhook_url or None

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}"


def post_alert(alerts: AlertSettings, payload: dict, log) -> bool:
    """Post ``payload`` to the webhook (False, with a log line, when none is set)."""
    import requests

    url = alerts.webhook()
    if not url:
        log.warning(f"{payload.get('event')}: no alert sent ({ENV_WEBHOOK} is not set): {payload.get('message', '')}")
        return False
    response = requests.post(url, json=payload, timeout=alerts.timeout_seconds)
    response.raise_for_status()
    log.info(f"{payload.get('event')} alert posted to {url} (HTTP {response.status_code})")
    return True


def alert_payload(context: dg.RunFailureSensorContext, settings: AlertSettings) -> dict:
    """What failed, where, and why, as one JSON object."""
    run = context.dagster_run
    steps = context.get_step_failure_events()
    messages = []
    for event in steps:
        data = event.step_failure_data
        user = data.user_failure_data
        messages.append((user.description if user and user.description else None) or (data.error.message if data.error else ""))
    checks = []
    for record in context.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if not evaluation.passed:
            checks.append({"asset": evaluation.asset_key.to_user_string(), "check": evaluation.check_name,
                           "severity": evaluation.severity.value, "message": evaluation.description})
    return {
        "event": "run_failure",
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "assets": sorted({record.dagster_event.asset_key.to_user_string() for record in context.instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED)}),
        "failed_steps": [event.step_key for event in steps],
        "message": "\n".join(m.strip() for m in messages if m) or context.failure_event.message,
        "failed_checks": checks,
        "run_url": settings.run_url(run.run_id),
    }


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Posts a JSON alert (asset, partition, the check's message, the run's URL) to the webhook in {ENV_WEBHOOK} "
    "when any run of this code location fails.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertSettings):
    post_alert(alerts, alert_payload(context, alerts), context.log)

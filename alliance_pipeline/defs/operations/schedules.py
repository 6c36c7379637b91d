"""The schedules (off by default): each family's annual refresh, on ``refresh_policy.cron`` (default 15 October
06:00 New York time, after CSDE's late-summer release), and the daily freshness check."""

from __future__ import annotations

import dagster as dg

from alliance_pipeline.defs.common.resources import EdSightSource, RefreshPolicy
from alliance_pipeline.defs.operations import planner
from alliance_pipeline.defs.operations.constants import FRESHNESS_JOB, TIMEZONE
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import SourceError


def annual_schedule(family: str, job, cron: str) -> dg.ScheduleDefinition:
    """``annual_refresh_<family>``: one schedule per family (each targets its partitioned job), all on one cron."""

    @dg.schedule(
        name=f"annual_refresh_{family}",
        cron_schedule=cron,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Yearly: adds new {FAMILIES[family].asset_name} school years and refreshes the latest few "
        "(refresh_policy resource: latest_years); the cross-year tables and the report follow.",
        job=job,
    )
    def annual_refresh(context: dg.ScheduleEvaluationContext, edsight: EdSightSource, refresh_policy: RefreshPolicy):
        stamp = context.scheduled_execution_time.strftime("%Y-%m-%d")
        try:
            requests, changes = planner.annual_requests(context.instance, edsight, family,
                                                        refresh_policy.latest_years, stamp)
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        for message in changes.messages():
            context.log.warning(message)
        return requests or dg.SkipReason(f"no {FAMILIES[family].asset_name} school years yet")

    return annual_refresh


def daily_freshness_check() -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="daily_freshness_check", job_name=FRESHNESS_JOB, cron_schedule="0 7 * * *", execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Each morning: is every family's newest school year the one CSDE has published by now?")

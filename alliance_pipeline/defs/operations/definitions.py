"""Operations: jobs, the annual schedule, new-year and republish sensors, automation.

How the pieces fit:

- Each export family has its own school-year partitions (see defs/common/partitions.py).
  A *year group* is a family's raw asset plus the assets partitioned like it
  (``raw_sbac_district`` + ``sbac_district_scores``); one run refreshes one year of one group.
- ``new_school_year_sensor`` adds a partition when a new year's export appears and
  requests that year's group; ``republished_export_sensor`` compares each export's
  SHA-256 with the one recorded at its last materialization and requests the
  changed (family, year) groups only.
- Everything after the year groups (the cross-year indicators, identification,
  report, versions list) carries ``AutomationCondition.eager()``: the automation
  sensor ``keep_tables_current`` re-materializes exactly what is downstream of an
  updated partition, for any year (dynamic partitions have no "latest window").
- ``annual_refresh`` (cron ``ALLIANCE_REFRESH_CRON``, default 15 October 06:00
  New York time, after CSDE's late-summer release) adds new years and refreshes
  the latest ``ALLIANCE_REFRESH_LATEST_YEARS`` (default 2) of every family.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import dagster as dg

from alliance_pipeline.defs.operations.alerts import alert_on_run_failure
from alliance_pipeline.defs.operations.freshness import NEWEST_YEAR_CHECKS
from alliance_pipeline.defs.common.partitions import apply_year_changes, partition_requests, year_changes
from alliance_pipeline.defs.common.resources import EdSightSource
from alliance_pipeline.edsight.families import FAMILIES, sort_years
from alliance_pipeline.edsight.reader import sha256_of
from alliance_pipeline.edsight.sources import SourceError

ENV_CRON = "ALLIANCE_REFRESH_CRON"
ENV_LATEST_YEARS = "ALLIANCE_REFRESH_LATEST_YEARS"
DEFAULT_CRON = "0 6 15 10 *"
TIMEZONE = "America/New_York"
TRIGGER_TAG = "alliance_pipeline/trigger"


# Enforced by the instance's run monitoring (deploy/dagster-local.yaml): a hung run fails, and is alerted.
RUN_LIMITS = {"dagster/max_runtime": "3600"}


def year_groups(assets: Sequence[dg.AssetsDefinition]) -> dict[str, list[dg.AssetKey]]:
    """family -> its raw asset and every asset partitioned by the same school years."""
    family_of = {family.partitions_name: name for name, family in FAMILIES.items()}
    groups: dict[str, list[dg.AssetKey]] = {name: [] for name in FAMILIES}
    for asset in assets:
        if asset.partitions_def is not None:
            groups[family_of[asset.partitions_def.name]].extend(sorted(asset.keys, key=lambda k: k.to_user_string()))
    return groups


def cross_year_keys(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    return [key for asset in assets if asset.partitions_def is None for key in asset.keys]


def year_job_name(family: str) -> str:
    return f"single_year_{family}"


def _year_request(family: str, year: str, run_key: str, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=run_key, job_name=year_job_name(family), partition_key=year, tags={TRIGGER_TAG: trigger})


def recorded_sha256(instance: dg.DagsterInstance, family: str, year: str) -> str | None:
    """The export's SHA-256 recorded by the last materialization of that year's raw partition."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(FAMILIES[family].asset_name), asset_partitions=[year]), limit=1
    ).records
    if not records:
        return None
    value = records[0].asset_materialization.metadata.get("source_sha256")
    return value.value if value is not None else None


def republished(instance: dg.DagsterInstance, source: EdSightSource) -> list[tuple[str, str, str, str]]:
    """(family, year, recorded sha, current sha) for every materialized export whose file changed."""
    changed = []
    for name, family in FAMILIES.items():
        available = source.discover(name)
        for year in sort_years(instance.get_dynamic_partitions(family.partitions_name)):
            if year not in available:
                continue
            recorded = recorded_sha256(instance, name, year)
            if recorded is None:
                continue  # never materialized: the new-year sensor or a refresh loads it
            current = sha256_of(source.fetch(name, year))
            if current != recorded:
                changed.append((name, year, recorded, current))
    return changed


def build_operations(assets: Sequence[dg.AssetsDefinition]) -> dict:
    """Jobs, schedules and sensors for the given assets, as keyword arguments of ``dg.Definitions``."""
    groups = year_groups(assets)
    year_jobs = {
        name: dg.define_asset_job(
            year_job_name(name),
            selection=dg.AssetSelection.assets(*keys),
            tags=RUN_LIMITS,
            description=f"Refresh one school year of {FAMILIES[name].asset_name} and the assets partitioned with it "
            "(pick the year in the launchpad; a backfill runs several). The cross-year tables follow by automation.",
        )
        for name, keys in groups.items()
        if keys
    }
    jobs = [
        *year_jobs.values(),
        dg.define_asset_job(
            "cross_year_tables",
            selection=dg.AssetSelection.assets(*cross_year_keys(assets)),
            tags=RUN_LIMITS,
            description="Rebuild every table that spans school years (indicators, identification, versions, report) "
            "from the stored yearly Parquet.",
        ),
        dg.define_asset_job(
            "check_freshness", selection=dg.AssetSelection.checks(*NEWEST_YEAR_CHECKS), tags=RUN_LIMITS,
            description="Warns (WARN checks) for each export family whose newest school year is older than expected.",
        ),
        dg.define_asset_job(
            "report_only", selection=dg.AssetSelection.assets("appendix_b_report"), tags=RUN_LIMITS,
            description="Re-render the Appendix B report from the stored Parquet assets.",
        ),
    ]

    @dg.sensor(
        name="new_school_year_sensor",
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Adds a school-year partition for every new EdSight export and requests that year's refresh.",
        jobs=list(year_jobs.values()),
    )
    def new_school_year_sensor(context: dg.SensorEvaluationContext, edsight: EdSightSource):
        try:
            changes = year_changes(context.instance, edsight)
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        for message in changes.messages():
            context.log.warning(message)
        if not changes.added and not changes.vanished:
            return dg.SkipReason("; ".join(["no new school years in the export source", *changes.messages()]))
        return dg.SensorResult(
            dynamic_partitions_requests=partition_requests(changes),
            run_requests=[
                _year_request(name, year, f"new:{FAMILIES[name].asset_name}:{year}", "new_school_year")
                for name, years in changes.added.items() for year in years
            ],
        )

    @dg.sensor(
        name="republished_export_sensor",
        minimum_interval_seconds=3600,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Requests a refresh of exactly the (family, school year) whose export's SHA-256 differs from the "
        "one recorded at its last materialization (CSDE republished it).",
        jobs=list(year_jobs.values()),
    )
    def republished_export_sensor(context: dg.SensorEvaluationContext, edsight: EdSightSource):
        try:
            changed = republished(context.instance, edsight)
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        if not changed:
            return dg.SkipReason("every materialized export matches its recorded SHA-256")
        for name, year, old, new in changed:
            context.log.info(f"{FAMILIES[name].asset_name} {year}: republished ({old[:12]} -> {new[:12]})")
        return dg.SensorResult(run_requests=[
            # The run key includes the new hash: each new version is refreshed once.
            _year_request(name, year, f"republish:{FAMILIES[name].asset_name}:{year}:{new[:16]}", "republished")
            for name, year, _, new in changed
        ])

    schedules = [annual_schedule(name, job) for name, job in year_jobs.items()]
    schedules.append(dg.ScheduleDefinition(
        name="daily_freshness_check", job_name="check_freshness", cron_schedule="0 7 * * *", execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Each morning: is every family's newest school year the one CSDE has published by now?"))
    automation = dg.AutomationConditionSensorDefinition(
        "keep_tables_current",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=60,
        description="Materializes the cross-year tables and the report when a yearly partition they read was updated.",
    )
    return {"jobs": jobs, "schedules": schedules, "asset_checks": NEWEST_YEAR_CHECKS,
            "sensors": [new_school_year_sensor, republished_export_sensor, automation, alert_on_run_failure]}


def annual_schedule(family: str, job) -> dg.ScheduleDefinition:
    """One schedule per family (each targets its partitioned job), all on the same configurable cron."""
    latest = int(os.environ.get(ENV_LATEST_YEARS, "2"))
    partitions_name = FAMILIES[family].partitions_name

    @dg.schedule(
        name=f"annual_refresh_{family}",
        cron_schedule=os.environ.get(ENV_CRON, DEFAULT_CRON),
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Yearly: adds new {FAMILIES[family].asset_name} school years and refreshes the latest {latest}; "
        "the cross-year tables and the report follow by automation.",
        job=job,
    )
    def annual_refresh(context: dg.ScheduleEvaluationContext, edsight: EdSightSource):
        try:
            changes = year_changes(context.instance, edsight, families=[family])
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        apply_year_changes(context.instance, changes)
        for message in changes.messages():
            context.log.warning(message)
        stamp = context.scheduled_execution_time.strftime("%Y-%m-%d")
        years = sort_years(context.instance.get_dynamic_partitions(partitions_name))[-latest:]
        if not years:
            return dg.SkipReason(f"no {FAMILIES[family].asset_name} school years yet")
        return [_year_request(family, year, f"annual:{stamp}:{family}:{year}", "annual") for year in years]

    return annual_refresh

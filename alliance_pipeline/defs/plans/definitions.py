"""Plan coding domain's definitions (methodology section 12): its assets, the job that loads one plan year's coding
sheets, and the sensor that follows the plans folder (on by default, like the export sensors)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import dagster as dg

from alliance_pipeline.defs.common.resources import PlanSheets
from alliance_pipeline.defs.operations.consistency import ACTIVE_RUNS, backfilling
from alliance_pipeline.defs.operations.definitions import RUN_LIMITS, TRIGGER_TAG
from alliance_pipeline.defs.plans import assets
from alliance_pipeline.defs.plans.assets import PLAN_YEARS, RAW
from alliance_pipeline.plans.sheets import find_sheets, sheets_fingerprint

PLAN_YEAR_JOB = "single_plan_year"

plan_year_job = dg.define_asset_job(
    PLAN_YEAR_JOB, selection=dg.AssetSelection.assets(RAW), tags=RUN_LIMITS,
    description="Load one plan year's coding sheets (raw_plan_codes); the plan tables and the report follow with "
    "the cross-year tables.",
)


@dataclass
class PlanYearChanges:
    """What the plans folder says about the plan-year partitions."""

    found: dict[str, list] = field(default_factory=dict)  # plan year -> its sheets
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    strays: dict[str, str] = field(default_factory=dict)  # file -> why it is not read
    # plan year -> (fingerprint, storage id of its last load), where the sheets differ from the loaded or it failed
    changed: dict[str, tuple[str, int]] = field(default_factory=dict)

    def messages(self) -> list[str]:
        return [f"{name}: {why}" for name, why in self.strays.items()] + [
            f"raw_plan_codes {year}: no coding sheet left in the plans folder; partition removed" for year in self.removed]


def last_fingerprint(instance: dg.DagsterInstance, year: str) -> tuple[str | None, int]:
    """The sheets' fingerprint the last load of ``year`` recorded, and that materialization's storage id."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=RAW, asset_partitions=[year]), limit=1).records
    if not records:
        return None, 0
    value = records[0].asset_materialization.metadata.get("sheets_fingerprint")
    return (value.value if value is not None else None), records[0].storage_id


def plan_year_changes(instance: dg.DagsterInstance, plans: PlanSheets) -> PlanYearChanges:
    """Compare the plan-year partitions and their last loads with the plans folder: a plan year is *changed* when
    its sheets differ from those it was last loaded from, or its last run failed (a good sheet put back)."""
    found, strays = find_sheets(plans.folder())
    existing = set(instance.get_dynamic_partitions(PLAN_YEARS.name))
    changes = PlanYearChanges(found=found, strays=strays)
    changes.added = [year for year in found if year not in existing]
    changes.removed = sorted(year for year in existing if year not in found)
    loaded = [year for year in found if year in existing]
    status = (instance.get_status_by_partition(RAW, loaded, PLAN_YEARS) or {}) if loaded else {}
    for year, files in found.items():
        fingerprint = sheets_fingerprint(files)
        loaded, storage_id = last_fingerprint(instance, year)
        if loaded != fingerprint or status.get(year) == dg.AssetPartitionStatus.FAILED:
            changes.changed[year] = (fingerprint, storage_id)
    return changes


def apply_plan_year_changes(instance: dg.DagsterInstance, changes: PlanYearChanges) -> None:
    if changes.added:
        instance.add_dynamic_partitions(PLAN_YEARS.name, changes.added)
    for year in changes.removed:
        instance.delete_dynamic_partition(PLAN_YEARS.name, year)


def plan_sheets_sensor(seconds: int) -> dg.SensorDefinition:
    """``coded_plan_sheets_sensor``, ticking every ``seconds`` (refresh_policy.sensor_seconds)."""
    return dg.sensor(
        name="coded_plan_sheets_sensor",
        minimum_interval_seconds=seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Follows the plans folder: registers each plan year with coding sheets, removes one with none "
        "left, and loads a plan year whose sheets changed since its last load (added, removed or edited); the plan "
        "tables and the report follow through cross_year_tables_sensor.",
        job=plan_year_job,
    )(coded_plan_sheets_sensor)


def coded_plan_sheets_sensor(context: dg.SensorEvaluationContext, plans: PlanSheets):
    changes = plan_year_changes(context.instance, plans)
    for message in changes.messages():
        context.log.warning(message)
    requested = json.loads(context.cursor) if context.cursor else {}  # plan year -> fingerprint last requested
    requests = []
    busy = {run.tags.get("dagster/partition") for run in context.instance.get_runs(
        filters=dg.RunsFilter(job_name=PLAN_YEAR_JOB, statuses=list(ACTIVE_RUNS)))}
    busy |= backfilling(context.instance, context.repository_def.asset_graph).get(RAW, set())
    for year, (fingerprint, storage_id) in changes.changed.items():
        if requested.get(year) == fingerprint:
            continue  # requested already for these very sheets (a bad sheet is not retried until it changes)
        if year in busy:
            continue  # a run of that year is queued or running (a refresh's), or a backfill will load it: looked at after
        # The key names the last load too: sheets put back as they were (A -> B -> A) are still new to the warehouse.
        requests.append(dg.RunRequest(run_key=f"plans:{year}:{fingerprint[:16]}:{storage_id}", partition_key=year,
                                      tags={TRIGGER_TAG: "coded_plan_sheets"}))
        requested[year] = fingerprint
    partition_requests = ([PLAN_YEARS.build_add_request(changes.added)] if changes.added else []) + (
        [PLAN_YEARS.build_delete_request(changes.removed)] if changes.removed else [])
    cursor = json.dumps({year: fp for year, fp in requested.items() if year in changes.found}, sort_keys=True)
    if not requests and not partition_requests:
        waiting = [f"raw_plan_codes {year}: its sheets were refused; waiting for them to change"
                   for year in changes.changed]
        return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason("; ".join(
            [f"every plan year's sheets are loaded or requested ({len(changes.found)} plan years)", *waiting,
             *changes.messages()])))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests, cursor=cursor)


defs = dg.Definitions(
    assets=[assets.plan_codebook, assets.raw_plan_codes, assets.plan_codes, assets.intercoder_reliability,
            assets.plan_indicators, assets.plan_indicators_compared],
    jobs=[plan_year_job],  # its sensor is built with the refresh policy's interval (definitions.build_defs)
)

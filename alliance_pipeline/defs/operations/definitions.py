"""Operations: jobs, the annual schedule, new-year and republish sensors, automation.

How the pieces fit:

- Each export family has its own school-year partitions (see defs/common/partitions.py).
  A *year group* is a family's raw asset plus the assets partitioned like it
  (``raw_sbac_district`` + ``sbac_district_scores``); one run refreshes one year of one group.
- ``school_year_partitions`` (on by default, every 30 s) keeps the partitions equal to the
  exports the source holds, so *Materialize all* on a fresh instance loads every year.
- ``new_school_year_sensor`` loads each registered year never loaded; ``republished_export_sensor``
  compares each loaded export's size and time (HEAD) with those recorded, downloads only the
  changed ones and requests the (family, year) groups whose SHA-256 differs.
- ``cross_year_tables_sensor`` (on by default) rebuilds everything after the year groups (the
  cross-year indicators, identification, versions list, report) in one run, once every year is
  settled and the yearly data versions differ from those the report was built from
  (defs/operations/consistency.py). Identical bytes give identical versions: no run.
- ``annual_refresh_<family>`` (the ``refresh_policy`` resource: cron, default 15 October 06:00
  New York time, after CSDE's late-summer release) adds new years and refreshes
  the latest ``latest_years`` (default 2) of every family.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from alliance_pipeline.archive import REJECTED, list_versions
from alliance_pipeline.defs.operations.alerts import AlertSettings, alert_on_run_failure, post_alert
from alliance_pipeline.defs.operations.freshness import NEWEST_YEAR_CHECKS
from alliance_pipeline.defs.common.partitions import (
    YEAR_PARTITIONS, apply_year_changes, partition_requests, raw_status, record_refusals, year_changes,
)
from alliance_pipeline.defs.operations import consistency
from alliance_pipeline.defs.common.resources import EdSightSource, RefreshPolicy, Storage
from alliance_pipeline.edsight.families import FAMILIES, sort_years
from alliance_pipeline.edsight.reader import sha256_of
from alliance_pipeline.edsight.sources import SourceError

TIMEZONE = "America/New_York"
TRIGGER_TAG = "alliance_pipeline/trigger"


# Enforced by the instance's run monitoring (deploy/dagster-local.yaml): a hung run fails, and is alerted.
RUN_LIMITS = {"dagster/max_runtime": "3600"}


def year_groups(assets: Sequence[dg.AssetsDefinition]) -> dict[str, list[dg.AssetKey]]:
    """family -> its raw asset and every asset partitioned by the same school years."""
    family_of = {family.partitions_name: name for name, family in FAMILIES.items()}
    groups: dict[str, list[dg.AssetKey]] = {name: [] for name in FAMILIES}
    for asset in assets:
        if asset.partitions_def is not None and asset.partitions_def.name in family_of:  # plan years: defs/plans
            groups[family_of[asset.partitions_def.name]].extend(sorted(asset.keys, key=lambda k: k.to_user_string()))
    return groups


def cross_year_keys(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    return [key for asset in assets if asset.partitions_def is None for key in asset.keys]


def year_job_name(family: str) -> str:
    return f"single_year_{family}"


FAMILY_TAG = "alliance_pipeline/family"
YEAR_TAG = "alliance_pipeline/school_year"
YEARS_TAG = "alliance_pipeline/school_years"  # a run over several school years of a family (a partition range)
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
INPUTS_TAG = "alliance_pipeline/inputs"
CROSS_YEAR_JOB = "cross_year_tables"


def _year_request(family: str, year: str, run_key: str, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=run_key, job_name=year_job_name(family), partition_key=year,
                         tags={TRIGGER_TAG: trigger, FAMILY_TAG: family, YEAR_TAG: year})


def range_tags(instance: dg.DagsterInstance, family: str, years: list[str], trigger: str) -> dict[str, str]:
    """The tags of one run over ``years`` of ``family``: the family, its years and Dagster's partition range (the
    years must follow one another in the order the instance registered them, which a range follows)."""
    order = [year for year in instance.get_dynamic_partitions(FAMILIES[family].partitions_name) if year in set(years)]
    return {TRIGGER_TAG: trigger, FAMILY_TAG: family, YEARS_TAG: ",".join(years),
            RANGE_START_TAG: order[0], RANGE_END_TAG: order[-1]}


def range_request(instance: dg.DagsterInstance, family: str, years: list[str], run_key: str,
                  trigger: str) -> dg.RunRequest:
    """One run over ``years`` of ``family`` (``range_tags``)."""
    return dg.RunRequest(run_key=run_key, job_name=year_job_name(family),
                         tags=range_tags(instance, family, years, trigger))


def blocks_in_order(order: list[str], years: set[str]) -> list[list[str]]:
    """``years`` as runs of consecutive keys in ``order`` (the instance's partition order)."""
    blocks: list[list[str]] = []
    previous = -2
    for place, year in enumerate(order):
        if year in years:
            if place == previous + 1:
                blocks[-1].append(year)
            else:
                blocks.append([year])
            previous = place
    return blocks


def registered_keys(statuses) -> list[str]:
    """Every registered (family, school year) as "family/year" (``statuses``: ``raw_statuses``): what
    new_school_year_sensor's cursor remembers from one tick to the next."""
    return [f"{name}/{year}" for name, status in statuses.items() for year in status]


def new_year_requests(instance: dg.DagsterInstance, warehouse: Path, graph, seen: set[str],
                      trigger: str = "new_school_year") -> tuple[list[dg.RunRequest], list[str], list[str]]:
    """The runs that load every year never loaded (``never_loaded``): a family's new years that follow one another
    in one run, a year alone in its own; and, year by year, the years of a run over several that failed (so that
    a refused year holds back none of the others). A year a backfill in progress will load is left to it, and so
    is, for one tick, a year registered since the last tick (not in ``seen``, ``registered_keys`` of that tick):
    an operator who presses *Materialize all* as the years appear is not raced by a second load of each.
    Returns the requests, the registered keys to remember and the years held back for that tick."""
    requests = []
    statuses = raw_statuses(instance)  # asked once per tick, for both
    backfill = consistency.backfilling(instance, graph)

    def left_to_backfill(name: str, year: str) -> bool:
        return year in backfill.get(dg.AssetKey(FAMILIES[name].asset_name), ())

    new: dict[str, set[str]] = {}
    held: list[str] = []
    for name, year in never_loaded(instance, warehouse, statuses):
        if left_to_backfill(name, year):
            continue
        if f"{name}/{year}" not in seen:
            held.append(f"{FAMILIES[name].asset_name} {year}")
            continue
        new.setdefault(name, set()).add(year)
    for name, years in new.items():
        order = list(instance.get_dynamic_partitions(FAMILIES[name].partitions_name))
        for block in blocks_in_order(order, years):
            keys = [_new_year_key(instance, name, year) for year in block]
            if len(block) == 1:
                requests.append(_year_request(name, block[0], keys[0], trigger))
            else:
                digest = hashlib.sha256(",".join(keys).encode()).hexdigest()[:16]
                requests.append(range_request(instance, name, block, f"new:{FAMILIES[name].asset_name}:{digest}", trigger))
    for name, year, run_id in failed_in_a_range(instance, statuses):
        if not left_to_backfill(name, year):
            requests.append(_year_request(name, year, f"after-range:{FAMILIES[name].asset_name}:{year}:{run_id}",
                                          trigger))
    return requests, registered_keys(statuses), held


def failed_in_a_range(instance: dg.DagsterInstance, statuses) -> list[tuple[str, str, str]]:
    """(family, year, run id) of each year whose raw partition failed last in a run over several years (a refresh's,
    a sensor's or a *Materialize all* backfill's: the run that last planned it), which stored none of them; each is
    loaded on its own next. ``statuses``: ``raw_statuses``."""
    found = []
    for name, status in statuses.items():
        key = dg.AssetKey(FAMILIES[name].asset_name)
        for year, state in status.items():
            if state != dg.AssetPartitionStatus.FAILED:
                continue
            planned = instance.get_latest_planned_materialization_info(key, year)  # the run that failed it
            run = instance.get_run_by_id(planned.run_id) if planned else None
            if run is not None and run.tags.get(RANGE_START_TAG, "") != run.tags.get(RANGE_END_TAG, ""):
                found.append((name, year, run.run_id[:8]))
    return found


def cross_year_request(instance: dg.DagsterInstance, graph, storage: Storage) -> dg.RunRequest | dg.SkipReason:
    """One run of the cross-year tables downstream of what changed, once every school year is settled and the
    yearly versions differ from those the report was built from, or a table's file is missing (``storage``: the
    files are looked at, never only the instance's memory); otherwise why not."""
    state = consistency.yearly_state(instance, graph)
    if not state.registered:
        return dg.SkipReason("no school years are registered yet: school_year_partitions registers them from the "
                             "export source (it runs every 30 s while the daemon runs)")
    backfill = consistency.backfilling(instance, graph)
    if backfill:
        return dg.SkipReason(f"waiting: a backfill in progress (e.g. Materialize all) builds {len(backfill)} asset(s); "
                             "looked at again once it ends")
    if not state.versions:
        return dg.SkipReason("no school year has been loaded yet: Materialize all (Assets), or turn on "
                             "new_school_year_sensor, or run `alliance-pipeline refresh`")
    unloaded = never_loaded(instance, storage.warehouse())
    if unloaded:
        return dg.SkipReason(f"waiting: {len(unloaded)} registered school year(s) not loaded yet ("
                             + ", ".join(f"{FAMILIES[f].asset_name} {y}" for f, y in unloaded[:6])
                             + "); new_school_year_sensor loads them, then the report is rebuilt")
    running = consistency.active_runs(instance)
    if running:
        return dg.SkipReason(f"waiting: {len(running)} run(s) queued or running ({', '.join(running[:5])})")
    waiting = state.unsettled()
    if waiting:
        return dg.SkipReason(f"waiting, the last complete report stays in place: {waiting}")
    built = consistency.built_from(instance)
    never, gone = consistency.absent_outputs(instance, graph, storage)
    if built == state.versions and not gone:
        return dg.SkipReason(f"the cross-year tables and the report are current ({len(state.versions)} yearly "
                             "partitions, one set of export versions)")
    # The state is its versions and its newest yearly materialization: a state seen before (A -> B -> A) is still
    # new to the warehouse, so it gets its run (a key of the versions alone would be skipped as "already completed"),
    # and a failed run, perhaps transient (a year reloaded while the report was checked), holds back only its own.
    fingerprint = state.fingerprint()[:16]
    inputs = f"{fingerprint}:{state.newest_storage_id}"
    if gone:  # the same versions, files gone: a rebuild, keyed by the last report it replaces
        inputs += f":rebuild:{_storage_id(instance, consistency.REPORT)}"
    failed = instance.get_run_records(dg.RunsFilter(tags={INPUTS_TAG: inputs},
                                                    statuses=[dg.DagsterRunStatus.FAILURE]), limit=1)
    if failed:
        return dg.SkipReason(f"the cross-year run for these export versions failed (run "
                             f"{failed[0].dagster_run.run_id[:8]}) and no school year was loaded since; the last complete "
                             f"report stays in place. Fix the cause and launch the {CROSS_YEAR_JOB} job")
    missing = never | gone  # e.g. the reference tables, on a new instance
    selection = consistency.downstream_cross_year(graph, {*consistency.changed_assets(built, state.versions), *missing})
    selection |= missing | {consistency.REPORT}
    return dg.RunRequest(
        run_key=f"cross-year:{inputs}", job_name=CROSS_YEAR_JOB,
        asset_selection=sorted(selection),
        tags={TRIGGER_TAG: "settled_yearly_versions", INPUTS_TAG: inputs},
    )


def last_load(instance: dg.DagsterInstance, family: str, year: str) -> dict | None:
    """SHA-256 and source validator recorded by the last materialization of that year's raw partition."""
    record = consistency.latest_record(instance, dg.AssetKey(FAMILIES[family].asset_name), year)
    if record is None:
        return None
    metadata = record.asset_materialization.metadata
    return {name: metadata[name].value if name in metadata else "" for name in ("source_sha256", "source_validator")}


@dataclass
class RepublishCheck:
    changed: list[tuple[str, str, str, str]] = field(default_factory=list)  # family, year, recorded sha, current sha
    recovered: list[tuple[str, str, str]] = field(default_factory=list)  # family, year, current sha: last run failed
    seen: dict[str, list[str]] = field(default_factory=dict)  # "family/year" -> [validator, sha256]: the new cursor
    checked: int = 0
    downloaded: int = 0

    def summary(self) -> str:
        return (f"{self.checked} loaded exports checked by their size and time (or ETag); {self.downloaded} "
                f"downloaded to compare bytes; {len(self.changed)} changed")


def republished(instance: dg.DagsterInstance, source: EdSightSource, cursor: dict[str, list[str]] | None = None) -> RepublishCheck:
    """Which loaded exports changed since they were loaded.

    Each family's folder is listed once; each export is compared by its validator (HEAD: ETag or Last-Modified and
    size; a local file: size and mtime) with the one recorded when it was loaded or last seen (``cursor``). Only an
    export whose validator changed is downloaded, and it counts as republished only if its SHA-256 differs."""
    check = RepublishCheck()
    cursor = cursor or {}
    for name, family in FAMILIES.items():
        years = sort_years(instance.get_dynamic_partitions(family.partitions_name))
        loads = {year: last_load(instance, name, year) for year in years}
        loads = {year: load for year, load in loads.items() if load}  # never loaded: the new-year sensor's job
        if not loads:
            continue
        found = source.discover(name)
        for year, load in loads.items():
            if year not in found:
                continue
            key = f"{name}/{year}"
            check.checked += 1
            validator = source.validator(name, year, found)
            seen = cursor.get(key)
            if validator and validator == load["source_validator"]:
                current = load["source_sha256"]
            elif validator and seen and seen[0] == validator:
                current = seen[1]
            else:
                current = sha256_of(source.fetch(name, year, found))
                check.downloaded += 1
            check.seen[key] = [validator or "", current]
            failed_with = failed_load(instance, source, name, year)
            if failed_with is not None:  # the last run failed: load again once the file is not the one that failed
                if current != failed_with:
                    check.recovered.append((name, year, current))
            elif current != load["source_sha256"]:
                check.changed.append((name, year, load["source_sha256"], current))
    return check


def failed_load(instance: dg.DagsterInstance, source: EdSightSource, family: str, year: str) -> str | None:
    """When the year's raw partition's last run failed: the SHA-256 of the file it was last refused with (the
    archive's newest outcome for that year), "" if none is recorded; None when its last run did not fail."""
    key = dg.AssetKey(FAMILIES[family].asset_name)
    status = (instance.get_status_by_partition(key, [year], YEAR_PARTITIONS[family]) or {}).get(year)
    if status != dg.AssetPartitionStatus.FAILED:
        return None
    versions = list_versions(source.storage.archive(), verify=False)
    versions = versions[(versions["family"] == family) & (versions["school_year"] == year)]
    if versions.empty:
        return ""
    newest = versions.sort_values("last_outcome_at").iloc[-1]
    return str(newest["sha256"]) if newest["status"] == REJECTED else ""


def raw_statuses(instance: dg.DagsterInstance) -> dict[str, dict[str, dg.AssetPartitionStatus | None]]:
    """family -> each registered school year (in order) -> the status of its raw partition (None: never
    materialized, not running, not failed)."""
    statuses = {}
    for name, family in FAMILIES.items():
        years = sort_years(instance.get_dynamic_partitions(family.partitions_name))
        status = raw_status(instance, name, years)
        statuses[name] = {year: status.get(year) for year in years}
    return statuses


def never_loaded(instance: dg.DagsterInstance, warehouse: Path, statuses=None) -> list[tuple[str, str]]:
    """(family, year) registered but never materialized and not running now, and those loaded once whose Parquet
    file is gone (a warehouse deleted while the instance remembers it): the files, not the instance's memory, say
    what is there. ``statuses``: ``raw_statuses``, when the caller has them."""
    found = []
    for name, status in (statuses or raw_statuses(instance)).items():
        asset = FAMILIES[name].asset_name
        found += [(name, year) for year, state in status.items() if state is None or (
            state == dg.AssetPartitionStatus.MATERIALIZED and not (warehouse / asset / f"{year}.parquet").exists())]
    return found


def _new_year_key(instance: dg.DagsterInstance, family: str, year: str) -> str:
    """The run key of a year's first load; a year loaded before whose file is gone gets a key of its own (the
    storage id of the load it replaces), or Dagster would take it for the first load again and skip it."""
    asset = FAMILIES[family].asset_name
    stored = _storage_id(instance, dg.AssetKey(asset), year)
    return f"new:{asset}:{year}" + (f":{stored}" if stored else "")


def _storage_id(instance: dg.DagsterInstance, key: dg.AssetKey, year: str | None = None) -> int:
    """The storage id of the newest materialization of ``key`` (its partition ``year``); 0 when there is none."""
    record = consistency.latest_record(instance, key, year)
    return record.storage_id if record else 0


def operations_defs(assets: Sequence[dg.AssetsDefinition], policy: RefreshPolicy) -> dg.Definitions:
    """Jobs, schedules, sensors and freshness checks for the given assets (the annual schedules on ``policy.cron``)."""
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
        name="school_year_partitions",
        minimum_interval_seconds=max(5, policy.sensor_seconds // 2),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Keeps each family's school-year partitions equal to the exports the source holds (a new year is "
        "registered once its export reads as that year; a withdrawn one is removed). Launches nothing: loading is "
        "Materialize all, new_school_year_sensor or the annual schedules.",
    )
    def school_year_partitions(context: dg.SensorEvaluationContext, edsight: EdSightSource, alerts: AlertSettings):
        refused_before = json.loads(context.cursor) if context.cursor else {}
        try:
            changes = year_changes(context.instance, edsight, refused_before=refused_before)
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        for message in changes.messages():
            context.log.warning(message)
        record_refusals(changes, edsight.storage.archive())  # a refused file is an event: archived, alerted
        for family, year, path, reason in changes.newly_refused:
            post_alert(alerts, {"event": "export_refused", "family": family, "school_year": year, "file": path,
                                "message": reason, "ui_url": alerts.ui_url}, context.log)
        cursor = json.dumps(changes.refused_validators, sort_keys=True)
        if not changes.added and not changes.vanished:
            return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason(
                "; ".join(["every export in the source is registered", *changes.messages()])))
        return dg.SensorResult(dynamic_partitions_requests=partition_requests(changes), cursor=cursor)

    @dg.sensor(
        name="new_school_year_sensor",
        minimum_interval_seconds=policy.sensor_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Loads every registered school year that has never been loaded (a new export), from its second "
        "tick after the year is registered (one tick for an operator's Materialize all to take it): a family's new "
        "years in one run (a partition range), loaded again year by year if that run fails, so a refused year holds "
        "back no other; a year a backfill in progress loads is left to it. The cross-year tables and the report "
        "follow once every year is settled.",
        jobs=list(year_jobs.values()),
    )
    def new_school_year_sensor(context: dg.SensorEvaluationContext, storage: Storage):
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        requests, registered, held = new_year_requests(context.instance, storage.warehouse(),
                                                       context.repository_def.asset_graph, seen)
        cursor = json.dumps(registered)
        if not requests:
            return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason(
                f"{len(held)} school year(s) registered since the last tick ({', '.join(held[:6])}): loaded at the "
                "next tick unless a backfill (Materialize all) takes them" if held else
                "every registered school year has been loaded, and its Parquet file is there, or a backfill in "
                "progress loads it"))
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    @dg.sensor(
        name="republished_export_sensor",
        minimum_interval_seconds=policy.republish_check_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests a refresh of exactly the (family, school year) CSDE republished, or whose last run "
        "failed and whose file changed since (a good file put back): each loaded export is checked by its size and "
        "time (HEAD: ETag or Last-Modified) every refresh_policy.republish_check_seconds (read when the code location "
        "loads, like the cron; ALLIANCE_REPUBLISH_CHECK_SECONDS) and downloaded only when "
        "those changed; it is refreshed when its SHA-256 differs from the one loaded.",
        jobs=list(year_jobs.values()),
    )
    def republished_export_sensor(context: dg.SensorEvaluationContext, edsight: EdSightSource):
        try:
            check = republished(context.instance, edsight, json.loads(context.cursor) if context.cursor else None)
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        context.log.info(check.summary())
        cursor = json.dumps(check.seen, sort_keys=True)
        for name, year, old, new in check.changed:
            context.log.info(f"{FAMILIES[name].asset_name} {year}: republished ({old[:12]} -> {new[:12]})")
        for name, year, new in check.recovered:
            context.log.info(f"{FAMILIES[name].asset_name} {year}: its last run failed and the file changed since "
                             f"({new[:12]}): loading it again")
        if not check.changed and not check.recovered:
            return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason(f"no export changed: {check.summary()}"))
        return dg.SensorResult(cursor=cursor, run_requests=[
            # The run key includes the new hash: each new version is refreshed once.
            *(_year_request(name, year, f"republish:{FAMILIES[name].asset_name}:{year}:{new[:16]}", "republished")
              for name, year, _, new in check.changed),
            *(_year_request(name, year, f"recover:{FAMILIES[name].asset_name}:{year}:{new[:16]}", "recovered")
              for name, year, new in check.recovered),
        ])

    @dg.sensor(
        name="cross_year_tables_sensor",
        minimum_interval_seconds=policy.sensor_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Rebuilds the cross-year tables and the report in one run once every school year is settled "
        "(nothing running, no failed year) and the yearly data versions differ from those the report was built from; "
        "only the tables downstream of what changed. Identical bytes request nothing.",
        jobs=[job for job in jobs if job.name == CROSS_YEAR_JOB],
    )
    def cross_year_tables_sensor(context: dg.SensorEvaluationContext, storage: Storage):
        return cross_year_request(context.instance, context.repository_def.asset_graph, storage)

    schedules = [annual_schedule(name, job, policy.cron) for name, job in year_jobs.items()]
    schedules.append(dg.ScheduleDefinition(
        name="daily_freshness_check", job_name="check_freshness", cron_schedule="0 7 * * *", execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Each morning: is every family's newest school year the one CSDE has published by now?"))
    automation = dg.AutomationConditionSensorDefinition(
        "keep_tables_current",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=policy.sensor_seconds,
        description="Updates a yearly table (sbac_district_scores, cmt_district_scores) when its raw partition got a "
        "new data version outside a year job (e.g. one raw partition launched from its asset page).",
    )
    return dg.Definitions(jobs=jobs, schedules=schedules, asset_checks=NEWEST_YEAR_CHECKS,
                          sensors=[school_year_partitions, new_school_year_sensor, republished_export_sensor,
                                   cross_year_tables_sensor, automation, alert_on_run_failure])


def annual_schedule(family: str, job, cron: str) -> dg.ScheduleDefinition:
    """One schedule per family (each targets its partitioned job), all on the same cron."""
    partitions_name = FAMILIES[family].partitions_name

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
        try:
            changes = year_changes(context.instance, edsight, families=[family])
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        apply_year_changes(context.instance, changes)
        for message in changes.messages():
            context.log.warning(message)
        stamp = context.scheduled_execution_time.strftime("%Y-%m-%d")
        years = sort_years(context.instance.get_dynamic_partitions(partitions_name))[-refresh_policy.latest_years:]
        if not years:
            return dg.SkipReason(f"no {FAMILIES[family].asset_name} school years yet")
        return [_year_request(family, year, f"annual:{stamp}:{family}:{year}", "annual") for year in years]

    return annual_refresh

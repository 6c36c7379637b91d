"""The one run planner: what the instance should add, remove and run, given the export source, the plans folder
and the instance's state. The sensors, the annual schedules and ``alliance-pipeline refresh`` all plan here; the
sensors return what it plans to the daemon, ``refresh`` launches it (in process or through a webserver).

- ``register_years`` / ``registration``: each family's school-year partitions follow its exports;
  ``register_plan_years``: the plan years follow the plans folder.
- ``year_request`` / ``range_request``: one run of one family's year, or of several years (a partition range),
  with the tags every run of that job carries (trigger, family, school year(s)).
- ``new_year_requests``: the years registered and never loaded (new_school_year_sensor).
- ``annual_requests``: the latest years of a family (annual_refresh_<family>).
- ``plan_year_requests``: the plan years whose coding sheets changed (coded_plan_sheets_sensor).
- ``cross_year_request``: the cross-year tables, once every year is settled (cross_year_tables_sensor).
- ``refresh_requests``: everything, for ``alliance-pipeline refresh``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg

from alliance_pipeline.defs.common.partitions import (
    PLAN_YEARS,
    YearChanges,
    apply_year_changes,
    held_years,
    raw_status,
    record_refusals,
    registered_years,
    year_changes,
)
from alliance_pipeline.defs.common.resources import EdSightSource, PlanSheets, Storage
from alliance_pipeline.defs.operations import consistency
from alliance_pipeline.defs.operations.constants import (
    CROSS_YEAR_JOB,
    FAMILY_TAG,
    INPUTS_TAG,
    PLAN_YEAR_JOB,
    PLAN_YEAR_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    TRIGGER_TAG,
    YEAR_TAG,
    YEARS_TAG,
    year_job_name,
)
from alliance_pipeline.defs.operations.plan_years import PlanYearChanges, apply_plan_year_changes, plan_year_changes
from alliance_pipeline.defs.plan_coding.assets import RAW
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.school_year import sort_years

# --- school-year partitions --------------------------------------------------------------------------------------


def registration(instance: dg.DagsterInstance, source: EdSightSource, families=None,
                 refused_before: dict[str, str] | None = None) -> YearChanges:
    """What the source says about each family's partitions (``year_changes``), each refused file recorded in the
    archive; the caller applies the changes (``register_years``) or returns them to the daemon (a sensor)."""
    changes = year_changes(instance, source, families=families, refused_before=refused_before)
    record_refusals(changes, source.storage.archive())
    return changes


def register_years(instance: dg.DagsterInstance, source: EdSightSource, families=None) -> YearChanges:
    """Make each family's partitions follow its exports: confirmed new years added, vanished ones removed."""
    changes = registration(instance, source, families)
    apply_year_changes(instance, changes)
    return changes


# --- run requests ------------------------------------------------------------------------------------------------


def year_request(family: str, year: str, run_key: str | None, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=run_key, job_name=year_job_name(family), partition_key=year,
                         tags={TRIGGER_TAG: trigger, FAMILY_TAG: family, YEAR_TAG: year})


def range_tags(instance: dg.DagsterInstance, family: str, years: list[str], trigger: str) -> dict[str, str]:
    """The tags of one run over ``years`` of ``family``: the family, its years and Dagster's partition range (the
    years must follow one another in the order the instance registered them, which a range follows)."""
    order = [year for year in instance.get_dynamic_partitions(FAMILIES[family].partitions_name) if year in set(years)]
    return {TRIGGER_TAG: trigger, FAMILY_TAG: family, YEARS_TAG: ",".join(years),
            RANGE_START_TAG: order[0], RANGE_END_TAG: order[-1]}


def range_request(instance: dg.DagsterInstance, family: str, years: list[str], run_key: str | None,
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


def plan_year_request(year: str, run_key: str | None, trigger: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=run_key, job_name=PLAN_YEAR_JOB, partition_key=year,
                         tags={TRIGGER_TAG: trigger, PLAN_YEAR_TAG: year})


def cross_year_tables(trigger: str) -> dg.RunRequest:
    """Every cross-year table and the report, in one run."""
    return dg.RunRequest(job_name=CROSS_YEAR_JOB, tags={TRIGGER_TAG: trigger})


# --- the registered years and what was loaded ----------------------------------------------------------------------


def raw_statuses(instance: dg.DagsterInstance) -> dict[str, dict[str, dg.AssetPartitionStatus | None]]:
    """family -> each registered school year (in order) -> the status of its raw partition (None: never
    materialized, not running, not failed)."""
    statuses = {}
    for name, years in held_years(instance).items():
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
                requests.append(year_request(name, block[0], keys[0], trigger))
            else:
                digest = hashlib.sha256(",".join(keys).encode()).hexdigest()[:16]
                requests.append(range_request(instance, name, block, f"new:{FAMILIES[name].asset_name}:{digest}", trigger))
    for name, year, run_id in failed_in_a_range(instance, statuses):
        if not left_to_backfill(name, year):
            requests.append(year_request(name, year, f"after-range:{FAMILIES[name].asset_name}:{year}:{run_id}",
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


# --- plan years --------------------------------------------------------------------------------------------------


def register_plan_years(instance: dg.DagsterInstance, plans: PlanSheets) -> PlanYearChanges:
    """Make the plan-year partitions follow the plans folder: a plan year with sheets added, one with none removed."""
    changes = plan_year_changes(instance, plans)
    apply_plan_year_changes(instance, changes)
    return changes


def plan_year_requests(instance: dg.DagsterInstance, plans: PlanSheets, graph, requested: dict[str, str],
                       trigger: str) -> tuple[list[dg.RunRequest], PlanYearChanges]:
    """A run of each plan year whose sheets changed since its last load (``plan_year_changes``), unless these very
    sheets were requested already (``requested``: plan year -> fingerprint, updated here; a refused sheet is not
    retried until it changes) or a run or backfill of that year is queued or running."""
    changes = plan_year_changes(instance, plans)
    requests = []
    busy = {run.tags.get("dagster/partition") for run in instance.get_runs(
        filters=dg.RunsFilter(job_name=PLAN_YEAR_JOB, statuses=list(consistency.ACTIVE_RUNS)))}
    busy |= consistency.backfilling(instance, graph).get(RAW, set())
    for year, (fingerprint, storage_id) in changes.changed.items():
        if requested.get(year) == fingerprint or year in busy:
            continue
        # The key names the last load too: sheets put back as they were (A -> B -> A) are still new to the warehouse.
        requests.append(plan_year_request(year, f"plans:{year}:{fingerprint[:16]}:{storage_id}", trigger))
        requested[year] = fingerprint
    return requests, changes


# --- the schedules and the refresh -------------------------------------------------------------------------------


def annual_requests(instance: dg.DagsterInstance, source: EdSightSource, family: str, latest_years: int,
                    stamp: str) -> tuple[list[dg.RunRequest], YearChanges]:
    """The family's new years registered, then a run of each of its ``latest_years`` newest years (keyed by the
    schedule's date ``stamp``, so each tick runs them once)."""
    changes = register_years(instance, source, families=[family])
    years = registered_years(instance, family)[-latest_years:]
    return [year_request(family, year, f"annual:{stamp}:{family}:{year}", "annual") for year in years], changes


def refresh_requests(instance: dg.DagsterInstance, jobs: set[str],
                     ranged: bool) -> tuple[list[dg.RunRequest], list[str]]:
    """What ``alliance-pipeline refresh`` launches, in order: every registered year of every family with a job in
    ``jobs`` (``ranged``: a family's years in one run, a partition range; else one run per year), every plan year,
    then the cross-year tables; and the families skipped for having no school years."""
    requests: list[dg.RunRequest] = []
    skipped = []
    for name, years in held_years(instance).items():
        family = FAMILIES[name]
        if year_job_name(name) not in jobs:
            continue
        if not years:
            skipped.append(f"{family.asset_name}: no school years available")
        elif ranged and len(years) > 1:
            requests.append(range_request(instance, name, years, None, "refresh"))
        else:
            requests.extend(year_request(name, year, None, "refresh") for year in years)
    if PLAN_YEAR_JOB in jobs:  # the coded plans' years (methodology section 12)
        requests.extend(plan_year_request(year, None, "refresh")
                        for year in sort_years(instance.get_dynamic_partitions(PLAN_YEARS.name)))
    requests.append(cross_year_tables("refresh"))
    return requests, skipped


def request_years(request: dg.RunRequest) -> list[str] | None:
    """The school (or plan) years a planned run covers; None for the cross-year tables (every year)."""
    if request.partition_key:
        return [request.partition_key]
    years = request.tags.get(YEARS_TAG)
    return years.split(",") if years else None

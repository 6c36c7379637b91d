"""The sensors (on by default), each a small factory given its jobs and its interval (``refresh_policy``: read when
the code location loads). What to run is the planner's (``planner.py``); a sensor returns it to the daemon, with
its cursor and, when nothing is requested, why."""

from __future__ import annotations

import json

import dagster as dg

from alliance_pipeline.defs.common.partitions import PLAN_YEARS, partition_requests
from alliance_pipeline.defs.common.resources import EdSightSource, PlanSheets, Storage
from alliance_pipeline.defs.operations import planner
from alliance_pipeline.defs.operations.alerts import AlertSettings, post_alert
from alliance_pipeline.defs.operations.republish import republished
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import SourceError


def _sensor(name: str, seconds: int, description: str, **target):
    """``@dg.sensor`` as every sensor here is: on by default, ticking every ``seconds``."""
    return dg.sensor(name=name, minimum_interval_seconds=seconds, default_status=dg.DefaultSensorStatus.RUNNING,
                     description=description, **target)


def school_year_partitions_sensor(seconds: int) -> dg.SensorDefinition:
    @_sensor(
        "school_year_partitions", seconds,
        "Keeps each family's school-year partitions equal to the exports the source holds (a new year is "
        "registered once its export reads as that year; a withdrawn one is removed). Launches nothing: loading is "
        "Materialize all, new_school_year_sensor or the annual schedules.",
    )
    def school_year_partitions(context: dg.SensorEvaluationContext, edsight: EdSightSource, alerts: AlertSettings):
        refused_before = json.loads(context.cursor) if context.cursor else {}
        try:  # a refused file is an event: archived (by the planner), alerted (here)
            changes = planner.registration(context.instance, edsight, refused_before=refused_before)
        except SourceError as exc:
            return dg.SkipReason(f"export source unavailable: {exc}")
        for message in changes.messages():
            context.log.warning(message)
        for family, year, path, reason in changes.newly_refused:
            post_alert(alerts, {"event": "export_refused", "family": family, "school_year": year, "file": path,
                                "message": reason, "ui_url": alerts.ui_url}, context.log)
        cursor = json.dumps(changes.refused_validators, sort_keys=True)
        if not changes.added and not changes.vanished:
            return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason(
                "; ".join(["every export in the source is registered", *changes.messages()])))
        return dg.SensorResult(dynamic_partitions_requests=partition_requests(changes), cursor=cursor)

    return school_year_partitions


def new_school_year_sensor(jobs: list, seconds: int) -> dg.SensorDefinition:
    @_sensor(
        "new_school_year_sensor", seconds,
        "Loads every registered school year that has never been loaded (a new export), from its second "
        "tick after the year is registered (one tick for an operator's Materialize all to take it): a family's new "
        "years in one run (a partition range), loaded again year by year if that run fails, so a refused year holds "
        "back no other; a year a backfill in progress loads is left to it. The cross-year tables and the report "
        "follow once every year is settled.",
        jobs=jobs,
    )
    def new_school_year(context: dg.SensorEvaluationContext, storage: Storage):
        seen = set(json.loads(context.cursor)) if context.cursor else set()
        requests, registered, held = planner.new_year_requests(context.instance, storage.warehouse(),
                                                               context.repository_def.asset_graph, seen)
        cursor = json.dumps(registered)
        if not requests:
            return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason(
                f"{len(held)} school year(s) registered since the last tick ({', '.join(held[:6])}): loaded at the "
                "next tick unless a backfill (Materialize all) takes them" if held else
                "every registered school year has been loaded, and its Parquet file is there, or a backfill in "
                "progress loads it"))
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return new_school_year


def republished_export_sensor(jobs: list, seconds: int) -> dg.SensorDefinition:
    @_sensor(
        "republished_export_sensor", seconds,
        "Requests a refresh of exactly the (family, school year) CSDE republished, or whose last run "
        "failed and whose file changed since (a good file put back): each loaded export is checked by its size and "
        "time (HEAD: ETag or Last-Modified) every refresh_policy.republish_check_seconds (read when the code location "
        "loads, like the cron; ALLIANCE_REPUBLISH_CHECK_SECONDS) and downloaded only when "
        "those changed; it is refreshed when its SHA-256 differs from the one loaded.",
        jobs=jobs,
    )
    def republished_export(context: dg.SensorEvaluationContext, edsight: EdSightSource):
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
            *(planner.year_request(name, year, f"republish:{FAMILIES[name].asset_name}:{year}:{new[:16]}",
                                   "republished") for name, year, _, new in check.changed),
            *(planner.year_request(name, year, f"recover:{FAMILIES[name].asset_name}:{year}:{new[:16]}", "recovered")
              for name, year, new in check.recovered),
        ])

    return republished_export


def cross_year_tables_sensor(job, seconds: int) -> dg.SensorDefinition:
    @_sensor(
        "cross_year_tables_sensor", seconds,
        "Rebuilds the cross-year tables and the report in one run once every school year is settled "
        "(nothing running, no failed year) and the yearly data versions differ from those the report was built from; "
        "only the tables downstream of what changed. Identical bytes request nothing.",
        jobs=[job],
    )
    def cross_year_tables(context: dg.SensorEvaluationContext, storage: Storage):
        return planner.cross_year_request(context.instance, context.repository_def.asset_graph, storage)

    return cross_year_tables


def coded_plan_sheets_sensor(job, seconds: int) -> dg.SensorDefinition:
    @_sensor(
        "coded_plan_sheets_sensor", seconds,
        "Follows the plans folder: registers each plan year with coding sheets, removes one with none "
        "left, and loads a plan year whose sheets changed since its last load (added, removed or edited); the plan "
        "tables and the report follow through cross_year_tables_sensor.",
        job=job,
    )
    def coded_plan_sheets(context: dg.SensorEvaluationContext, plans: PlanSheets):
        requested = json.loads(context.cursor) if context.cursor else {}  # plan year -> fingerprint last requested
        requests, changes = planner.plan_year_requests(context.instance, plans, context.repository_def.asset_graph,
                                                       requested, "coded_plan_sheets")
        for message in changes.messages():
            context.log.warning(message)
        partitions = ([PLAN_YEARS.build_add_request(changes.added)] if changes.added else []) + (
            [PLAN_YEARS.build_delete_request(changes.removed)] if changes.removed else [])
        cursor = json.dumps({year: fp for year, fp in requested.items() if year in changes.found}, sort_keys=True)
        if not requests and not partitions:
            waiting = [f"raw_plan_codes {year}: its sheets were refused; waiting for them to change"
                       for year in changes.changed]
            return dg.SensorResult(cursor=cursor, skip_reason=dg.SkipReason("; ".join(
                [f"every plan year's sheets are loaded or requested ({len(changes.found)} plan years)", *waiting,
                 *changes.messages()])))
        return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partitions, cursor=cursor)

    return coded_plan_sheets


def keep_tables_current(seconds: int) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "keep_tables_current",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=seconds,
        description="Updates a yearly table (sbac_district_scores, cmt_district_scores) when its raw partition got a "
        "new data version outside a year job (e.g. one raw partition launched from its asset page).",
    )

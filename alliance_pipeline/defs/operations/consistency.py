"""One set of exports: when the cross-year tables and the report may be rebuilt, and from what.

The yearly partitions (raw exports and the tables partitioned with them) each
carry a data version: the export's SHA-256 for a raw partition, a hash of the
stored table for the others (``checks.finish``). The *yearly state* is the map
``asset[year] -> data version`` of every registered school year, plus what is
not settled: partitions still running, whose last run failed, or a derived
partition older than the raw partition it reads.

- ``cross_year_tables_sensor`` requests one run of the cross-year tables (only
  those downstream of what changed) when the state is settled and differs from
  the map the report was last built from. Identical bytes give identical data
  versions, so an identical-bytes backfill requests nothing.
- ``appendix_b_report`` refuses to render from an unsettled state (the last
  complete report stays in place) and records the map it was built from as
  ``built_from``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg

from alliance_pipeline.defs.common.metadata import YEARLY_VERSION

DATA_VERSION_TAG = "dagster/data_version"
BUILT_FROM = "built_from"
REPORT = dg.AssetKey("appendix_b_report")
ACTIVE_RUNS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def label(key: dg.AssetKey, year: str) -> str:
    return f"{key.to_user_string()}[{year}]"


@dataclass
class YearlyState:
    versions: dict[str, str] = field(default_factory=dict)  # "asset[year]" -> data version, materialized ones
    registered: int = 0  # school-year partitions the instance holds, over every family
    in_progress: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    behind: list[str] = field(default_factory=list)  # "derived[year] is older than raw[year]"
    newest_storage_id: int = 0  # the newest yearly materialization: A -> B -> A is a new state, though A's versions

    def unsettled(self) -> str | None:
        """Why the cross-year tables must wait, or None."""
        parts = []
        if self.in_progress:
            parts.append(f"still running: {_some(self.in_progress)}")
        if self.failed:
            parts.append(f"last run failed: {_some(self.failed)} (fix the export or the setting and materialize "
                         "that year again)")
        if self.behind:
            parts.append(f"not yet updated: {_some(self.behind)}")
        return "; ".join(parts) or None

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.versions, sort_keys=True).encode()).hexdigest()


def _some(items: list[str], shown: int = 6) -> str:
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")


def latest_record(instance: dg.DagsterInstance, key: dg.AssetKey, year: str | None = None):
    """The newest materialization record of ``key`` (of its partition ``year``), or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[year] if year else None), limit=1)
    return records.records[0] if records.records else None


def yearly_state(instance: dg.DagsterInstance, graph) -> YearlyState:
    """The yearly partitions' data versions and what is not settled, read from the instance."""
    state = YearlyState()
    partitioned = [graph.get(key) for key in graph.materializable_asset_keys if graph.get(key).partitions_def]
    for node in sorted(partitioned, key=lambda n: n.key.to_user_string()):
        partitions = node.partitions_def
        years = list(instance.get_dynamic_partitions(partitions.name))
        if not node.parent_keys & {n.key for n in partitioned}:
            state.registered += len(years)
        if not years:
            continue
        status = instance.get_status_by_partition(node.key, years, partitions) or {}
        for year in years:
            name = label(node.key, year)
            if status.get(year) == dg.AssetPartitionStatus.IN_PROGRESS:
                state.in_progress.append(name)
            elif status.get(year) == dg.AssetPartitionStatus.FAILED:
                state.failed.append(name)
            record = latest_record(instance, node.key, year)
            if record is None:
                continue
            state.versions[name] = version_of(record) or str(record.storage_id)
            state.newest_storage_id = max(state.newest_storage_id, record.storage_id)
            for parent in sorted(node.parent_keys):
                if graph.get(parent).partitions_def == partitions:
                    upstream = latest_record(instance, parent, year)
                    if upstream is not None and upstream.storage_id > record.storage_id \
                            and not _read_version(instance, record, parent, year, upstream):
                        state.behind.append(f"{name} (older than {label(parent, year)})")
    return state


def _read_version(instance: dg.DagsterInstance, record, parent: dg.AssetKey, year: str, upstream) -> bool:
    """Whether ``record`` was computed from the data version ``upstream`` holds now: the upstream event it read has
    the same data version (a re-materialization of identical bytes leaves the derived table current, though older).
    The event read is Dagster's input event pointer when that is the partition's own event; a run over a range of
    years points at one event for all of them, so there it is the partition's newest event before ``record``."""
    pointer = (record.asset_materialization.tags or {}).get(f"dagster/input_event_pointer/{parent.to_user_string()}")
    read = []
    if pointer and pointer.isdigit():
        read = instance.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=parent, asset_partitions=[year], after_storage_id=int(pointer) - 1,
            before_storage_id=int(pointer) + 1), limit=1).records
    if not read and YEARLY_VERSION in (record.asset_materialization.metadata or {}):  # stored by a range
        read = instance.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=parent, asset_partitions=[year], before_storage_id=record.storage_id), limit=1).records
    return bool(read) and version_of(read[0]) is not None and version_of(read[0]) == version_of(upstream)


def version_of(record) -> str | None:
    """A yearly partition's data version: its own (``yearly_version``, recorded per partition, also when one run
    stored a range of years, whose Dagster data version is one for the range), else Dagster's tag."""
    metadata = record.asset_materialization.metadata or {}
    if YEARLY_VERSION in metadata:
        return str(metadata[YEARLY_VERSION].value)
    return (record.asset_materialization.tags or {}).get(DATA_VERSION_TAG)


def active_runs(instance: dg.DagsterInstance, unless_tag: tuple[str, str] | None = None) -> list[str]:
    """Runs queued or running, as "job (run id)"; ``unless_tag`` (key, value): not those carrying that tag."""
    records = instance.get_run_records(dg.RunsFilter(statuses=ACTIVE_RUNS), limit=50)
    return [f"{record.dagster_run.job_name} ({record.dagster_run.run_id[:8]})" for record in records
            if unless_tag is None or record.dagster_run.tags.get(unless_tag[0]) != unless_tag[1]]


def backfilling(instance: dg.DagsterInstance, graph) -> dict[dg.AssetKey, set[str | None]]:
    """What the backfills in progress (e.g. the UI's *Materialize all*) will still build: asset -> its partitions
    (``{None}`` for an unpartitioned asset). The sensors leave these to the backfill instead of loading them a second
    time beside it. ``graph``: the code location's asset graph (the backfill's target is stored against it)."""
    from dagster._core.errors import DagsterDefinitionChangedDeserializationError  # Dagster has no public names
    from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus

    targets: dict[dg.AssetKey, set[str | None]] = {}
    for backfill in instance.get_backfills(filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])):
        if not backfill.is_asset_backfill:
            continue
        try:
            target = backfill.get_asset_backfill_data(graph).target_subset
        except DagsterDefinitionChangedDeserializationError:  # its assets changed since: the daemon reports it
            continue
        for key, subset in target.partitions_subsets_by_asset_key.items():
            targets.setdefault(key, set()).update(subset.get_partition_keys())
        for key in target.non_partitioned_asset_keys:
            targets.setdefault(key, set()).add(None)
    return targets


def built_from(instance: dg.DagsterInstance) -> dict[str, str] | None:
    """The yearly map the last report was built from (None if there is no report or it predates the record)."""
    event = instance.get_latest_materialization_event(REPORT)
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get(BUILT_FROM)
    return dict(value.value) if value is not None else None


def changed_assets(old: dict[str, str] | None, new: dict[str, str]) -> set[dg.AssetKey]:
    """The yearly assets with a partition added, removed or of another data version."""
    if old is None:
        return {dg.AssetKey.from_user_string(name.split("[")[0]) for name in new}
    names = {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
    return {dg.AssetKey.from_user_string(name.split("[")[0]) for name in names}


def absent_outputs(instance: dg.DagsterInstance, graph, storage) -> tuple[set[dg.AssetKey], set[dg.AssetKey]]:
    """Unpartitioned assets (never materialized on this instance, materialized but whose output is gone from disk).

    Never materialized: the reference tables (alliance_cohort, the codebook), which no yearly change leads to, and
    tables whose only yearly input has no year yet (the plan tables before any coding sheet); an instance loaded by
    the sensors alone has none. Gone: its Parquet file under the warehouse, or, for the report, the latest report
    (a warehouse deleted while the instance remembers it)."""
    warehouse, report = storage.warehouse(), storage.reports() / "latest"
    never, gone = set(), set()
    for key in graph.materializable_asset_keys:
        if graph.get(key).partitions_def is not None:
            continue
        if instance.get_latest_materialization_event(key) is None:
            never.add(key)
        elif not (report if key == REPORT else warehouse / f"{key.to_user_string()}.parquet").exists():
            gone.add(key)
    return never, gone


def downstream_cross_year(graph, changed: Iterable[dg.AssetKey]) -> set[dg.AssetKey]:
    """Every unpartitioned asset downstream of ``changed`` (the report included)."""
    found: set[dg.AssetKey] = set()
    stack = list(changed)
    while stack:
        for child in graph.get(stack.pop()).child_keys:
            if child not in found:
                found.add(child)
                stack.append(child)
    return {key for key in found if graph.get(key).partitions_def is None}

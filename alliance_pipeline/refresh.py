"""Materialize every asset for every available school year, in dependency order.

Used by ``alliance-pipeline refresh`` and by the tests. Each (partition set,
school year) is one Dagster run on the given instance, so the runs appear in
the UI exactly as if launched there; assets without partitions run last in one
run. The first failed run stops the refresh, and its message (the failing
check, file, column and rows) is returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Callable

import dagster as dg

from alliance_pipeline.defs.common.partitions import YearChanges, apply_year_changes, year_changes
from alliance_pipeline.defs.common.resources import EdSightSource
from alliance_pipeline.edsight.families import FAMILIES, sort_years


@dataclass
class RunOutcome:
    label: str
    success: bool
    seconds: float
    run_id: str
    message: str = ""


@dataclass
class RefreshResult:
    runs: list[RunOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # files not registered, years removed

    @property
    def success(self) -> bool:
        return all(run.success for run in self.runs)

    @property
    def failure(self) -> RunOutcome | None:
        return next((run for run in self.runs if not run.success), None)


def register_years(instance: dg.DagsterInstance, source: EdSightSource) -> YearChanges:
    """Make each family's partitions follow its exports: confirmed new years added, vanished ones removed."""
    changes = year_changes(instance, source)
    apply_year_changes(instance, changes)
    return changes


def run_groups(defs: dg.Definitions) -> list[tuple[str | None, list[dg.AssetKey]]]:
    """Assets grouped by partition set, groups in dependency order (unpartitioned last when possible)."""
    graph = defs.resolve_asset_graph()
    group_of: dict[dg.AssetKey, str | None] = {}
    for key in graph.materializable_asset_keys:
        partitions = graph.get(key).partitions_def
        group_of[key] = getattr(partitions, "name", None) if partitions else None
    sorter: TopologicalSorter = TopologicalSorter()
    for key, group in group_of.items():
        sorter.add(group)
        for parent in graph.get(key).parent_keys:
            if parent in group_of and group_of[parent] != group:
                sorter.add(group, group_of[parent])
    order = list(sorter.static_order())
    return [(group, sorted((k for k, g in group_of.items() if g == group), key=lambda k: k.to_user_string())) for group in order]


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    messages = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            user = event.step_failure_data.user_failure_data
            text = (user.description if user and user.description else None) or (error.message if error else "")
            text = text.strip()
            messages.append(text if text.startswith(event.step_key) else f"{event.step_key}: {text}")
    if not messages:  # a failed check without a step failure: its description names file, column and rows
        for event in result.all_events:
            evaluation = event.event_specific_data if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION else None
            if evaluation is not None and not evaluation.passed and evaluation.description:
                messages.append(evaluation.description)
                break
    return "\n".join(messages) or "run failed"


def refresh(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    resources: dict | None = None,
    progress: Callable[[str], None] = print,
    log_level: str = "WARNING",
) -> RefreshResult:
    resources = resources or dict(defs.resources)
    source: EdSightSource = resources["edsight"]
    changes = register_years(instance, source)
    for name, found in changes.found.items():
        progress(f"  {FAMILIES[name].asset_name}: {', '.join(found) if found else 'no exports found'}")
    for message in changes.messages():
        progress(f"  warning: {message}")
    assets = list(defs.assets)
    plan: list[tuple[str, str | None, list[dg.AssetKey]]] = []
    result = RefreshResult(notices=changes.messages())
    for group, keys in run_groups(defs):
        if group is None:
            plan.append(("all years", None, keys))
            continue
        partitions = sort_years(instance.get_dynamic_partitions(group))
        if not partitions:
            result.skipped.append(f"{group}: no school years available")
        plan.extend((year, year, keys) for year in partitions)
    total = len(plan)
    for number, (label, partition, keys) in enumerate(plan, start=1):
        names = ", ".join(key.to_user_string() for key in keys)
        progress(f"[{number}/{total}] {names} ({label}) ...")
        started = time.monotonic()
        run = dg.materialize(
            assets,
            selection=dg.AssetSelection.assets(*keys),
            partition_key=partition,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            tags={"alliance_pipeline/trigger": "refresh"},
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        outcome = RunOutcome(
            label=f"{names} ({label})",
            success=run.success,
            seconds=time.monotonic() - started,
            run_id=run.run_id,
            message="" if run.success else _failure_message(run),
        )
        result.runs.append(outcome)
        progress(f"      {'ok' if run.success else 'FAILED'} in {outcome.seconds:.1f}s (run {run.run_id[:8]})")
        if not run.success:
            break
    return result

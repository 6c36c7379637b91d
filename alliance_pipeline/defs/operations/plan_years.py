"""Plan years (methodology section 12): what the plans folder says about the plan-year partitions and their last
loads. The planner (``planner.plan_year_requests``) and ``alliance-pipeline refresh`` act on it."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from alliance_pipeline.defs.common.partitions import PLAN_YEARS
from alliance_pipeline.defs.common.resources import PlanSheets
from alliance_pipeline.defs.plan_coding.assets import RAW
from alliance_pipeline.plans.sheets import find_sheets, sheets_fingerprint


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

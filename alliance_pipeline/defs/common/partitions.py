"""School-year partitions: one dynamic set per export family, following the exports that exist.

The years come from the exports (the discovery sensor, the annual schedules and
``alliance-pipeline refresh`` all call ``year_changes``), so a new year needs no
code change. Families keep their own sets because they do not cover the same
years (CMT ended in 2012-13, Smarter Balanced began in 2014-15).

A year is registered only once its export has been read and the year in its
title (or ``FallOfYear`` column) is the year in its file name; a year whose
export is gone from the source is removed, so a stray or deleted file never
breaks later refreshes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from alliance_pipeline.edsight import EdSightFormatError, read_export
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import SourceError
from alliance_pipeline.school_year import sort_years

YEAR_PARTITIONS: dict[str, dg.DynamicPartitionsDefinition] = {
    name: dg.DynamicPartitionsDefinition(name=family.partitions_name) for name, family in FAMILIES.items()
}
# One partition per plan year with coding sheets in the plans folder (registered by coded_plan_sheets_sensor and
# by `alliance-pipeline refresh`, like the export families' school years).
PLAN_YEARS = dg.DynamicPartitionsDefinition(name="plan_years")


@dataclass
class YearChanges:
    """What the export source says about each family's partitions."""

    found: dict[str, list[str]] = field(default_factory=dict)  # family -> years with an export
    added: dict[str, list[str]] = field(default_factory=dict)  # new years whose export was read and agrees
    vanished: dict[str, list[str]] = field(default_factory=dict)  # partitions whose export is gone
    refused: list[str] = field(default_factory=list)  # one message per file not registered
    kept: list[str] = field(default_factory=list)  # one message per family whose source listed nothing
    # "family/year" -> [validator, reason] of each refused file, so a caller can skip re-reading it while it is
    # unchanged and still say why it is refused
    refused_validators: dict[str, list] = field(default_factory=dict)
    newly_refused: list[tuple[str, str, str, str]] = field(default_factory=list)  # family, year, file, reason
    withdrawn_refused: dict[str, list[str]] = field(default_factory=dict)  # added by hand, export refused: removed

    def messages(self) -> list[str]:
        gone = [f"{FAMILIES[name].asset_name} {year}: the export is no longer in the source; partition removed "
                "(its stored Parquet file is no longer read)" for name, years in self.vanished.items() for year in years
                if year not in self.withdrawn_refused.get(name, [])]
        return [*self.refused, *gone, *self.kept]


def confirmed_year(source, family: str, year: str, found=None) -> tuple[str | None, str | None]:
    """(None, file) when the export named for ``year`` reads as that year; else (why it is not registered, the
    file read, or None when it could not be fetched)."""
    asset = FAMILIES[family].asset_name
    path = None
    try:
        path = source.fetch(family, year, found)
        export = read_export(path, continued_rows=FAMILIES[family].continued_rows)
    except (SourceError, EdSightFormatError) as exc:
        return f"{asset} {year}: not registered: {exc}", (str(path) if path else None)
    if export.school_year != year:
        found = f"its {export.school_year_source} says {export.school_year}" if export.school_year else "it names no school year"
        return f"{asset} {year}: not registered: {export.path} is named for {year} but {found}", str(path)
    return None, str(path)


def raw_status(instance: dg.DagsterInstance, family: str, years: list[str]) -> dict:
    """year -> the status of its raw partition (absent: never materialized, not running, not failed)."""
    if not years:
        return {}
    key = dg.AssetKey(FAMILIES[family].asset_name)
    return instance.get_status_by_partition(key, years, YEAR_PARTITIONS[family]) or {}


def never_loaded_years(instance: dg.DagsterInstance, family: str, years: list[str]) -> list[str]:
    """Those of ``years`` whose raw partition was never materialized (and is not running or failed)."""
    status = raw_status(instance, family, years)
    return [year for year in years if status.get(year) is None]


def year_changes(instance: dg.DagsterInstance, source, families=None, refused_before: dict[str, str] | None = None) -> YearChanges:
    """Compare each family's partitions with the exports in ``source`` (raises SourceError if it cannot be listed).

    ``refused_before`` ("family/year" -> validator, from an earlier call's ``refused_validators``): a file refused
    then and unchanged since (same size and time, or ETag) is not read again."""
    changes = YearChanges()
    for name in families or FAMILIES:
        found = source.discover(name)
        existing = registered_years(instance, name)
        changes.found[name] = list(found)
        if not found and existing:  # an empty listing is more likely a missing mount than every year withdrawn
            changes.kept.append(f"{FAMILIES[name].asset_name}: the source lists no exports; its {len(existing)} "
                                "school years are kept until it lists some again")
            continue
        unreadable = getattr(found, "unreadable", {})
        for year, why in unreadable.items():  # reported by name; never registered, never removed because of it
            changes.refused.append(f"{FAMILIES[name].asset_name} {year}: not read: {why}")
        gone = [year for year in existing if year not in found and year not in unreadable]
        if gone:
            changes.vanished[name] = gone
        # A year registered by hand (the UI's "Add a partition") and never loaded follows the sensor's rule: its
        # export must read as that year, else the partition is removed with the reason.
        unconfirmed = set(never_loaded_years(instance, name, [year for year in existing if year in found]))
        for year in found:
            if year in existing and year not in unconfirmed:
                continue
            key = f"{name}/{year}"
            validator = source.validator(name, year, found) if refused_before is not None else None
            before = (refused_before or {}).get(key)
            before_validator, before_reason = (before if isinstance(before, list) else [before, None]) if before else (None, None)
            if validator and before_validator == validator:
                changes.refused.append(f"{FAMILIES[name].asset_name} {year}: still not registered (the file is "
                                       "unchanged since it was refused)" + (f": {before_reason.split(': not registered: ', 1)[-1]}"
                                                                            if before_reason else ""))
                changes.refused_validators[key] = [validator, before_reason]
                if year in existing:
                    changes.vanished.setdefault(name, []).append(year)
                    changes.withdrawn_refused.setdefault(name, []).append(year)
                continue
            refusal, path = confirmed_year(source, name, year, found)
            if refusal:
                if year in existing:
                    refusal += " (the partition, added by hand, was removed until the file is fixed)"
                    changes.vanished.setdefault(name, []).append(year)
                    changes.withdrawn_refused.setdefault(name, []).append(year)
                changes.refused.append(refusal)
                changes.newly_refused.append((name, year, path or "", refusal))
                if validator:
                    changes.refused_validators[key] = [validator, refusal]
            elif year not in existing:
                changes.added.setdefault(name, []).append(year)
    return changes


def record_refusals(changes: YearChanges, archive_root) -> None:
    """Each newly refused file archived as ``rejected`` with the reason (a line in raw_export_versions)."""
    from alliance_pipeline.archive import REJECTED, archive_export

    for family, year, path, reason in changes.newly_refused:
        if path:
            archive_export(path, family, year, archive_root, status=REJECTED, reason=reason)


def apply_year_changes(instance: dg.DagsterInstance, changes: YearChanges) -> None:
    for name, years in changes.added.items():
        instance.add_dynamic_partitions(FAMILIES[name].partitions_name, years)
    for name, years in changes.vanished.items():
        for year in years:
            instance.delete_dynamic_partition(FAMILIES[name].partitions_name, year)


def partition_requests(changes: YearChanges) -> list:
    """The same changes as sensor results (add and delete requests)."""
    requests = [YEAR_PARTITIONS[name].build_add_request(years) for name, years in changes.added.items()]
    requests += [YEAR_PARTITIONS[name].build_delete_request(years) for name, years in changes.vanished.items()]
    return requests


def registered_years(instance: dg.DagsterInstance, family: str) -> list[str]:
    """The school years of ``family`` registered (read and named correctly) on ``instance``, in order."""
    return sort_years(instance.get_dynamic_partitions(FAMILIES[family].partitions_name))


def held_years(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """family -> ``registered_years``."""
    return {name: registered_years(instance, name) for name in FAMILIES}

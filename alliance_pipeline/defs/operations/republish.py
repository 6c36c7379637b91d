"""Which loaded exports CSDE republished (republished_export_sensor), or whose last run failed and whose file has
changed since (a good file put back): checked by size and time first, downloaded only when those changed."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from alliance_pipeline.archive import REJECTED, list_versions
from alliance_pipeline.defs.common.partitions import YEAR_PARTITIONS, held_years
from alliance_pipeline.defs.common.resources import EdSightSource
from alliance_pipeline.defs.operations import consistency
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.reader import sha256_of


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
    for name, years in held_years(instance).items():
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

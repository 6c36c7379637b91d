"""Raw assets: one per export family, partitioned by school year, plus the cohort roster.

Each validates its table with expectations/<asset>.json as a blocking check
(see defs/common/checks.py) before the output is stored.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from alliance_pipeline.archive import LOADED, REJECTED, ArchiveError, archive_export, list_versions
from alliance_pipeline.defs.common.checks import (
    ranged,
    rejected,
    table_asset,
    validated,
    years_check,
    years_output,
)
from alliance_pipeline.defs.common.groups import INGEST
from alliance_pipeline.defs.common.io_manager import PROVENANCE_ONLY
from alliance_pipeline.defs.common.metadata import YEARLY_VERSION, preview
from alliance_pipeline.defs.common.partitions import YEAR_PARTITIONS
from alliance_pipeline.defs.common.resources import EdSightSource, Storage
from alliance_pipeline.edsight import EdSightExport, EdSightFormatError, read_export
from alliance_pipeline.edsight.families import FAMILIES, ExportFamily
from alliance_pipeline.edsight.reader import sha256_of
from alliance_pipeline.edsight.sources import SourceError, SourceUnavailable
from alliance_pipeline.paths import COHORT_REFERENCE, STUDY_REFERENCE
from alliance_pipeline.reference import load_reference
from alliance_pipeline.validation import validate_frame

RAW_CODE_VERSION = "raw-1"


def raw_frame(export: EdSightExport) -> pd.DataFrame:
    """The stored raw table: the export's rows plus the school year.

    The export's provenance (file name, SHA-256, title) travels in the Parquet
    metadata as ``attrs["source"]``, so a report can cite it from the Parquet alone.
    """
    frame = export.frame.copy()
    frame.insert(0, "school_year", pd.array([export.school_year] * len(frame), dtype="string"))
    frame.attrs["source"] = {
        "file": Path(export.path).name,
        "sha256": export.sha256,
        "school_year": export.school_year,
        "title": export.title,
        "rows": len(frame),
    }
    return frame


def stored_sources(provenance: dict[str, dict[str, dict]]) -> dict[tuple[str, str], dict]:
    """(family, school year) -> the provenance (file, SHA-256, title, rows) recorded in the warehouse's raw Parquet
    file ({} when a file predates provenance). ``provenance``: each raw asset's ``{school year: frame.attrs}``, as the
    IO manager loads it for a ``provenance_only`` input (only the school years the instance has)."""
    family_of = {family.asset_name: family.name for family in FAMILIES.values()}
    return {(family_of[asset], year): attrs.get("source") or {}
            for asset, years in provenance.items() for year, attrs in years.items()}


def _year_metadata(export: EdSightExport, frame: pd.DataFrame, suite: str, validator: str | None, version,
                   set_aside: list[str]) -> dict:
    """What a raw partition's materialization records: the source, its SHA-256 and validator, the archived copy,
    what was read and what was set aside, and a preview."""
    return {
        "source_file": dg.MetadataValue.path(export.path),
        "source_sha256": export.sha256,
        # Size and time (or ETag) the source reported: the republish sensor compares these, not the bytes.
        "source_validator": validator or "",
        "archived_copy": dg.MetadataValue.path(str(version.path)),
        "archive_repaired": version.repaired or "nothing",
        "first_seen": version.first_seen,
        "report_title": export.title,
        "school_year": export.school_year,
        "school_year_read_from": export.school_year_source,
        "header_row": export.header_row,
        "rows_read": len(frame),
        "aggregate_rows": int(frame["is_aggregate"].sum()),
        "districts": export.districts,
        "suppressed_cells": export.suppressed_cells,
        "expectations_suite": dg.MetadataValue.path(f"expectations/{suite}.json"),
        "not_read": dg.MetadataValue.md(", ".join(f"`{name}`" for name in set_aside) or "none"),
        # Named rows EdSight wrote with a blank code (methodology section 11): kept, flagged, never joined.
        "rows_without_code": dg.MetadataValue.md("\n".join(
            f"- row {row}: {name}" for name, row in
            frame.loc[frame["code_missing"], ["district_name", "source_row"]].itertuples(index=False)) or "none"),
        "preview": preview(frame.drop(columns=["suppressed_columns"])),
    }


def fetch_and_read(context, family: ExportFamily, edsight: EdSightSource, archive, listing: dict, year: str):
    """(export, validator, path) of ``year``'s export; an export that cannot be fetched or read is archived as
    rejected (when its bytes were read) and raised (``source_path``: the file, if fetched); a source that is down
    asks for the step to be retried. ``listing`` keeps the family's listing: the source is listed once."""
    path = validator = None
    try:
        if "found" not in listing:
            listing["found"] = edsight.discover(family.name)
        found = listing["found"]
        # Before the bytes: a change between the two is then seen by the republish sensor, never hidden.
        validator = edsight.validator(family.name, year, found)
        path = edsight.fetch(family.name, year, found)
        return read_export(path, expected_year=year, continued_rows=family.continued_rows), validator, path
    except (EdSightFormatError, SourceError) as exc:
        if isinstance(exc, SourceUnavailable) and context.retry_number < edsight.step_retries:
            wait = edsight.retry_delay_seconds * 2 ** context.retry_number  # exponential backoff
            context.log.warning(f"{exc}; trying again in {wait:.0f}s "
                                f"(attempt {context.retry_number + 2} of {edsight.step_retries + 1})")
            raise dg.RetryRequested(max_retries=edsight.step_retries, seconds_to_wait=wait) from exc
        if path is not None:  # the bytes were read: kept, marked rejected, never the latest
            archive_export(path, family.name, year, archive, status=REJECTED, reason=str(exc))
        exc.source_path = str(path or "")
        raise


def load_year(context, family: ExportFamily, edsight: EdSightSource, archive, year: str):
    """One school year of ``family``: read, validated, archived and stored, or refused naming file, row and column
    (archived as rejected when its bytes were read)."""
    key, listing = context.asset_key, {}
    try:
        export, validator, path = fetch_and_read(context, family, edsight, archive, listing, year)
    except (EdSightFormatError, SourceError) as exc:
        yield rejected(key, str(exc), exc.source_path, getattr(exc, "row", None), getattr(exc, "column", None))
        raise dg.Failure(description=f"{family.asset_name} [{year}]: {exc}", allow_retries=False) from exc
    frame = raw_frame(export)
    suite = family.suite_for(Path(export.path).name)
    set_aside = getattr(listing["found"], "set_aside", {}).get(year, [])
    if set_aside:  # two formats of one year: the preferred one is read, and the run says so
        context.log.info(f"read {export.path}; also present for {year} and not read: {', '.join(set_aside)} "
                         f"({family.asset_name} prefers EdSight's full export)")
    try:
        yield from validated(key, frame, export.path, export.header_labels, suite)
    except dg.Failure as failure:
        archive_export(path, family.name, year, archive, sha256=export.sha256, status=REJECTED,
                       reason=failure.description)
        raise
    version = archive_export(path, family.name, year, archive, sha256=export.sha256, status=LOADED)
    if version.repaired:
        context.log.warning(f"archive: {version.repaired}")
    context.log.info(f"read {len(frame)} rows from {export.path}; "
                     f"{'archived' if version.new else 'already archived'} as {version.path} (first seen {version.first_seen})")
    yield dg.Output(frame, data_version=dg.DataVersion(export.sha256[:16]),
                    metadata={**_year_metadata(export, frame, suite, validator, version, set_aside),
                              YEARLY_VERSION: export.sha256[:16]})


def load_years(context, family: ExportFamily, edsight: EdSightSource, archive, years: list[str]):
    """Every school year of a range read and validated before any is archived as loaded or stored; one refused
    year refuses the run, naming each refused year's file, row and column (``refresh`` then loads the family
    year by year, so only the bad year fails)."""
    key, listing = context.asset_key, {}
    read, refused, outcomes = {}, {}, {}
    for year in years:
        try:
            export, validator, path = fetch_and_read(context, family, edsight, archive, listing, year)
        except (EdSightFormatError, SourceError) as exc:
            refused[year] = outcomes[year] = f"could not be read, so it was not validated or stored: {exc}"
            continue
        frame = raw_frame(export)
        suite = family.suite_for(Path(export.path).name)
        report = validate_frame(frame, suite)
        outcomes[year] = report.message(export.path, export.header_labels)
        if not report.success:
            archive_export(path, family.name, year, archive, sha256=export.sha256, status=REJECTED,
                           reason=outcomes[year])
            refused[year] = outcomes[year]
            continue
        read[year] = (export, frame, suite, validator, path)
    yield years_check(key, outcomes, not refused, family.asset_name)
    if refused:
        raise dg.Failure(allow_retries=False, description=(
            f"{family.asset_name} [{years[0]} to {years[-1]}]: {len(refused)} of {len(years)} school years refused, "
            "nothing stored: " + "; ".join(f"{year}: {why}" for year, why in refused.items())))
    tables, metadata, versions = {}, {}, {}
    for year, (export, frame, suite, validator, path) in read.items():
        version = archive_export(path, family.name, year, archive, sha256=export.sha256, status=LOADED)
        if version.repaired:
            context.log.warning(f"archive: {version.repaired}")
        set_aside = getattr(listing["found"], "set_aside", {}).get(year, [])
        tables[year], versions[year] = frame, export.sha256[:16]
        # the year's own check outcome, on its partition (the run's one check result covers the range)
        metadata[year] = {**_year_metadata(export, frame, suite, validator, version, set_aside),
                          "expectations": outcomes[year]}
    context.log.info(f"read {', '.join(tables)}: {sum(len(t) for t in tables.values())} rows")
    yield from years_output(context, key, tables, metadata, versions)


def build_raw_asset(family: ExportFamily) -> dg.AssetsDefinition:
    """The raw asset of ``family``: one partition per school year; a run over a range reads every year first."""

    def raw_asset(context: dg.AssetExecutionContext, edsight: EdSightSource, storage: Storage):
        if ranged(context):
            yield from load_years(context, family, edsight, storage.archive(), list(context.partition_keys))
        else:
            yield from load_year(context, family, edsight, storage.archive(), context.partition_keys[0])

    raw_asset.__name__ = family.asset_name
    return table_asset(
        INGEST,
        f"{family.description}, as exported by EdSight (folder `{family.folder}/`), one partition per school year.",
        RAW_CODE_VERSION,
        partitions_def=YEAR_PARTITIONS[family.name],
        automation_condition=None,  # follows the exports: sensors and the schedule request it
    )(raw_asset)


RAW_ASSETS = [build_raw_asset(family) for family in FAMILIES.values()]


def reference_asset(name: str, path: Path, description: str, code_version: str, school_year: str, title: str,
                    columns: list[str]) -> dg.AssetsDefinition:
    """A reference table kept in data/reference/, loaded, validated with expectations/<name>.json and stored with
    its file's SHA-256 (the report cites it like an export)."""

    def reference(context: dg.AssetExecutionContext):
        frame = load_reference(path)
        sha = sha256_of(path)
        frame.attrs["source"] = {"file": path.name, "sha256": sha, "school_year": school_year, "title": title,
                                 "rows": len(frame)}
        yield from validated(context.asset_key, frame, str(path))
        yield dg.Output(
            frame,
            data_version=dg.DataVersion(sha[:16]),
            metadata={
                "source_file": dg.MetadataValue.path(str(path)),
                "source_sha256": sha,
                "districts": int(frame["district_code"].nunique()),
                "preview": preview(frame, rows=30, columns=columns),
            },
        )

    reference.__name__ = name
    return table_asset(INGEST, description, code_version)(reference)


alliance_cohort = reference_asset(
    "alliance_cohort", COHORT_REFERENCE,
    "The 30 Alliance Districts designated 2012-13 to 2016-17 (data/reference/, with provenance).", "cohort-1",
    "2012-13 to 2016-17", "Alliance Districts designated 2012-13 to 2016-17 (project reference table)",
    ["district_code", "district_name", "first_year", "last_year"],
)
study_identified_districts = reference_asset(
    "study_identified_districts", STUDY_REFERENCE,
    "The eight districts the 2017 UConn/CCER study identified (data/reference/), set beside this run's in the report.",
    "study-1", "2014-15 to 2015-16", "Districts identified by the 2017 UConn Neag School / CCER study (project reference table)",
    ["district_code", "district_name", "study_indicator_family"],
)


@table_asset(
    INGEST,
    "Every version of every raw export the pipeline has read, archived by SHA-256 with the time it was first seen, "
    "loaded or rejected (with why); is_latest marks the version the warehouse holds now (a republished year shows "
    "two rows), with the title and rows of that file.",
    "versions-3",
    ins={family.asset_name: dg.AssetIn(metadata={PROVENANCE_ONLY: True}) for family in FAMILIES.values()},
)
def raw_export_versions(context: dg.AssetExecutionContext, storage: Storage, **provenance: dict[str, dict]):
    root = storage.archive()
    try:
        frame = list_versions(root, stored_sources(provenance))
    except ArchiveError as exc:  # a copy that no longer matches its SHA-256, nothing to restore it from: named
        raise dg.Failure(description=f"raw_export_versions: {exc}", allow_retries=False) from exc
    yield from validated(context.asset_key, frame, str(root))
    republished = frame[~frame["is_latest"] & (frame["status"] == LOADED)][["family", "school_year"]].drop_duplicates()
    rejections = frame[frame["status"] == REJECTED]
    yield dg.Output(
        frame,
        metadata={
            "archive": dg.MetadataValue.path(str(root)),
            "versions": len(frame),
            "exports": int(frame[["family", "school_year"]].drop_duplicates().shape[0]),
            "republished": dg.MetadataValue.md(
                ", ".join(f"{f} {y}" for f, y in republished.itertuples(index=False)) or "none"
            ),
            "rejected": dg.MetadataValue.md(
                "\n".join(f"- {f} {y} `{sha[:12]}`: {why}" for f, y, sha, why in
                          rejections[["family", "school_year", "sha256", "reason"]].itertuples(index=False)) or "none"
            ),
            "preview": preview(frame, rows=40, columns=["family", "school_year", "sha256", "first_seen", "status", "is_latest"]),
        },
    )

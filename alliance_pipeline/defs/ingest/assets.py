"""Raw assets: one per export family, partitioned by school year, plus the cohort roster.

Validation runs inside the asset (``check_specs``): the suite's result is
reported as a blocking asset check, and a failing suite raises before the
output is returned, so the last good Parquet of that partition stays in place
and nothing downstream runs on the bad data.
"""


import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.metadata import preview
from alliance_pipeline.defs.common.partitions import YEAR_PARTITIONS
from alliance_pipeline.defs.common.resources import EdSightSource
from alliance_pipeline.edsight import EdSightExport, EdSightFormatError, read_export
from alliance_pipeline.edsight.families import FAMILIES, ExportFamily
from alliance_pipeline.edsight.sources import SourceError
from alliance_pipeline.reference import cohort_sha256, load_cohort
from alliance_pipeline.paths import COHORT_REFERENCE
from alliance_pipeline.validation import ValidationReport, validate_frame

CHECK_NAME = "expectations"
RAW_CODE_VERSION = "raw-1"


def raw_frame(export: EdSightExport) -> pd.DataFrame:
    """The stored raw table: the export's rows plus the school year."""
    frame = export.frame.copy()
    frame.insert(0, "school_year", pd.array([export.school_year] * len(frame), dtype="string"))
    return frame


def check_result(asset_key: dg.AssetKey, report: ValidationReport, source: str, labels: dict[str, str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=CHECK_NAME,
        passed=report.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=report.message(source, labels),
        metadata={
            "suite": dg.MetadataValue.path(f"expectations/{report.suite}.json"),
            "source_file": dg.MetadataValue.path(source),
            "expectations_evaluated": report.evaluated,
            "expectations_failed": len(report.failures),
            "failures": dg.MetadataValue.md(report.markdown(labels)),
        },
    )


def validated(asset_key: dg.AssetKey, frame: pd.DataFrame, suite: str, source: str, labels: dict[str, str]):
    """Yield the check result; raise a Failure naming file, column and rows if it failed."""
    report = validate_frame(frame, suite)
    yield check_result(asset_key, report, source, labels)
    if not report.success:
        raise dg.Failure(
            description=f"{asset_key.to_user_string()}: validation failed; the stored output was left unchanged.\n"
            + report.message(source, labels),
            metadata={"source_file": dg.MetadataValue.path(source), "failures": dg.MetadataValue.md(report.markdown(labels))},
        )


def build_raw_asset(family: ExportFamily) -> dg.AssetsDefinition:
    key = dg.AssetKey(family.asset_name)

    @dg.asset(
        name=family.asset_name,
        group_name="ingest",
        partitions_def=YEAR_PARTITIONS[family.name],
        check_specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                blocking=True,
                description=f"Great Expectations suite expectations/{family.asset_name}.json",
            )
        ],
        description=f"{family.description}, as exported by EdSight (folder `{family.folder}/`), one partition per school year.",
        code_version=RAW_CODE_VERSION,
        kinds={"pandas", "parquet"},
    )
    def raw_asset(context: dg.AssetExecutionContext, edsight: EdSightSource):
        year = context.partition_key
        try:
            path = edsight.fetch(family.name, year)
            export = read_export(path, expected_year=year)
        except (EdSightFormatError, SourceError) as exc:
            raise dg.Failure(description=f"{family.asset_name} [{year}]: {exc}") from exc
        frame = raw_frame(export)
        context.log.info(f"read {len(frame)} rows from {export.path}")
        yield from validated(key, frame, family.asset_name, export.path, export.header_labels)
        yield dg.Output(
            frame,
            data_version=dg.DataVersion(export.sha256[:16]),
            metadata={
                "source_file": dg.MetadataValue.path(export.path),
                "source_sha256": export.sha256,
                "report_title": export.title,
                "school_year": export.school_year,
                "school_year_read_from": export.school_year_source,
                "header_row": export.header_row,
                "rows_read": len(frame),
                "aggregate_rows": int(frame["is_aggregate"].sum()),
                "districts": export.districts,
                "suppressed_cells": export.suppressed_cells,
                "preview": preview(frame.drop(columns=["suppressed_columns"])),
            },
        )

    return raw_asset


RAW_ASSETS = [build_raw_asset(family) for family in FAMILIES.values()]


@dg.asset(
    group_name="ingest",
    check_specs=[dg.AssetCheckSpec(CHECK_NAME, asset="alliance_cohort", blocking=True,
                                   description="Great Expectations suite expectations/alliance_cohort.json")],
    description="The 30 Alliance Districts designated 2012-13 to 2016-17 (data/reference/, with provenance).",
    code_version="cohort-1",
    kinds={"pandas", "parquet"},
)
def alliance_cohort(context: dg.AssetExecutionContext):
    frame = load_cohort(COHORT_REFERENCE)
    yield from validated(dg.AssetKey("alliance_cohort"), frame, "alliance_cohort", str(COHORT_REFERENCE), {})
    sha = cohort_sha256()
    yield dg.Output(
        frame,
        data_version=dg.DataVersion(sha[:16]),
        metadata={
            "source_file": dg.MetadataValue.path(str(COHORT_REFERENCE)),
            "source_sha256": sha,
            "districts": int(frame["district_code"].nunique()),
            "preview": preview(frame, rows=30, columns=["district_code", "district_name", "first_year", "last_year"]),
        },
    )

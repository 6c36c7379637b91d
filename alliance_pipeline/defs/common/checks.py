"""Validation as blocking asset checks, and the decorator the table assets share.

Validation runs inside the asset (``check_specs``): the suite's result is
reported as the blocking check ``expectations``, and a failing suite raises
before the output is returned, so the last good Parquet stays in place and
nothing downstream runs on the bad data.
"""

import hashlib
import warnings

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.io_manager import frame_version
from alliance_pipeline.defs.common.metadata import YEARLY_VERSION, preview
from alliance_pipeline.validation import ValidationReport, validate_frame

CHECK_NAME = "expectations"
# A yearly table (sbac_district_scores) follows its raw partition, for any year: dynamic partitions have no "latest
# time window", so eager() follows a republished historical year too. The cross-year tables have no condition: they
# are rebuilt together, from one settled set of yearly versions, by cross_year_tables_sensor (defs/operations).
# Only a new data version counts as an update: re-reading identical bytes changes nothing downstream.
EAGER = dg.AutomationCondition.eager().replace("any_deps_updated", dg.AutomationCondition.any_deps_match(
    dg.AutomationCondition.data_version_changed() & ~dg.AutomationCondition.executed_with_root_target(),
).with_label("any_deps_data_changed"))
# One pool for every step: the instance limits it to the machine's cores (deploy/dagster-local.yaml).
POOL = "alliance_cpu"


def expectation_checks(name: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            CHECK_NAME, asset=name, blocking=True, description=f"Great Expectations suite expectations/{name}.json"
        )
    ]


def table_asset(group: str, description: str, code_version: str, **kwargs):
    """``@dg.asset`` for a pandas table stored as Parquet and checked by expectations/<name>.json.

    The project's automation policy is set here once: a yearly table updates when its raw partition was updated
    (``AutomationCondition.eager()``); raw assets pass ``automation_condition=None`` because they follow the
    exports; cross-year tables have none (``cross_year_tables_sensor`` rebuilds them together).

    A yearly table takes a range of school years in one run (``BackfillPolicy.single_run``: *Materialize all* and
    job-page backfills launch one run per family, not one per year; see ``ranged`` and ``by_year``).
    """
    kwargs.setdefault("automation_condition", EAGER if "partitions_def" in kwargs else None)
    kwargs.setdefault("backfill_policy", dg.BackfillPolicy.single_run() if "partitions_def" in kwargs else None)

    def wrap(fn):
        with warnings.catch_warnings():  # backfill_policy is beta in Dagster 1.13: said once here, not at every load
            warnings.filterwarnings("ignore", "Parameter `backfill_policy`", dg.BetaWarning)
            return dg.asset(
                name=fn.__name__,
                group_name=group,
                check_specs=expectation_checks(fn.__name__),
                code_version=code_version,
                kinds={"pandas", "parquet"},
                description=description,
                pool=POOL,
                **kwargs,
            )(fn)

    return wrap


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


def rejected(asset_key: dg.AssetKey, message: str, source: str, row: int | None, column: str | None,
             what: str = "the export") -> dg.AssetCheckResult:
    """The expectations check as failed for an input (``what``) that could not be read at all, so the Checks tab
    shows the failure and its reason (not "not evaluated")."""
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=CHECK_NAME, passed=False, severity=dg.AssetCheckSeverity.ERROR,
        description=f"{what} could not be read, so it was not validated or stored: {message}",
        metadata={"source_file": dg.MetadataValue.path(source),  # text, not numbers: a line, not a series to plot
                  "row": dg.MetadataValue.text("" if row is None else str(row)),
                  "column": dg.MetadataValue.text(column or "")},
    )


def validated(asset_key: dg.AssetKey, frame: pd.DataFrame, source: str | None = None,
              labels: dict[str, str] | None = None, suite: str | None = None):
    """Yield the check result of ``frame`` against ``suite`` (default: the asset's own, expectations/<name>.json);
    raise a Failure naming file (``source``, default "the <name> table"), column and rows if it failed."""
    name = asset_key.to_user_string()
    suite, source, labels = suite or name, source or f"the {name} table", labels or {}
    report = validate_frame(frame, suite)
    yield check_result(asset_key, report, source, labels)
    if not report.success:
        raise dg.Failure(
            allow_retries=False,  # the same data fails the same way
            description=f"{asset_key.to_user_string()}: validation failed; the stored output was left unchanged.\n"
            + report.message(source, labels),
            metadata={"source_file": dg.MetadataValue.path(source), "failures": dg.MetadataValue.md(report.markdown(labels))},
        )


def unavailable(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    frame = frame.copy()
    frame.attrs["unavailable"] = reason
    return frame


def reason_unavailable(frame: pd.DataFrame | None) -> str | None:
    if frame is None:
        return "not computed"
    return frame.attrs.get("unavailable")


def finish(context, frame: pd.DataFrame, metadata: dict, preview_columns=None):
    """Validate (unless unavailable), log, and return the output of the asset ``context`` computes, with readable
    metadata."""
    key = context.asset_key
    name = key.to_user_string()
    reason = reason_unavailable(frame)
    meta = {"available": reason is None, **metadata}
    if reason:
        context.log.warning(f"{name} is unavailable: {reason}")
        meta["unavailable_reason"] = reason
        # Not a green check: a WARN failure (it does not block what can still be computed downstream).
        yield dg.AssetCheckResult(
            asset_key=key, check_name=CHECK_NAME, passed=False, severity=dg.AssetCheckSeverity.WARN,
            description=f"unavailable: {name} could not be computed ({reason}); it is stored empty with the reason, "
            "and the report says so",
            metadata={"available": False, "unavailable_reason": reason},
        )
    else:
        yield from validated(key, frame)
        meta["preview"] = preview(frame, columns=preview_columns)
    # Equal tables get equal data versions: a re-run that changes nothing does not look like news downstream.
    yield dg.Output(frame, metadata=meta, data_version=dg.DataVersion(frame_version(frame)))


# A run over several school years of one family (a partition range: ``refresh``'s one run per family) stores one
# table per year. Each year is validated before any is written; one check result covers them all (a blocking check
# is one per step), and each year's own metadata, with its version (``YEARLY_VERSION``), goes on its partition.


def ranged(context) -> bool:
    """Whether this step materializes several partitions (a partition range) rather than one."""
    return context.has_partition_key_range and len(context.partition_keys) > 1


def by_year(context, value: pd.DataFrame | dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A yearly asset's input as {school year: table}: a range's dict, or the one year's table."""
    return value if isinstance(value, dict) else {context.partition_keys[0]: value}


def years_check(asset_key: dg.AssetKey, outcomes: dict[str, str], passed: bool, suite: str) -> dg.AssetCheckResult:
    """One check result for the school years of a range: ``outcomes`` year -> what its validation said."""
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=CHECK_NAME, passed=passed, severity=dg.AssetCheckSeverity.ERROR,
        description="\n".join(f"{year}: {outcome}" for year, outcome in outcomes.items()),
        metadata={"suite": dg.MetadataValue.path(f"expectations/{suite}.json"),
                  "school_years": ", ".join(outcomes)},
    )


def years_output(context, asset_key: dg.AssetKey, tables: dict[str, pd.DataFrame], metadata: dict[str, dict],
                 versions: dict[str, str]):
    """The outputs of a range: each year's metadata (and version) on its partition, the tables as one dict the IO
    manager writes one file per year."""
    for year, frame in tables.items():
        context.add_asset_metadata({**metadata[year], YEARLY_VERSION: versions[year], "dagster/row_count": len(frame)},
                                   asset_key=asset_key, partition_key=year)
    combined = hashlib.sha256("".join(f"{y}={v};" for y, v in sorted(versions.items())).encode()).hexdigest()[:16]
    yield dg.Output(tables, metadata={"school_years": ", ".join(tables)}, data_version=dg.DataVersion(combined))


def finish_years(context, tables: dict[str, pd.DataFrame], metadata: dict[str, dict], preview_columns=None):
    """``finish`` for a yearly table over a range of school years (see ``years_output``); a single year is
    ``finish`` itself."""
    if not ranged(context):
        (year, frame), = tables.items()
        yield from finish(context, frame, metadata[year], preview_columns)
        return
    key = context.asset_key
    name = key.to_user_string()
    reports = {year: validate_frame(frame, name) for year, frame in tables.items()}
    said = {year: report.message(f"the {name} table") for year, report in reports.items()}
    passed = all(report.success for report in reports.values())
    yield years_check(key, said, passed, name)
    if not passed:
        raise dg.Failure(allow_retries=False, description=f"{name}: validation failed; the stored outputs were left "
                         "unchanged.\n" + "\n".join(f"{year}: {said[year]}" for year, report in reports.items()
                                                     if not report.success))
    yield from years_output(context, key, tables, {
        year: {"available": True, **metadata[year], "preview": preview(tables[year], columns=preview_columns),
               "expectations": said[year]} for year in tables}, {year: frame_version(frame) for year, frame in tables.items()})

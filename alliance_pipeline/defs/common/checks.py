"""Validation as blocking asset checks, and the decorator the table assets share.

Validation runs inside the asset (``check_specs``): the suite's result is
reported as the blocking check ``expectations``, and a failing suite raises
before the output is returned, so the last good Parquet stays in place and
nothing downstream runs on the bad data.
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.io_manager import frame_version
from alliance_pipeline.defs.common.metadata import preview
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
    """
    kwargs.setdefault("automation_condition", EAGER if "partitions_def" in kwargs else None)

    def wrap(fn):
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


def validated(asset_key: dg.AssetKey, frame: pd.DataFrame, suite: str, source: str, labels: dict[str, str]):
    """Yield the check result; raise a Failure naming file, column and rows if it failed."""
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


def finish(context, name: str, frame: pd.DataFrame, metadata: dict, preview_columns=None):
    """Validate (unless unavailable), log, and return the output with readable metadata."""
    reason = reason_unavailable(frame)
    meta = {"available": reason is None, **metadata}
    if reason:
        context.log.warning(f"{name} is unavailable: {reason}")
        meta["unavailable_reason"] = reason
        # Not a green check: a WARN failure (it does not block what can still be computed downstream).
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey(name), check_name=CHECK_NAME, passed=False, severity=dg.AssetCheckSeverity.WARN,
            description=f"unavailable: {name} could not be computed ({reason}); it is stored empty with the reason, "
            "and the report says so",
            metadata={"available": False, "unavailable_reason": reason},
        )
    else:
        yield from validated(dg.AssetKey(name), frame, name, f"the {name} table", {})
        meta["preview"] = preview(frame, columns=preview_columns)
    # Equal tables get equal data versions: a re-run that changes nothing does not look like news downstream.
    yield dg.Output(frame, metadata=meta, data_version=dg.DataVersion(frame_version(frame)))

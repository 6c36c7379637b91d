"""Great Expectations 1.x validation of pandas frames against suites in ``expectations/``.

Each dataset has one suite file, ``expectations/<dataset>.json``, in GX 1.x's
suite format (``name``, ``expectations`` with ``type``/``kwargs``/``meta``).
Validation runs on an ephemeral context with a whole-dataframe batch; the
result is turned into a report a person can act on: which expectation failed,
on which column (with the export's own header text), how many rows, and the
export rows (``source_row``) with their values.

GX is imported lazily: it costs seconds of import time and the Dagster code
location should load fast.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from alliance_pipeline.paths import EXPECTATIONS_DIR

SAMPLE_ROWS = 5
TEXT_KINDS = {"string", "empty", "integer", "floating", "mixed-integer-float", "boolean", "decimal"}
# A batch that passes needs only each expectation's success; the rows of a failure are asked for only then.
PASS_FORMAT = {"result_format": "BOOLEAN_ONLY"}
FAIL_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": ["source_row"],
               "partial_unexpected_count": SAMPLE_ROWS}


@dataclass(frozen=True)
class ExpectationFailure:
    expectation: str
    column: str | None
    description: str
    unexpected_count: int | None
    element_count: int | None
    samples: tuple[dict, ...] = ()

    def sentence(self, labels: dict[str, str] | None = None) -> str:
        where = ""
        if self.column:
            label = (labels or {}).get(self.column)
            where = f" column {self.column!r}" + (f" ({label!r} in the export)" if label and label != self.column else "")
        text = f"{self.expectation}{where}: {self.description}"
        if self.unexpected_count:
            text += f"; {self.unexpected_count} of {self.element_count} rows fail"
        if self.samples:
            shown = ", ".join(
                "row " + str(sample.get("source_row", "?"))
                + (f" = {sample['value']!r}" if "value" in sample else "")
                + (f" ({sample['key']})" if sample.get("key") else "")
                for sample in self.samples
            )
            text += f", e.g. {shown}"
        return text


@dataclass(frozen=True)
class ValidationReport:
    suite: str
    success: bool
    evaluated: int
    failures: tuple[ExpectationFailure, ...] = field(default=())

    def message(self, source: str | None = None, labels: dict[str, str] | None = None) -> str:
        head = f"suite {self.suite!r}"
        if source:
            head += f" on {source}"
        if self.success:
            return f"{head}: all {self.evaluated} expectations met"
        lines = [f"{head}: {len(self.failures)} of {self.evaluated} expectations failed"]
        lines += [f"  - {failure.sentence(labels)}" for failure in self.failures]
        return "\n".join(lines)

    def markdown(self, labels: dict[str, str] | None = None) -> str:
        if self.success:
            return f"All {self.evaluated} expectations of `{self.suite}` met."
        rows = ["| expectation | column | failing rows | examples (export row = value) |", "|---|---|---|---|"]
        for failure in self.failures:
            examples = "; ".join(
                f"{sample.get('source_row', '?')} = {sample.get('value', '')}" for sample in failure.samples
            )
            rows.append(
                f"| {failure.expectation} | {failure.column or ''} | "
                f"{failure.unexpected_count if failure.unexpected_count is not None else '-'} | {examples or failure.description} |"
            )
        return "\n".join(rows)


def suite_path(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


@lru_cache(maxsize=None)
def load_suite_definition(name: str) -> dict:
    path = suite_path(name)
    with open(path, encoding="utf-8") as handle:
        definition = json.load(handle)
    if definition.get("name") != name:
        raise ValueError(f"{path}: suite name {definition.get('name')!r} does not match its file name")
    return definition


@lru_cache(maxsize=1)
def _gx_batch_definition():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    except Exception:  # progress bars are cosmetic; older configs may refuse the setting
        pass
    source = context.data_sources.add_pandas("alliance_pipeline")
    asset = source.add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


@lru_cache(maxsize=None)
def _suite(name: str):
    """The suite as a GX object, built once per process from its file."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    definition = load_suite_definition(name)
    expectations = [
        ExpectationConfiguration(type=item["type"], kwargs=item.get("kwargs", {}), meta=item.get("meta", {})).to_domain_obj()
        for item in definition["expectations"]
    ]
    return gx.ExpectationSuite(name=name, expectations=expectations)


def _gx_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """GX-friendly copy: list cells are not hashable, so they become text."""
    out = frame.copy()
    for column in out.columns:
        # infer_dtype (C) tells text and number columns apart from mixed ones; only those are looked at cell by cell
        if out[column].dtype == object and pd.api.types.infer_dtype(out[column], skipna=True) not in TEXT_KINDS:
            out[column] = _lists_as_text(out[column])
    if "source_row" not in out:
        out["source_row"] = pd.array(range(1, len(out) + 1), dtype="Int64")
    return out.reset_index(drop=True)


def _lists_as_text(column: pd.Series) -> pd.Series:
    """A column of lists as the lists' values joined by commas (arrow does it for a column of one list type;
    a column that mixes lists with other values is looked at cell by cell)."""
    try:
        lists = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return column.map(lambda v: ",".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    if not (pa.types.is_list(lists.type) or pa.types.is_large_list(lists.type)):
        return column
    joined = pc.binary_join(pc.cast(lists, pa.list_(pa.string())), ",")
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=column.index, dtype=object)


def _plain(value):
    if hasattr(value, "item"):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _failure(result) -> ExpectationFailure:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    column = kwargs.get("column")
    columns = kwargs.get("column_list")
    meta = dict(config.meta or {})
    description = meta.get("notes") or meta.get("description") or _describe(config.type, kwargs)
    details = result.result or {}
    samples: list[dict] = []
    for entry in (details.get("unexpected_index_list") or [])[:SAMPLE_ROWS]:
        if isinstance(entry, dict):
            sample = {"source_row": _plain(entry.get("source_row"))}
            if column and column in entry:
                sample["value"] = _plain(entry[column])
            elif columns:
                sample["key"] = ", ".join(f"{c}={_plain(entry.get(c))}" for c in columns if c in entry)
            samples.append(sample)
    if not samples and details.get("observed_value") is not None:
        description += f" (observed {details['observed_value']!r})"
    if result.exception_info and result.exception_info.get("raised_exception"):
        description += f" [could not be evaluated: {result.exception_info.get('exception_message')}]"
    return ExpectationFailure(
        expectation=config.type,
        column=column or (", ".join(columns) if columns else None),
        description=description,
        unexpected_count=details.get("unexpected_count"),
        element_count=details.get("element_count"),
        samples=tuple(samples),
    )


def _describe(kind: str, kwargs: dict) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("column", "column_list")}
    return f"{kind.removeprefix('expect_').replace('_', ' ')} {shown}" if shown else kind.removeprefix("expect_").replace("_", " ")


def validate_frame(frame: pd.DataFrame, suite_name: str) -> ValidationReport:
    """Run the suite ``expectations/<suite_name>.json`` on ``frame``."""
    suite = _suite(suite_name)
    data = _gx_frame(frame)
    batch = _gx_batch_definition().get_batch(batch_parameters={"dataframe": data})
    result = batch.validate(suite, result_format=PASS_FORMAT)
    if not result.success:  # again, with the failing rows (the message names them)
        result = batch.validate(suite, result_format=FAIL_FORMAT)
    failures = [_failure(item) for item in result.results if not item.success]
    rules = load_suite_definition(suite_name).get("meta", {}).get("rank_columns", [])
    for rule in rules:
        problem = rank_problem(frame, rule["rank"], rule["value"], rule.get("by"))
        if problem:
            failures.append(problem)
    return ValidationReport(
        suite=suite_name, success=not failures, evaluated=len(result.results) + len(rules), failures=tuple(failures)
    )


def rank_problem(frame: pd.DataFrame, rank: str, value: str, by: str | list[str] | None = None) -> ExpectationFailure | None:
    """Ranks must be 1..k without gaps except after ties ("min" method, descending values).

    The suite names these rules in ``meta.rank_columns``: GX has no expectation
    for rank integrity, so this one is evaluated here and reported alike.
    """
    if rank not in frame or value not in frame:
        return None
    ranked = frame[frame[rank].notna()]
    values = ranked[value].astype(float)
    keys = [by] if isinstance(by, str) else list(by or [])
    # rank "min", descending: 1 + the number of larger values in the group (a missing value ranks first)
    grouped = values.groupby([ranked[key] for key in keys]) if keys else values
    expected = grouped.rank(method="min", ascending=False).fillna(1)
    wrong = ranked[ranked[rank].astype(float) != expected]
    if keys:
        wrong = wrong.sort_values(keys, kind="stable")  # reported group by group, as groupby orders them
    rows = wrong["source_row"] if "source_row" in wrong else pd.Series(wrong.index, index=wrong.index)
    labels = (wrong[keys[0]] if len(keys) == 1 else pd.Series(list(zip(*(wrong[k] for k in keys))), index=wrong.index)) \
        if keys else pd.Series([None] * len(wrong), index=wrong.index)
    bad = [{"source_row": row, "value": int(got), "key": f"{by}={label}" if keys else ""}
           for row, got, label in zip(rows, wrong[rank], labels)]
    if not bad:
        return None
    return ExpectationFailure(
        expectation="ranks_are_dense_descending_min",
        column=rank,
        description=f"ranks of {value!r} must run 1..k (descending, ties share the lowest rank, no other gaps)",
        unexpected_count=len(bad),
        element_count=len(ranked),
        samples=tuple(bad[:SAMPLE_ROWS]),
    )

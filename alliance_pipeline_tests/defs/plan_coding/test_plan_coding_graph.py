"""Plan coding through the whole graph (methodology section 12): the sample refresh's plan tables and report section,
the real exports' identified districts beside the others, a bad coding sheet refused like a bad export, and the
sensor that follows the plans folder."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import dagster as dg
import openpyxl
import pandas as pd
import pytest

from alliance_pipeline import paths
from alliance_pipeline.archive import list_versions
from alliance_pipeline.edsight.reader import sha256_of
from alliance_pipeline.plans.codebook import load_codebook
from alliance_pipeline.plans.indicators import plan_indicators
from alliance_pipeline.plans.sheets import find_sheets, read_plan_year
from alliance_pipeline.reference import load_cohort
from alliance_pipeline_tests.helpers import copy_of_refresh, pipeline_defs, snapshot

PLAN_TABLES = ["plan_codebook", "plan_codes", "intercoder_reliability", "plan_indicators", "plan_indicators_compared"]


def test_the_sample_refresh_codes_every_plan_and_reports_it(sample_refresh):
    raw = {year: sample_refresh.table("raw_plan_codes", year) for year in ("2012-13", "2013-14", "2014-15", "2015-16")}
    assert sum(frame["sheet_file"].nunique() for frame in raw.values()) == 156
    for name in ["raw_plan_codes", *PLAN_TABLES]:
        assert sample_refresh.check_status(name) == "SUCCEEDED", name
    # the stored indicators are the pure function's on the sheets the raw partitions hold
    stored = sample_refresh.table("plan_indicators")
    found, _ = find_sheets(paths.SAMPLE_PLANS_DIR)
    sheets = pd.concat([read_plan_year(files, load_codebook(), load_cohort()) for files in found.values()],
                       ignore_index=True)
    pd.testing.assert_frame_equal(stored.reset_index(drop=True), plan_indicators(sheets, load_codebook()),
                                  check_dtype=False)
    assert len(stored) == 120 and sample_refresh.table("plan_codebook").shape[0] == 55
    metadata = sample_refresh.metadata("plan_codebook")
    assert metadata["codes"].value == 55 and metadata["corrections"].value > 10
    compared = sample_refresh.table("plan_indicators_compared")
    identified = set(sample_refresh.table("identified_districts")["district_code"])
    assert compared.loc[compared["plan_year"] == "all", "identified_districts"].max() == len(identified)
    # the report: its own section, saying these are the sample's plans, and the tables as CSV and in the workbook
    latest = sample_refresh.reports / "latest"
    html = (latest / "appendix-b.html").read_text(encoding="utf-8")
    assert 'id="plans"' in html and "generated sample, not real coded plans" in html
    assert "Intercoder reliability, code by code" in html and "Descriptive, not causal" in html
    for stem in ("plan_framework", "plan_districts", "plan_reliability"):
        assert (latest / "tables" / f"{stem}.csv").is_file(), stem
    book = openpyxl.load_workbook(latest / "appendix-b.xlsx", read_only=True)
    assert {"plan_framework", "plan_districts", "plan_reliability"} <= set(book.sheetnames)
    districts = pd.read_csv(latest / "tables" / "plan_districts.csv", dtype={"district_code": str})
    assert len(districts) == 30 and set(districts.loc[districts["identified"] == "yes", "district_code"]) == identified
    # every sheet read is archived by SHA-256, read-only, with its original name (section 12, like every export)
    versions = list_versions(sample_refresh.root / "plans-archive")
    assert len(versions) == 156 and set(versions["family"]) == {"plan_sheets"} and set(versions["status"]) == {"loaded"}
    named = {path.name: path for files in found.values() for path in files}
    for row in versions.itertuples():
        copy = Path(row.archive_path)
        assert copy.stat().st_mode & 0o222 == 0 and sha256_of(copy) == row.sha256 == copy.stem
        assert copy.read_bytes() == named[row.original_name].read_bytes()


@pytest.mark.real_exports
def test_real_exports_without_plan_sheets_report_no_generated_plans(real_refresh):
    """Plans come only from sheets the user gave: beside the real exports, with no plans folder set, the bundled
    (generated) sheets are not read, and the report says that no coded plans were given."""
    assert not real_refresh.instance.get_dynamic_partitions("plan_years")
    assert real_refresh.defs.resources["plans"].folder() is None
    for name in ("plan_codes", "plan_indicators", "plan_indicators_compared"):
        assert real_refresh.table(name).empty and "no coded plan sheets were given" in real_refresh.table(name).attrs["unavailable"]
    html = (real_refresh.reports / "latest" / "appendix-b.html").read_text(encoding="utf-8")
    section = html.split('id="plans"', 1)[1].split("</section>", 1)[0]
    assert "No coded plans were given" in section and "coded by" not in section and "generated" not in section
    assert "Generated data, not real results" not in html  # every export real: no generated-data notice


@pytest.fixture(scope="module")
def good_plans(tmp_path_factory, sample_refresh):
    """The sample refresh, copied, reading a copy of the coding sheets."""
    for refreshed, source, _ in copy_of_refresh(sample_refresh, paths.SAMPLE_EDSIGHT_DIR, tmp_path_factory, "plans"):
        plans = refreshed.root / "plans"
        shutil.copytree(paths.SAMPLE_PLANS_DIR, plans)
        yield refreshed, plans, pipeline_defs(refreshed.root, source, plans_dir=plans)


def _run_plan_year(defs, instance, year):
    return defs.resolve_job_def("single_plan_year").execute_in_process(instance=instance, partition_key=year,
                                                                      raise_on_error=False)


def tick(defs, instance, cursor=None):
    with dg.build_sensor_context(instance=instance, resources=dict(defs.resources), definitions=defs,
                                 cursor=cursor) as context:
        return defs.resolve_sensor_def("coded_plan_sheets_sensor")(context)


def test_a_bad_coding_sheet_is_refused_with_file_row_and_column_and_changes_nothing(good_plans):
    from alliance_pipeline.refresh import _failure_message

    refreshed, plans, defs = good_plans
    path = sorted(plans.glob("plan-coding__*__2014-15__*.csv"))[0]
    original = path.read_bytes()
    lines = original.decode("utf-8").splitlines(keepends=True)
    header = lines[0].strip().split(",")
    cells = next(csv.reader([lines[2]]))
    cells[header.index("support_provider")] = "teachers"  # a target-group code under the support provider
    bad = lines[:2] + [",".join(f'"{c}"' if "," in c else c for c in cells) + "\r\n"] + lines[3:]
    roots = (refreshed.warehouse, refreshed.reports)
    before = snapshot(*roots)
    try:
        path.write_text("".join(bad), encoding="utf-8", newline="")
        result = _run_plan_year(defs, refreshed.instance, "2014-15")
        # the sensor would have asked for that run once, and not again while the bad sheet stays
        first = tick(defs, refreshed.instance)
        assert [r.partition_key for r in first.run_requests] == ["2014-15"]
        assert not tick(defs, refreshed.instance, first.cursor).run_requests
    finally:
        path.write_bytes(original)
    assert not result.success
    message = _failure_message(result)
    assert path.name in message and "row 3" in message and "column 'support_provider'" in message, message
    assert "code 'teachers' belongs to topic target_group, not support_provider" in message
    versions = list_versions(refreshed.root / "plans-archive")
    refused = versions[(versions["original_name"] == path.name) & (versions["status"] == "rejected")]
    assert len(refused) == 1 and "support_provider" in refused["reason"].iloc[0]  # the bad bytes kept, with why
    assert Path(refused["archive_path"].iloc[0]).read_bytes() == "".join(bad).encode("utf-8")
    assert snapshot(*roots) == before  # every earlier Parquet file and report byte-identical
    assert refreshed.check_status("raw_plan_codes") == "FAILED"
    # the good file back: the sensor loads the year again on its own (the failed run must not hold the report back)
    recovery = tick(defs, refreshed.instance, first.cursor)
    assert [r.partition_key for r in recovery.run_requests] == ["2014-15"]
    assert _run_plan_year(defs, refreshed.instance, "2014-15").success
    assert not tick(defs, refreshed.instance, recovery.cursor).run_requests
    assert snapshot(*roots) == before  # the same sheets: the same Parquet


def test_the_plans_sensor_registers_and_loads_what_changed(good_plans):
    refreshed, plans, defs = good_plans
    assert not tick(defs, refreshed.instance).run_requests  # the refresh loaded every plan year
    source = sorted(plans.glob("plan-coding__*__2015-16__coder-a.csv"))[0]
    added = plans / source.name.replace("2015-16", "2016-17")
    added.write_text(source.read_text(encoding="utf-8").replace("2015-16", "2016-17"), encoding="utf-8")
    edited = sorted(plans.glob("plan-coding__*__2013-14__*.csv"))[0]
    kept = edited.read_bytes()
    edited.write_bytes(kept + b"\r\n")  # an edit that changes the bytes, not the codes: the year is loaded again
    try:
        result = tick(defs, refreshed.instance)
        assert sorted(request.partition_key for request in result.run_requests) == ["2013-14", "2016-17"]
        [add] = result.dynamic_partitions_requests
        assert add.partition_keys == ["2016-17"]
        refreshed.instance.add_dynamic_partitions("plan_years", ["2016-17"])
        assert _run_plan_year(defs, refreshed.instance, "2016-17").success
        assert not [r for r in tick(defs, refreshed.instance).run_requests if r.partition_key == "2016-17"]
    finally:
        added.unlink()
        edited.write_bytes(kept)
    result = tick(defs, refreshed.instance)
    assert [request.partition_keys for request in result.dynamic_partitions_requests] == [["2016-17"]]  # removed
    refreshed.instance.delete_dynamic_partition("plan_years", "2016-17")

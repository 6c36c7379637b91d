"""A corpus of bad exports, generated here from the real exports and the sample (never committed), each rejected
clearly, plus HTTP faults from a local server.

A private copy of the session's refresh of ../shared/edsight (and of the sample, which has the
CMT family the public exports lack), then, for every case: corrupt one
file of the copy, run that family's school year as the UI's year job would, and
assert that the failure names the file, the row (export line) and the column where
they exist, that the expectations check shows *failed* (not "not evaluated"), that
the rejected bytes are archived as ``rejected`` with the reason, and that every
earlier Parquet file, report file and archive entry is byte-identical afterwards.
The file is put back after each case.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zipfile
from dataclasses import dataclass
from typing import Callable

import dagster as dg
import pandas as pd
import pytest

from alliance_pipeline.archive import list_versions
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.refresh import refresh
from alliance_pipeline_tests.helpers import export_path, snapshot

pytestmark = pytest.mark.real_exports

SBAC = ("sbac_district", "2015-16")
GROWTH = ("sbac_growth", "2015-16")
ENROLLMENT = ("enrollment", "2015-16")
ACCOUNTABILITY = ("accountability", "2015-16")
STATE = ("sbac_state", "2015-16")
RACE = ("sbac_subgroup_race", "2015-16")
ELL = ("sbac_subgroup_ell", "2015-16")


# --- corruptions: bytes -> (bytes, the export line corrupted or None) ----------------------------
# The file is parsed with the csv module, one record changed, and written back as EdSight writes it
# (quoted, CRLF); the reader reads the rewritten good file exactly as the original.

def _records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _write(records: list[list[str]]) -> tuple[bytes, list[int]]:
    """The records as CSV and the line each starts on (a quoted header cell may span lines)."""
    out, starts, line = io.StringIO(), [], 1
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for record in records:
        starts.append(line)
        before = out.tell()
        writer.writerow(record)
        line += out.getvalue()[before:].count("\n")
    return out.getvalue().encode("utf-8"), starts


def _key(cell: str) -> str:
    return "".join(cell.split()).lower()


def _header(records: list[list[str]]) -> int:
    keys = ("districtcode", "reportingdistrictcode", "subject")
    return next(i for i, r in enumerate(records) if any(_key(c) in keys for c in r))


def _column(records: list[list[str]], key: str) -> int:
    header = [_key(cell) for cell in records[_header(records)]]
    return next(i for i, cell in enumerate(header) if key in cell)


def change_record(offset: int, change: Callable[[list[list[str]], list[str]], list[str]]):
    """Change the data record ``offset`` records below the header: ``change(records, cells) -> cells``."""
    def corrupt(data: bytes):
        records = _records(data)
        index = _header(records) + 1 + offset
        records[index] = change(records, list(records[index]))
        written, starts = _write(records)
        return written, starts[index]
    return corrupt


def set_cell(key: str, value: str, offset: int = 3):
    def change(records, cells):
        cells[_column(records, key)] = value
        return cells
    return change_record(offset, change)


def whole(transform: Callable[[bytes], bytes]):
    return lambda data: (transform(data), None)


def rename_column(key: str):
    """The header cell of a required column renamed, so the export lacks that column."""
    def transform(data: bytes) -> bytes:
        records = _records(data)
        records[_header(records)][_column(records, key)] = "Renamed Column"
        return _write(records)[0]
    return whole(transform)


def duplicate_row(offset: int = 3):
    def corrupt(data: bytes):
        records = _records(data)
        index = _header(records) + 1 + offset
        records.insert(index + 1, list(records[index]))
        written, starts = _write(records)
        return written, starts[index + 1]
    return corrupt


def truncate_row(offset: int = 3):
    return change_record(offset, lambda records, cells: cells[: len(cells) // 2])


def retitle(year: str):
    return whole(lambda data: data.replace(b"2015-16", year.encode(), 1))


def second_name(offset: int = 12):
    """A row of a district under another name (rows pasted from elsewhere)."""
    def change(records, cells):
        cells[_name_column(records)] = "Pasted Elsewhere School District"
        return cells
    return change_record(offset, change)


def _name_column(records: list[list[str]]) -> int:
    header = [_key(cell) for cell in records[_header(records)]]
    return next(i for i, cell in enumerate(header) if cell in ("district", "rptngdistrictname", "districtname"))


def blank_code_and_name(offset: int = 3):
    def change(records, cells):
        cells[_column(records, "districtcode")] = ""
        cells[_name_column(records)] = ""
        return cells
    return change_record(offset, change)


def zipped(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("export.csv", data)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    name: str
    export: tuple[str, str]  # (family, school year)
    corrupt: Callable[[bytes], tuple[bytes, int | None]]
    expect: tuple[str, ...]  # substrings of the failure message besides the file name
    row: bool = True  # the message names the export line the corruption is on


CASES = [
    # the reader: structure
    Case("truncated row", SBAC, truncate_row(), ("cells but the header has",)),
    Case("extra cell", SBAC, change_record(5, lambda r, c: c + ["surplus"]), ("cells but the header has",)),
    Case("missing required column", SBAC, rename_column("averagevss"), ("average_vss",), row=False),
    Case("empty file", SBAC, whole(lambda data: b""), ("no header row",), row=False),
    Case("title rows only", SBAC, whole(lambda data: b"".join(data.splitlines(keepends=True)[:3])), ("no header row",),
         row=False),
    Case("HTML page saved as the CSV", SBAC, whole(lambda data: b"<!DOCTYPE html><html><body>Sign in</body></html>\n"),
         ("no header row",), row=False),
    Case("gzip file named .csv", SBAC, whole(gzip.compress), ("gzip archive", "row 1")),
    Case("xlsx/zip file named .csv", ENROLLMENT, whole(zipped), ("zip archive", "row 1")),
    Case("NUL bytes", GROWTH, whole(lambda data: data[:400] + b"\x00\x00" + data[400:]), ("NUL bytes",), row=False),
    Case("bytes invalid in UTF-8 and CP1252", SBAC, whole(lambda data: data.replace(b"Andover", b"And\x81ver", 1)),
         ("0x81", "UTF-8 or Windows-1252"), row=False),
    # the reader: cells
    Case("non-numeric count", SBAC, set_cell("totalnumbertested", "lots"), ("expected a number", "Tested")),
    Case("fractional count", SBAC, set_cell("totalnumbertested", "12.5"), ("whole number",)),
    Case("non-numeric scale score", SBAC, set_cell("averagevss", "n/a!"), ("expected a number", "VSS")),
    Case("malformed district code", SBAC, set_cell("districtcode", "ABC"), ("District Code",)),
    # (a named row with a blank code is real data since 2021-22, methodology section 11: kept, flagged code_missing)
    Case("blank district code and name", SBAC, blank_code_and_name(), ("district code is blank and so is the district name",)),
    Case("one code, two names", SBAC, second_name(), ("listed as", "Pasted Elsewhere", "District")),
    Case("title year disagrees", SBAC, retitle("2014-15"), ("school year 2014-15", "loaded for 2015-16", "row 1")),
    Case("non-numeric growth rate", GROWTH, set_cell("growthrate", "high"), ("expected a number",)),
    Case("growth title year disagrees", GROWTH, retitle("2016-17"), ("school year 2016-17", "row 1")),
    Case("growth: one code, two names", GROWTH, second_name(2), ("listed as",)),
    Case("enrollment: non-numeric count", ENROLLMENT, set_cell("count", "many"), ("expected a number",)),
    Case("enrollment: district listed twice", ENROLLMENT, duplicate_row(2), ("district_code",)),
    Case("accountability: mixed FallOfYear", ACCOUNTABILITY, set_cell("fallofyear", "2016", offset=4),
         ("several years", "FallOfYear")),
    Case("accountability: non-numeric index", ACCOUNTABILITY, set_cell("outcomeratepct", "low"), ("expected a number",)),
    Case("state: non-numeric scale score", STATE, set_cell("averagevss", "x", offset=1), ("expected a number",)),
    Case("race subgroup: non-numeric count", RACE, set_cell("totalnumbertested", "?!", offset=2), ("expected a number",)),
    Case("race subgroup: one code, two names", RACE, second_name(3), ("listed as",)),
    Case("ELL subgroup: truncated row", ELL, truncate_row(2), ("cells but the header has",)),
    # the expectations suites (GX): the message names the column and the export rows
    Case("negative count", SBAC, set_cell("totalnumbertested", "-5"), ("total_tested",)),
    Case("scale score out of range", SBAC, set_cell("averagevss", "9999"), ("average_vss",)),
    Case("percent above 100", SBAC, set_cell("smarterbalancedparticipationrate", "180.0"), ("participation",)),
    Case("duplicated row", SBAC, duplicate_row(), ("unique",)),
    Case("enrollment: negative count", ENROLLMENT, set_cell("count", "-40"), ("count",)),
    Case("accountability: index above 100", ACCOUNTABILITY, set_cell("outcomeratepct", "180.5"), ("outcome",)),
]


CMT = ("cmt_district", "2012-13")
SAMPLE_CASES = [  # the CMT export format (sample only) and more subgroup families
    Case("CMT: non-numeric scale score", CMT, set_cell("averagescalescore", "n/a?", offset=4), ("expected a number",)),
    Case("CMT: truncated row", CMT, truncate_row(6), ("cells but the header has",)),
    Case("CMT: title year disagrees", CMT, whole(lambda data: data.replace(b"2012-13", b"2011-12", 1)),
         ("school year 2011-12", "row 1")),
    Case("CMT: one code, two names", CMT, second_name(8), ("listed as",)),
    Case("meal subgroup: non-numeric count", ("sbac_subgroup_meal", "2016-17"), set_cell("totalnumbertested", "x", offset=2),
         ("expected a number",)),
    Case("special education subgroup: truncated row", ("sbac_subgroup_special_education", "2014-15"), truncate_row(1),
         ("cells but the header has",)),
]


def run_year(defs, instance, family: str, year: str):
    """What the UI's single_year_<family> job runs for one school year."""
    job = defs.resolve_job_def(f"single_year_{family}")
    return job.execute_in_process(instance=instance, partition_key=year, raise_on_error=False)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_export_is_rejected_clearly_and_changes_nothing(real_copy, case: Case):
    check_rejected(real_copy, case)


@pytest.mark.parametrize("case", SAMPLE_CASES, ids=[case.name for case in SAMPLE_CASES])
def test_bad_sample_export_is_rejected_clearly_and_changes_nothing(sample_refresh_copy, case: Case):
    check_rejected(sample_refresh_copy, case)


def check_rejected(copy, case: Case) -> None:
    from alliance_pipeline.refresh import _failure_message

    refreshed, source, defs = copy
    family, year = case.export
    path = export_path(source, family, year)
    original = path.read_bytes()
    roots = (refreshed.warehouse, refreshed.reports, refreshed.root / "archive")
    before = snapshot(*roots)
    corrupted, line = case.corrupt(original)
    assert corrupted != original
    try:
        path.write_bytes(corrupted)
        result = run_year(defs, refreshed.instance, family, year)
    finally:
        path.write_bytes(original)
    assert not result.success
    message = _failure_message(result)
    assert path.name in message, message
    for text in case.expect:
        assert text in message, (text, message)
    if case.row and line is not None:
        assert f"row {line}" in message or f"rows {line}" in message or f" {line}" in message, (line, message)
    assert message.count(path.name) <= 2 and len(message.splitlines()) <= 12  # one paragraph, said once

    after = snapshot(*roots)
    changed = {name for name in before if after.get(name) != before[name]}
    assert changed == set(), changed  # every earlier Parquet file, report and archive entry byte-identical
    added = set(after) - set(before)
    assert all("/archive/" in name for name in added), added  # only the rejected bytes and their record
    asset = FAMILIES[family].asset_name
    assert refreshed.check_status(asset) == "FAILED"
    rejected = list_versions(refreshed.root / "archive")
    rejected = rejected[(rejected["family"] == family) & (rejected["school_year"] == year)
                        & (rejected["sha256"] == hashlib.sha256(corrupted).hexdigest())]
    if len(corrupted):
        assert list(rejected["status"]) == ["rejected"] and path.name.split("__")[0] in rejected["reason"].iloc[0]
        assert not rejected["is_latest"].any()


def _versions(refreshed, defs) -> pd.DataFrame:
    """raw_export_versions as the asset stores it now (materialized on the refreshed instance)."""
    done = dg.materialize(list(defs.assets), selection=dg.AssetSelection.assets("raw_export_versions"),
                          instance=refreshed.instance, resources=dict(defs.resources))
    assert done.success
    return refreshed.table("raw_export_versions")


def test_the_archive_says_which_bytes_the_warehouse_holds(real_copy):
    """A loaded, B rejected, A again: A is the latest, B stays archived as rejected with its reason. A, then a good
    republished C, then A again: A is the latest (not C, the newest seen)."""
    refreshed, source, defs = real_copy
    family, year = SBAC
    path = export_path(source, family, year)
    original = path.read_bytes()
    a = hashlib.sha256(original).hexdigest()
    bad, _ = set_cell("averagevss", "9999")(original)
    good_again, _ = set_cell("averagevss", "2501")(original)  # a plausible republished value
    try:
        for content, succeeds in ((bad, False), (original, True), (good_again, True), (original, True)):
            path.write_bytes(content)
            assert run_year(defs, refreshed.instance, family, year).success == succeeds
    finally:
        path.write_bytes(original)
    versions = _versions(refreshed, defs)
    mine = versions[(versions["family"] == family) & (versions["school_year"] == year)].set_index("sha256")
    b, c = hashlib.sha256(bad).hexdigest(), hashlib.sha256(good_again).hexdigest()
    assert mine.loc[a, "is_latest"] and not mine.loc[b, "is_latest"] and not mine.loc[c, "is_latest"]
    assert (mine.loc[a, "status"], mine.loc[b, "status"], mine.loc[c, "status"]) == ("loaded", "rejected", "loaded")
    assert "average_vss" in mine.loc[b, "reason"]
    assert versions.groupby(["family", "school_year"])["is_latest"].sum().max() == 1
    held = refreshed.table("raw_sbac_district", year).attrs["source"]["sha256"]
    assert held == a  # is_latest is what the warehouse holds


def test_partitions_follow_the_source(real_copy):
    """A file named for a year its title does not say is never registered; a year whose file is gone is removed
    (and said so), and the next refresh succeeds without any manual cleanup."""
    from alliance_pipeline.defs.operations.planner import register_years

    refreshed, source, defs = real_copy
    instance = refreshed.instance
    stray = source / "sbac-district" / "smarter-balanced__2099-00_ela-and-math_all-students_all-grades.csv"
    stray.write_bytes(export_path(source, *SBAC).read_bytes())  # its title says 2015-16
    gone = export_path(source, "enrollment", "2012-13")
    kept = gone.read_bytes()
    gone.unlink()
    try:
        changes = register_years(instance, defs.resources["edsight"])
        assert "2099-00" not in instance.get_dynamic_partitions(FAMILIES["sbac_district"].partitions_name)
        assert "2012-13" not in instance.get_dynamic_partitions(FAMILIES["enrollment"].partitions_name)
        messages = "\n".join(changes.messages())
        assert f"{stray} is named for 2099-00 but its title says 2015-16" in messages
        assert "raw_enrollment 2012-13: the export is no longer in the source; partition removed" in messages
        stray.unlink()
        result = refresh(defs, instance, progress=lambda message: None)
        assert result.success, result.failure.message
        cited = refreshed.table("raw_export_versions")
        assert not cited[(cited["family"] == "enrollment") & (cited["school_year"] == "2012-13")]["is_latest"].any()
    finally:
        gone.write_bytes(kept)
        stray.unlink(missing_ok=True)
    back = register_years(instance, defs.resources["edsight"])
    assert back.added == {"enrollment": ["2012-13"]}  # the file is back: so is its year

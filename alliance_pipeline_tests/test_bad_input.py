"""A corpus of bad exports, generated here from the real exports (never committed), each rejected clearly.

One good refresh of a copy of ../shared/edsight, then, for every case: corrupt one
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
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import dagster as dg
import pytest

from alliance_pipeline import paths
from alliance_pipeline.archive import list_versions
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.refresh import refresh
from alliance_pipeline_tests.conftest import Refreshed

pytestmark = pytest.mark.real_exports

SBAC = ("sbac_district", "2015-16")
GROWTH = ("sbac_growth", "2015-16")
ENROLLMENT = ("enrollment", "2015-16")
ACCOUNTABILITY = ("accountability", "2015-16")
STATE = ("sbac_state", "2015-16")
RACE = ("sbac_subgroup_race", "2015-16")
ELL = ("sbac_subgroup_ell", "2015-16")


# --- corruptions: bytes -> bytes, on one CSV line (1-based, as a spreadsheet numbers them) ----------

def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8-sig").splitlines(keepends=True)


def _first_data_line(lines: list[str]) -> int:
    """The first line after the header (the header names "District Code" or "ReportingDistrictCode")."""
    for number, line in enumerate(lines, start=1):
        if "District Code" in line or "DistrictCode" in line:
            return number + 1
    raise AssertionError("no header")


def _row(line: str) -> list[str]:
    return next(csv.reader([line]))


def _line(cells: list[str], ending: str) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="").writerow(cells)
    return out.getvalue() + ending


def on_row(offset: int, change: Callable[[list[str], list[str]], list[str]]):
    """Change the data row ``offset`` lines below the header: ``change(header, cells) -> cells``."""
    def corrupt(data: bytes) -> tuple[bytes, int]:
        lines = _lines(data)
        number = _first_data_line(lines) + offset
        header = _row(lines[_first_data_line(lines) - 2])
        ending = lines[number - 1][len(lines[number - 1].rstrip("\r\n")):]
        lines[number - 1] = _line(change(header, _row(lines[number - 1])), ending)
        return "".join(lines).encode("utf-8"), number
    return corrupt


def set_cell(column: str, value: str, offset: int = 3):
    def change(header, cells):
        cells[[h.replace("\n", "") for h in header].index(column)] = value
        return cells
    return on_row(offset, change)


def whole(transform: Callable[[bytes], bytes]):
    return lambda data: (transform(data), None)


def drop_column(column: str):
    def transform(data: bytes) -> bytes:
        lines = _lines(data)
        header_line = _first_data_line(lines) - 1
        index = [h.replace("\n", "") for h in _row(lines[header_line - 1])].index(column)
        for number in range(header_line - 1, len(lines)):
            cells = _row(lines[number]) if lines[number].strip() else None
            if cells and len(cells) > index:
                ending = lines[number][len(lines[number].rstrip("\r\n")):]
                lines[number] = _line(cells[:index] + cells[index + 1:], ending)
        return "".join(lines).encode("utf-8")
    return whole(transform)


def duplicate_row(offset: int = 3):
    def corrupt(data: bytes):
        lines = _lines(data)
        number = _first_data_line(lines) + offset
        lines.insert(number, lines[number - 1])
        return "".join(lines).encode("utf-8"), number + 1
    return corrupt


def truncate_row(offset: int = 3):
    return on_row(offset, lambda header, cells: cells[: len(cells) // 2])


def retitle(year: str):
    return whole(lambda data: data.replace(b"2015-16", year.encode(), 1))


def second_name(offset: int = 12):
    """A row of the first district under another district's name (rows pasted from elsewhere)."""
    def change(header, cells):
        cells[0] = "Pasted Elsewhere School District"
        return cells
    return on_row(offset, change)


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
    Case("extra cell", SBAC, on_row(5, lambda h, c: c + ["surplus"]), ("cells but the header has",)),
    Case("missing required column", SBAC, drop_column("Average VSS"), ("Average VSS",), row=False),
    Case("empty file", SBAC, whole(lambda data: b""), ("no header row",), row=False),
    Case("header only", SBAC, whole(lambda data: b"".join(data.splitlines(keepends=True)[:5])), ("row",), row=False),
    Case("HTML page saved as the CSV", SBAC, whole(lambda data: b"<!DOCTYPE html><html><body>Sign in</body></html>\n"),
         ("no header row",), row=False),
    Case("gzip file named .csv", SBAC, whole(gzip.compress), ("gzip archive", "row 1")),
    Case("xlsx/zip file named .csv", ENROLLMENT, whole(zipped), ("zip archive", "row 1")),
    Case("NUL bytes", GROWTH, whole(lambda data: data[:400] + b"\x00\x00" + data[400:]), ("NUL bytes",), row=False),
    Case("bytes invalid in UTF-8 and CP1252", SBAC, whole(lambda data: data.replace(b"Andover", b"And\x81ver", 1)),
         ("0x81", "UTF-8 or Windows-1252"), row=False),
    # the reader: cells
    Case("non-numeric count", SBAC, set_cell("Total NumberTested", "lots"), ("expected a number", "Total NumberTested")),
    Case("fractional count", SBAC, set_cell("Total NumberTested", "12.5"), ("whole number",)),
    Case("non-numeric scale score", SBAC, set_cell("Average VSS", "n/a!"), ("expected a number", "Average VSS")),
    Case("malformed district code", SBAC, set_cell("District Code", "ABC"), ("District Code",)),
    Case("blank district code", SBAC, set_cell("District Code", ""), ("district code is blank",)),
    Case("one code, two names", SBAC, second_name(), ("listed as", "Pasted Elsewhere", "District")),
    Case("title year disagrees", SBAC, retitle("2014-15"), ("school year 2014-15", "loaded for 2015-16", "row 1")),
    Case("non-numeric growth rate", GROWTH, set_cell("Percentage of Target Achieved", "high"), ("expected a number",)),
    Case("growth title year disagrees", GROWTH, retitle("2016-17"), ("school year 2016-17", "row 1")),
    Case("growth: one code, two names", GROWTH, second_name(2), ("listed as",)),
    Case("enrollment: non-numeric count", ENROLLMENT, set_cell("Count", "many"), ("expected a number",)),
    Case("enrollment: one code, two names", ENROLLMENT, second_name(2), ("listed as",)),
    Case("accountability: mixed FallOfYear", ACCOUNTABILITY, set_cell("FallOfYear", "2016", offset=4),
         ("several years", "FallOfYear")),
    Case("accountability: non-numeric index", ACCOUNTABILITY, set_cell("OutcomeRatePct", "low"), ("expected a number",)),
    Case("state: non-numeric scale score", STATE, set_cell("Average VSS", "x", offset=1), ("expected a number",)),
    Case("race subgroup: non-numeric count", RACE, set_cell("Total NumberTested", "?!", offset=2), ("expected a number",)),
    Case("race subgroup: one code, two names", RACE, second_name(3), ("listed as",)),
    Case("ELL subgroup: truncated row", ELL, truncate_row(2), ("cells but the header has",)),
    # the expectations suites (GX): the message names the column and the export rows
    Case("negative count", SBAC, set_cell("Total NumberTested", "-5"), ("Total NumberTested",)),
    Case("scale score out of range", SBAC, set_cell("Average VSS", "9999"), ("Average VSS",)),
    Case("percent above 100", SBAC, set_cell("Smarter BalancedParticipationRate", "180.0"), ("Participation",)),
    Case("duplicated row", SBAC, duplicate_row(), ("unique",)),
    Case("enrollment: negative count", ENROLLMENT, set_cell("Count", "-40"), ("Count",)),
    Case("accountability: index above 100", ACCOUNTABILITY, set_cell("OutcomeRatePct", "180.5"), ("OutcomeRatePct",)),
]


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file under the roots (the latest symlink by its target) -> SHA-256."""
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_symlink():
                found[str(path)] = "-> " + os.readlink(path)
            elif path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def good(tmp_path_factory, shared_edsight):
    """A copy of the real exports, refreshed once on its own instance; the cases corrupt the copy."""
    from alliance_pipeline.definitions import defs

    root = tmp_path_factory.mktemp("bad-input")
    source = root / "edsight"
    shutil.copytree(shared_edsight, source)
    (root / "dagster_home").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "dagster_home"), set_dagster_home=False) as instance:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(paths.ENV_WAREHOUSE_DIR, str(root / "warehouse"))
            patch.setenv(paths.ENV_REPORTS_DIR, str(root / "reports"))
            patch.setenv(paths.ENV_ARCHIVE_DIR, str(root / "archive"))
            patch.setenv(paths.ENV_EDSIGHT_DIR, str(source))
            patch.delenv(paths.ENV_EDSIGHT_URL, raising=False)
            result = refresh(defs, instance, progress=lambda message: None)
            assert result.success, result.failure.message
            yield Refreshed(root, instance, result), source, defs


def export_path(source: Path, family: str, year: str) -> Path:
    folder = source / FAMILIES[family].folder
    [path] = [p for p in folder.iterdir() if FAMILIES[family].match(p.name) == year]
    return path


def run_year(defs, instance, family: str, year: str):
    """What the UI's single_year_<family> job runs for one school year."""
    job = defs.resolve_job_def(f"single_year_{family}")
    return job.execute_in_process(instance=instance, partition_key=year, raise_on_error=False,
                                  resources=dict(defs.resources))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_export_is_rejected_clearly_and_changes_nothing(good, case: Case):
    from alliance_pipeline.refresh import _failure_message

    refreshed, source, defs = good
    family, year = case.export
    path = export_path(source, family, year)
    original = path.read_bytes()
    roots = (refreshed.warehouse, refreshed.reports, refreshed.root / "archive")
    before = snapshot(*roots)
    corrupted, line = case.corrupt(original)
    assert corrupted != original
    try:
        path.write_bytes(corrupted)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(paths.ENV_WAREHOUSE_DIR, str(refreshed.warehouse))
            patch.setenv(paths.ENV_ARCHIVE_DIR, str(refreshed.root / "archive"))
            patch.setenv(paths.ENV_EDSIGHT_DIR, str(source))
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

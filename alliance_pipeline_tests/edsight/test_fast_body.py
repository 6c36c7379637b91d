"""The column-by-column body parser (pyarrow) against the row-by-row one, which stays the reference.

Every export the project knows (the public exports and their variants, the sample) and generated ones are read
both ways; the frames must be equal cell for cell (dtypes, nulls, suppressed cells, source rows) and give the same
data version. A body the fast path does not take must fall back, never differ.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_pipeline import paths
from alliance_pipeline.defs.common.io_manager import frame_version
from alliance_pipeline.edsight import fast_body, reader, rows
from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline_tests.helpers import SHARED_EDSIGHT, SHARED_EXTRA

EXPORTS = (sorted(SHARED_EDSIGHT.rglob("*.csv")) + sorted(paths.SAMPLE_EDSIGHT_DIR.rglob("*.csv"))
           + sorted((SHARED_EXTRA / "transcribed" / "sbac-district-combined").glob("*.csv")))
CONTINUED = {family.folder for family in FAMILIES.values() if family.continued_rows}


def read_both(path: Path, monkeypatch: pytest.MonkeyPatch):
    """(fast, taken, slow): the export read with the fast path (and whether it was taken), then row by row."""
    taken = []
    original = fast_body.parse_body

    def spy(*args, **kwargs):
        body = original(*args, **kwargs)
        taken.append(body is not None)
        return body

    continued = path.parent.name in CONTINUED  # read as its family reads it
    with monkeypatch.context() as patch:
        patch.setattr(reader, "parse_body", spy)
        fast = reader.read_export(path, continued_rows=continued)
    with monkeypatch.context() as patch:
        patch.setattr(reader, "parse_body", lambda *args, **kwargs: None)
        slow = reader.read_export(path, continued_rows=continued)
    return fast, bool(taken and taken[0]), slow


def assert_same(fast, slow) -> None:
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    assert fast.frame["suppressed_columns"].tolist() == slow.frame["suppressed_columns"].tolist()
    assert list(fast.frame.dtypes) == list(slow.frame.dtypes)
    assert frame_version(fast.frame) == frame_version(slow.frame)
    assert (fast.title, fast.school_year, fast.header_row, fast.header_labels) == (
        slow.title, slow.school_year, slow.header_row, slow.header_labels)


@pytest.mark.real_exports
@pytest.mark.parametrize("path", EXPORTS, ids=[f"{p.parent.name}/{p.name}" for p in EXPORTS])
def test_every_known_export_reads_the_same_both_ways(path, monkeypatch):
    fast, taken, slow = read_both(path, monkeypatch)
    assert_same(fast, slow)
    if path.parent.name != "variants":  # EdSight's own files are plain: the fast path must be the one taken
        assert taken, f"{path} fell back to the row-by-row parser"


def _export(rows: list[list[str]], ending: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=ending, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["Smarter Balanced Assessments, 2015-16"])
    writer.writerow(["All Students"])
    writer.writerow(["District", "District Code", "Subject", "Total Number Tested", "Level 3 Met %", "Extra"])
    writer.writerows(rows)
    return out.getvalue() + ending


CELLS = st.sampled_from(["", "*", "N/A", " 12 ", "1,204", "48.2%", "7", "0", "-3", ".5", "5.", "+2", "1e5", "x", "3.25",
                         " n/a", "99%%"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(st.sampled_from(["Andover", "Total", " Bolton ", "", "Bolton", "Éast Haddam", "\x1cBolton"]),
                            st.sampled_from(['="0010011"', "10011", "0020011", "", "abc", '="0000000"', '="12"', "=12", '="12',
                                             "12345678", '="12345678"', "\u0661\u0662", '="a1"', '=""']),
                            st.sampled_from(["ELA", "Math", ""]), CELLS, CELLS, st.sampled_from(["", "", "z"])),
                  min_size=1, max_size=12),
    ending=st.sampled_from(["\r\n", "\n"]),
    blank=st.sampled_from([None, ["", "", "", "", "", ""], []]),
)
def test_generated_exports_read_the_same_both_ways_or_fail_the_same_way(tmp_path, monkeypatch, rows, ending, blank):
    body = [list(row) for row in rows]
    if blank is not None:  # a row of empty cells, as a re-saved file has, or an empty line
        body.insert(len(body) // 2, blank)
    path = tmp_path / "export.csv"
    path.write_text(_export(body, ending), encoding="utf-8")
    try:
        fast, _, slow = read_both(path, monkeypatch)
    except EdSightFormatError as error:  # then the row-by-row parser must say exactly this
        with monkeypatch.context() as patch:
            patch.setattr(reader, "parse_body", lambda *args, **kwargs: None)
            with pytest.raises(EdSightFormatError) as slow_error:
                reader.read_export(path)
        assert str(slow_error.value) == str(error)
        return
    assert_same(fast, slow)


@given(st.lists(st.one_of(
    st.from_regex(r'\A(=?"?)[0-9]{0,9}("?)\Z', fullmatch=True),
    st.text(alphabet=st.sampled_from('0123456789="\u0661\u00b2 -+ab'), max_size=10),
), max_size=30))
def test_codes_are_normalised_as_the_row_by_row_parser_does(cells):
    """The arrow path for district codes gives what ``normalise_district_code`` gives, cell for cell."""
    import pyarrow as pa

    values = pa.array([cell.strip() for cell in cells], pa.string())
    assert fast_body._codes(values, rows.normalise_district_code).to_pylist() == [
        rows.normalise_district_code(cell) for cell in cells]

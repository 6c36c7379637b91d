"""The Parquet IO manager round-trips frames (types, lists, attrs) and writes atomically."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest

from alliance_pipeline.defs.common.io_manager import read_parquet, write_parquet


def frame():
    out = pd.DataFrame({
        "district_code": pd.array(["0010011", "0020011"], dtype="string"),
        "grade": pd.array([3, None], dtype="Int64"),
        "score": pd.array([2475.0, None], dtype="Float64"),
        "suppressed_columns": pd.Series([[], ["average_vss"]], dtype=object),
        "excluded": [False, True],
    })
    out.attrs["unavailable"] = "no CMT district exports"
    return out


def test_round_trip_keeps_types_lists_and_attrs(tmp_path):
    path = write_parquet(frame(), tmp_path / "asset" / "2015-16.parquet")
    back = read_parquet(path)
    pdt.assert_frame_equal(back, frame())
    assert back.attrs == {"unavailable": "no CMT district exports"}
    assert back["suppressed_columns"].tolist() == [[], ["average_vss"]]


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = write_parquet(frame(), tmp_path / "asset.parquet")
    good = path.read_bytes()
    bad = frame()
    bad["score"] = pd.Series([object(), object()], dtype=object)  # not storable
    with pytest.raises(Exception):
        write_parquet(bad, path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["asset.parquet"]

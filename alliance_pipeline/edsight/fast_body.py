"""The body of an EdSight export (the rows under the header), parsed column by column with pyarrow.

``read_export`` uses this for the common case and keeps its row-by-row parser for everything else: whenever the
body is anything but plain (a line break that is not ``\\n`` or ``\\r\\n``, a blank line inside it, a row with
another number of cells, a value that is not a number where one is expected, characters that Python and pyarrow
trim differently), ``parse_body`` returns ``None`` and the row-by-row parser reads the file again, so every error
message (file, row, column) and every value is the row-by-row parser's own. On plain bodies the two give equal
frames, cell for cell (``alliance_pipeline_tests/edsight/test_fast_body.py`` compares them).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alliance_pipeline.edsight.columns import CODE_COLUMNS

NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"  # a number as EdSight writes it (both parsers use this one pattern)
# Characters Python's str.strip() removes but pyarrow's utf8_trim_whitespace keeps: such a body is left to Python.
_PYTHON_ONLY_SPACE = "[\x1c-\x1f]"


@dataclass
class Body:
    columns: dict[str, object]  # clean name -> pandas array, as the row-by-row parser builds it
    suppressed: np.ndarray  # per row (objects), the numeric columns whose cell was a suppression marker
    lines: np.ndarray  # per row, the line of the file it came from
    # district_name and district_code as (per row, the place of its value in ``values`` or -1 when blank; values)
    distinct: dict[str, tuple[np.ndarray, list[str]]]


def parse_body(data: bytes, start: int, first_line: int, names: list[str], kinds: dict[str, str],
               markers: frozenset[str], normalise_code) -> Body | None:
    """The rows of ``data[start:]`` (the file's UTF-8 bytes after the header row, whose first line is line
    ``first_line`` of the file), or None when the body is not plain (see the module's docstring)."""
    import pyarrow as pa

    try:
        return _parse(data, start, first_line, names, kinds, markers, normalise_code)
    except pa.ArrowException:  # anything pyarrow cannot take as plain: the row-by-row parser decides
        return None


def _parse(data: bytes, start: int, first_line: int, names: list[str], kinds: dict[str, str], markers: frozenset[str],
           normalise_code) -> Body | None:
    table = _read_table(data, start, len(names))
    if table is None:
        return None
    cells = _distinct_cells(table, len(names), first_line)
    if cells is None:
        return None
    values, indices, empty, lines = cells
    import pyarrow as pa

    marker_set = pa.array(sorted(markers))
    columns: dict[str, object] = {}
    distinct: dict[str, tuple[np.ndarray, list[str]]] = {}
    numeric_masks: list[tuple[str, np.ndarray]] = []
    for name, value, index, is_empty in zip(names, values, indices, empty):
        column = _column(name, kinds[name], value, index, is_empty, marker_set, normalise_code)
        if column is None:
            return None  # the row-by-row parser names the cell
        columns[name], place, mask = column
        if place is not None:
            distinct[name] = place
        if mask is not None:
            numeric_masks.append((name, mask))
    return Body(columns, _suppressed_lists(numeric_masks, len(lines)), lines, distinct)


def _read_table(data: bytes, start: int, width_needed: int):
    """The body's cells as a pyarrow table of text (columns c0, c1, ...), or None when pyarrow would not read it as
    Python's csv does (a lone CR, fewer cells than the header on the first row, a row count that differs)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    end = len(data)
    while end > start and data[end - 1] in b"\r\n":  # blank lines at the end (EdSight ends its files with one)
        end -= 1
    # (A lone CR is a line break to pyarrow as to Python's csv: the row count below then differs from the lines. An
    # empty line is a row of empty cells to pyarrow, a row of none to Python's csv: both skip it as blank.)
    if end == start:
        return None
    first = data.find(b"\n", start, end)
    width = len(next(csv.reader([data[start: end if first < 0 else first].decode("utf-8")]), []))
    if width < width_needed:
        return None
    table = pacsv.read_csv(
        pa.py_buffer(data).slice(start, end - start),
        read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(width)], use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(width)},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    return table if table.num_rows == data.count(b"\n", start, end) + 1 else None


def _distinct_cells(table, width_needed: int, first_line: int):
    """Each column as its distinct values (trimmed, as the row-by-row parser strips every cell) and one index per
    row: the cleaning and the checks run once per distinct value, the rows only gather (numpy indexing). Returns
    (values, indices, empty, lines) without the blank rows, or None where the row-by-row parser must judge."""
    import pyarrow.compute as pc

    encoded = [pc.dictionary_encode(table.column(i).combine_chunks()) for i in range(table.num_columns)]
    for column in encoded:
        if (pc.max(pc.utf8_length(column.dictionary)).as_py() or 0) >= csv.field_size_limit():
            return None  # Python's csv refuses so long a field
        if pc.any(pc.match_substring_regex(column.dictionary, _PYTHON_ONLY_SPACE)).as_py():
            return None
    values = [pc.utf8_trim_whitespace(column.dictionary) for column in encoded]
    indices = [column.indices.to_numpy() for column in encoded]
    empty = [pc.equal(value, "").to_numpy(zero_copy_only=False) for value in values]
    blank = None  # rows whose every cell is empty (skipped, as the row-by-row parser skips them)
    if all(column.any() for column in empty):
        blank = np.ones(table.num_rows, dtype=bool)
        for column, index in zip(empty, indices):
            blank &= column[index]
    for column, index in zip(empty[width_needed:], indices[width_needed:]):
        # cells past the header's width must be empty, as the row-by-row parser says
        if not column.all() and not (column[index] | (blank if blank is not None else False)).all():
            return None
    if blank is not None and blank.any():
        keep = ~blank
        indices = [index[keep] for index in indices[:width_needed]]
        lines = np.flatnonzero(keep) + first_line
    else:
        lines = np.arange(first_line, first_line + table.num_rows)
    return values, indices, empty, lines


def _column(name: str, kind: str, value, index: np.ndarray, is_empty: np.ndarray, marker_set, normalise_code):
    """One column: (its pandas array, its place among distinct values for the district columns else None, its
    suppressed-cell mask for a numeric column else None); None when a cell is not what the column holds (the
    row-by-row parser then names it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    marker = pc.is_in(value, value_set=marker_set)
    if kind == "infer":  # (every distinct value: one seen only on a skipped blank row is empty, a marker)
        loose = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.replace_substring(value, ",", ""), "%+$", ""))
        numeric = pc.or_(marker, pc.match_substring_regex(loose, NUMBER))
        kind = "float" if pc.all(numeric).as_py() and not pc.all(marker).as_py() else "text"
    if name in CODE_COLUMNS:
        codes = _codes(value, normalise_code)
        array = pd.array(pc.take(codes, index), dtype="string")
        place = None
        if name == "district_code":  # raw cells that normalise alike ("10011", '="0010011"') share one place
            found, normalised = pd.factorize(np.asarray(codes.to_pylist(), dtype=object))
            place = (found[index], list(normalised))
        return array, place, None
    if kind in ("id", "text"):
        text = pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value).cast(pa.large_string())
        array = pd.array(pc.take(text, index), dtype="string")
        place = None
        if name == "district_name":  # (cells that trim alike share one place too)
            found, names_seen = pd.factorize(np.asarray(value.to_pylist(), dtype=object))
            found[is_empty] = -1
            place = (found[index], list(names_seen))
        return array, place, None
    cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.replace_substring(value, ",", ""), "%$", ""))
    if not pc.all(pc.or_(marker, pc.match_substring_regex(cleaned, NUMBER))).as_py():
        return None
    numbers = pc.cast(pc.if_else(marker, "0", cleaned), pa.float64()).to_numpy(zero_copy_only=False)
    flags = marker.to_numpy(zero_copy_only=False)
    mask = flags[index]
    if kind == "int":
        if not np.all(np.floor(numbers) == numbers) or np.any(np.abs(numbers) > 2**53):
            return None
        # 1 is what pandas keeps under a missing Int64 (the table's data version hashes it)
        return pd.arrays.IntegerArray(np.where(flags, 1, numbers).astype(np.int64)[index], mask), None, mask
    return pd.arrays.FloatingArray(np.where(flags, np.nan, numbers)[index], mask), None, mask  # likewise


def _codes(values, normalise_code):
    """Each distinct district code cell normalised: the two shapes EdSight writes (``0010011``, ``="0010011"``,
    seven digits or fewer) padded by arrow, any other cell by ``normalise_code`` itself."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = pc.match_substring_regex(values, r"^[0-9]{1,7}$")
    formula = pc.match_substring_regex(values, r'^="[0-9]{1,7}"$')
    digits = pc.if_else(formula, pc.utf8_slice_codeunits(values, 2, -1), values)
    other = pc.invert(pc.or_(plain, formula))
    rest = [normalise_code(v) for v in pc.filter(values, other).to_pylist()]
    padded = pc.utf8_lpad(digits, 7, "0").cast(pa.large_string())
    return pc.replace_with_mask(padded, other, pa.array(rest, pa.large_string()))


def _suppressed_lists(masks: list[tuple[str, np.ndarray]], rows: int) -> np.ndarray:
    """Per row, the names of the columns whose mask is set there, in column order.

    Rows with the same pattern share one list (nothing in the project changes these lists; copying a million of
    them cost more than the rest of the body's parsing)."""
    if not masks:
        none = np.empty(rows, dtype=object)
        none[:] = [[]] * rows
        return none
    names = [name for name, _ in masks]
    if len(names) <= 63:  # each row's pattern as one integer: hashed, far cheaper than unique rows
        keys = np.zeros(rows, dtype=np.int64)
        for bit, (_, mask) in enumerate(masks):  # one pass per column
            keys |= mask.astype(np.int64) << bit
        inverse, patterns = pd.factorize(keys)
        bits = (np.asarray(patterns)[:, None] >> np.arange(len(names), dtype=np.int64)) & 1
    else:
        bits, inverse = np.unique(np.column_stack([mask for _, mask in masks]), axis=0, return_inverse=True)
    lists = np.empty(len(bits), dtype=object)
    for number, pattern in enumerate(bits):
        lists[number] = [names[column] for column in np.flatnonzero(pattern)]
    return lists[inverse.reshape(-1)]

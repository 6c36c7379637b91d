"""The body of an EdSight export (the rows under the header), parsed column by column with pyarrow.

``read_export`` uses this for the common case and keeps its row-by-row parser for everything else: whenever the
body is anything but plain (a line break that is not ``\\n`` or ``\\r\\n``, a blank line inside it, a row with
another number of cells, a value that is not a number where one is expected, characters that Python and pyarrow
trim differently), ``parse_body`` returns ``None`` and the row-by-row parser reads the file again, so every error
message (file, row, column) and every value is the row-by-row parser's own. On plain bodies the two give equal
frames, cell for cell (``alliance_pipeline_tests/test_reader_fast.py`` compares them).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alliance_pipeline.edsight.columns import CODE_COLUMNS

NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"  # a number as EdSight writes it (both parsers use this one pattern)
# Characters Python's str.strip() removes but pyarrow's utf8_trim_whitespace keeps: such a body is left to Python.
_PYTHON_ONLY_SPACE = "\x1c\x1d\x1e\x1f"


@dataclass
class Body:
    columns: dict[str, object]  # clean name -> pandas array, as the row-by-row parser builds it
    suppressed: list[list[str]]  # per row, the numeric columns whose cell was a suppression marker
    lines: list[int]  # per row, the line of the file it came from


def parse_body(body: str, first_line: int, names: list[str], kinds: dict[str, str], markers: frozenset[str],
               normalise_code) -> Body | None:
    """The rows of ``body`` (the text after the header row, whose first line is line ``first_line`` of the file),
    or None when the body is not plain (see the module's docstring)."""
    import pyarrow as pa

    try:
        return _parse(body, first_line, names, kinds, markers, normalise_code)
    except pa.ArrowException:  # anything pyarrow cannot take as plain: the row-by-row parser decides
        return None


def _parse(body: str, first_line: int, names: list[str], kinds: dict[str, str], markers: frozenset[str],
           normalise_code) -> Body | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    body = body.rstrip("\r\n")  # blank lines at the end (EdSight ends its files with one)
    # (A lone CR is a line break to pyarrow as to Python's csv: the row count below then differs from the lines.)
    if not body or "\n\n" in body or "\n\r\n" in body or any(space in body for space in _PYTHON_ONLY_SPACE):
        return None
    width = len(next(csv.reader([body.split("\n", 1)[0]]), []))
    if width < len(names):
        return None
    table = pacsv.read_csv(
        pa.py_buffer(body.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(width)], use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={f"c{i}": pa.string() for i in range(width)},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    if table.num_rows != body.count("\n") + 1:
        return None
    # Each column as its distinct values (trimmed, as the row-by-row parser strips every cell) and one index per
    # row: the cleaning and the checks run once per distinct value, the rows only gather.
    encoded = [pc.dictionary_encode(table.column(i).combine_chunks()) for i in range(width)]
    if any((pc.max(pc.utf8_length(column.dictionary)).as_py() or 0) >= csv.field_size_limit() for column in encoded):
        return None  # Python's csv refuses so long a field
    values = [pc.utf8_trim_whitespace(column.dictionary) for column in encoded]
    indices = [column.indices for column in encoded]
    empty = [pc.take(pc.equal(value, ""), index) for value, index in zip(values, indices)]
    blank = empty[0]
    for column in empty[1:]:
        blank = pc.and_(blank, column)
    for column in empty[len(names):]:  # cells past the header's width must be empty, as the row-by-row parser says
        if not pc.all(pc.or_(column, blank)).as_py():
            return None
    keep = pc.invert(blank)
    indices = [pc.filter(index, keep) for index in indices[: len(names)]]
    lines = (np.flatnonzero(keep.to_numpy(zero_copy_only=False)) + first_line).tolist()

    kinds = dict(kinds)
    marker_set = pa.array(sorted(markers))
    columns: dict[str, object] = {}
    numeric_masks: list[tuple[str, np.ndarray]] = []
    for name, value, index in zip(names, values, indices):
        present = pc.unique(index)  # the distinct values these rows use (blank rows dropped)
        used = pc.take(value, present)
        marker = pc.is_in(used, value_set=marker_set)
        if kinds[name] == "infer":
            loose = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.replace_substring(used, ",", ""), "%+$", ""))
            numeric = pc.or_(marker, pc.match_substring_regex(loose, NUMBER))
            kinds[name] = "float" if pc.all(numeric).as_py() and not pc.all(marker).as_py() else "text"
        kind = kinds[name]
        if name in CODE_COLUMNS:
            columns[name] = pd.array(pc.take(_codes(value, normalise_code), index), dtype="string")
        elif kind in ("id", "text"):
            text = pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value).cast(pa.large_string())
            columns[name] = pd.array(pc.take(text, index), dtype="string")
        else:
            cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.replace_substring(used, ",", ""), "%$", ""))
            if not pc.all(pc.or_(marker, pc.match_substring_regex(cleaned, NUMBER))).as_py():
                return None  # the row-by-row parser names the cell
            position = pc.index_in(index, value_set=present)  # row -> its distinct value's place in `used`
            numbers = pc.take(pc.cast(pc.if_else(marker, "0", cleaned), pa.float64()), position)
            numbers = numbers.to_numpy(zero_copy_only=False)
            mask = pc.take(marker, position).to_numpy(zero_copy_only=False)
            if kind == "int":
                if not np.all(np.floor(numbers) == numbers) or np.any(np.abs(numbers) > 2**53):
                    return None
                # 1 is what pandas keeps under a missing Int64 (the table's data version hashes it)
                columns[name] = pd.arrays.IntegerArray(np.where(mask, 1, numbers).astype(np.int64), mask.copy())
            else:
                columns[name] = pd.arrays.FloatingArray(np.where(mask, np.nan, numbers), mask.copy())  # likewise
            numeric_masks.append((name, mask))
    return Body(columns, _suppressed_lists(numeric_masks, len(lines)), lines)


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


def _suppressed_lists(masks: list[tuple[str, np.ndarray]], rows: int) -> list[list[str]]:
    """Per row, the names of the columns whose mask is set there, in column order.

    Rows with the same pattern share one list (nothing in the project changes these lists; copying a million of
    them cost more than the rest of the body's parsing)."""
    if not masks:
        empty: list[str] = []
        return [empty] * rows
    names = [name for name, _ in masks]
    if len(names) <= 63:  # each row's pattern as one integer: hashed, far cheaper than unique rows
        keys = np.zeros(rows, dtype=np.int64)
        for bit, (_, mask) in enumerate(masks):  # one pass per column
            keys |= mask.astype(np.int64) << bit
        inverse, patterns = pd.factorize(keys)
        bits = (np.asarray(patterns)[:, None] >> np.arange(len(names), dtype=np.int64)) & 1
    else:
        bits, inverse = np.unique(np.column_stack([mask for _, mask in masks]), axis=0, return_inverse=True)
    lists = [[names[column] for column in np.flatnonzero(pattern)] for pattern in bits]
    return [lists[pattern] for pattern in inverse.reshape(-1).tolist()]

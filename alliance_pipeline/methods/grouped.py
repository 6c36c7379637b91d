"""Per-group lists and texts built by numpy and arrow kernels, so the methods keep no Python loop over rows.

Every helper takes group ids in ascending order (the rows sorted by their group), as ``DataFrame.groupby(...,
sort=True).ngroup()`` gives them after sorting by the keys.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def arrow_lists(column, kind: pa.DataType = pa.int64()) -> pa.ListArray:
    """A column of Python lists as one arrow list array; a missing cell (None or NaN) is a null list."""
    return pa.array(column, pa.list_(kind), from_pandas=True)


def flattened(lists: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(each value's list number, the values) of a list array, in order; null lists contribute nothing."""
    return (pc.list_parent_indices(lists).to_numpy(zero_copy_only=False),
            pc.list_flatten(lists).to_numpy(zero_copy_only=False))


def _lists(group, n_groups: int, values: pa.Array) -> tuple[np.ndarray, pa.ListArray]:
    """(values per group, the values as one arrow list per group 0..n_groups-1)."""
    counts = np.bincount(np.asarray(group, dtype=np.int64), minlength=n_groups)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int32())
    return counts, pa.ListArray.from_arrays(offsets, values)


def group_lists(group: np.ndarray, n_groups: int, values, kind: pa.DataType) -> list[list]:
    """The values of each group 0..n_groups-1 as a Python list (an empty one for a group without values).

    ``group`` holds each value's group id in ascending order (the values are in group order already).
    """
    return _lists(group, n_groups, pa.array(values, kind))[1].to_pylist()


def positions(group: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(values per group, each value's place within its group) for ascending group ids."""
    counts = np.bincount(group, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return counts, np.arange(len(group)) - starts[group]


def list_texts(lists: pa.Array, keep=None, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per list (of grades): (how many values, the values joined by ", "), keeping only ``keep``'s values when
    given and sorting them when asked; a null list counts 0."""
    parents, values = flattened(lists)
    if keep is not None:
        mask = np.isin(values, list(keep))
        values, parents = values[mask], parents[mask]
    if sort:
        order = np.lexsort((values, parents))
        values, parents = values[order], parents[order]
    counts, texts = _lists(parents, len(lists), pa.array(values, pa.int64()).cast(pa.string()))
    return counts, np.asarray(pc.binary_join(texts, ", ").to_pylist(), dtype=object)


def join_by_group(group: np.ndarray, n_groups: int, texts: np.ndarray, sep: str) -> np.ndarray:
    """Per group 0..n_groups-1 its texts (in group order) joined by ``sep``; None for a group without any."""
    counts, lists = _lists(group, n_groups, pa.array(texts, pa.string()))
    out = np.asarray(pc.binary_join(lists, sep).to_pylist(), dtype=object)
    out[counts == 0] = None
    return out

"""Which rows of an export are districts: the state's aggregate rows (by name or code), a district's name in one
spelling (NFC), one name per code, a named row with a blank code kept and flagged, and the rows of a block that
write a district's name and code once (the all-grades-combined export)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from alliance_pipeline.edsight.errors import EdSightFormatError

AGGREGATE_NAMES = frozenset({"total", "state of connecticut", "connecticut"})
STATE_CODE = "0000000"


def _factorized(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's place among the column's distinct values (-1 where blank), and those values."""
    place, values = pd.factorize(column)
    return place, list(values)


def _per_row(place: np.ndarray, flags) -> np.ndarray:
    """A flag per distinct value, spread to the rows (False where the row's value is blank)."""
    return np.append(np.asarray(flags, dtype=bool), False)[place]


def _nfc(names: pd.Series) -> pd.Series | None:
    """The names in Unicode's composed form (NFC) when any is written otherwise (NFD: a letter and its accent as two
    code points), else None. An ASCII column (every real export so far) is left as it is, unread."""
    values = pa.array(names, pa.string(), from_pandas=True)
    if pc.all(pc.fill_null(pc.string_is_ascii(values), True)).as_py():
        return None
    distinct = pd.unique(names.dropna())
    composed = {value: unicodedata.normalize("NFC", value) for value in distinct}
    if all(value == composed[value] for value in distinct):
        return None
    return names.map(composed, na_action="ignore").astype(names.dtype)


def _one_name_per_code(places: dict[str, tuple[np.ndarray, list[str]]], aggregate: np.ndarray) -> bool:
    """Whether every district code (of the district rows with a name) has one name: the quick test, on places."""
    (name, names), (code, _) = places["district_name"], places["district_code"]
    rows = ~aggregate & (name >= 0) & (code >= 0)
    pairs = pd.unique(code[rows].astype(np.int64) * (len(names) + 1) + name[rows])
    return pd.Index(pairs // (len(names) + 1)).is_unique


def check_one_name_per_code(path: Path, frame: pd.DataFrame, lines: list[int], labels: dict[str, str]) -> None:
    """One district code, one name: a code listed under two names means rows were pasted from another district."""
    if "district_name" not in frame or "district_code" not in frame:
        return
    names = frame["district_name"].str.strip()
    rows = pd.DataFrame({"district_code": frame["district_code"], "name": names})[~frame["is_aggregate"] & names.notna()]
    # Each code's usual name: its most frequent name, the first in sort order among equally frequent ones.
    counts = rows.value_counts(["district_code", "name"]).rename("rows").reset_index()
    if counts["district_code"].is_unique:  # every code has one name: nothing to find
        return
    counts = counts.sort_values(["district_code", "rows", "name"], ascending=[True, False, True], kind="stable")
    usual = counts.drop_duplicates("district_code").set_index("district_code")["name"]
    usual_name = frame["district_code"].map(usual)
    # Only a row with a name, whose code has a usual name, can clash (a blank name is not a second name).
    named = (names.notna() & usual_name.notna()).astype(bool)
    clash = named & names.ne(usual_name).fillna(False).astype(bool) & ~frame["is_aggregate"]
    if clash.any():
        row = int(clash.idxmax())
        code = frame.at[row, "district_code"]
        count = int((names == usual[code]).sum())
        raise EdSightFormatError(
            path, f"district code {code} is listed as {usual[code]!r} on {count} row(s) and, on this row, as "
            f"{names.iloc[row]!r}", row=int(lines[row]), column=labels.get("district_name", "District Name"))


def continue_blocks(frame: pd.DataFrame) -> int:
    """Give each row with a blank name and a blank code the name and code of the block's first row (the row above
    that has either); returns how many rows were continued. Rows before any named row stay blank."""
    names = frame["district_name"].astype(object).to_numpy()
    codes = frame["district_code"].astype(object).to_numpy()
    blank = np.array([(n is None or n is pd.NA or str(n).strip() == "") and (c is None or c is pd.NA)
                      for n, c in zip(names, codes)], dtype=bool)
    head = np.maximum.accumulate(np.where(~blank, np.arange(len(blank)), -1)) if len(blank) else blank.astype(int)
    rows = blank & (head >= 0)
    if not rows.any():
        return 0
    for name, values in (("district_name", names), ("district_code", codes)):
        filled = values.copy()
        filled[rows] = values[head[rows]]
        frame[name] = pd.array(filled, dtype="string")
    return int(rows.sum())


def mark_districts(path: Path, frame: pd.DataFrame, lines: list[int], labels: dict[str, str], distinct: dict,
                   continued_rows: bool) -> None:
    """Add ``code_missing`` and ``is_aggregate`` to ``frame`` (a statewide report gets the state's code), a block's
    continued rows their district (``continued_rows``), and refuse a blank code on a row with no name or a code
    under two names, naming the row (``lines``) and column (``labels``: clean name -> header text). ``distinct``:
    the district columns' distinct values when the parser has them."""
    # district_name and district_code as each row's place among their distinct values: the tests below run once
    # per distinct value (the column-by-column parser has them already)
    if continued_rows and {"district_name", "district_code"} <= set(frame):
        continued = continue_blocks(frame)
        if continued:
            distinct = {name: value for name, value in distinct.items() if name not in ("district_name", "district_code")}
    if "district_name" in frame and (nfc := _nfc(frame["district_name"])) is not None:
        frame["district_name"] = nfc  # one spelling of the same letters (NFC), so no rename and no clash is invented
        distinct = {name: value for name, value in distinct.items() if name != "district_name"}
    places = {name: distinct.get(name) or _factorized(frame[name]) for name in ("district_name", "district_code")
              if name in frame}
    aggregate = np.zeros(len(frame), dtype=bool)
    named = np.zeros(len(frame), dtype=bool)
    if "district_name" in places:
        place, values = places["district_name"]
        stripped = pc.utf8_trim_whitespace(pa.array(values, pa.string()))
        aggregate |= _per_row(place, pc.is_in(pc.utf8_lower(stripped), value_set=pa.array(sorted(AGGREGATE_NAMES))))
        named = _per_row(place, pc.not_equal(stripped, ""))
    if "district_code" in places:
        place, values = places["district_code"]
        aggregate |= _per_row(place, [value == STATE_CODE for value in values])
        missing = place == -1
        if (aggregate & missing).any():
            frame.loc[aggregate & missing, "district_code"] = STATE_CODE
        missing &= ~aggregate
        # A named row with a blank code is real data (EdSight writes ``=""`` for a state agency and for newly opened
        # districts): kept with no code and flagged, never given one. A blank code on a row with no name is an error.
        if (missing & ~named).any():
            first = int(np.flatnonzero(missing & ~named)[0])
            raise EdSightFormatError(path, "district code is blank" + (" and so is the district name" if "district_name"
                                     in frame else ""), row=int(lines[first]), column=labels.get("district_code", "District Code"))
        frame["code_missing"] = missing
    else:
        # A statewide report (no code column): every row is the state aggregate.
        frame.insert(1 if "district_name" in frame else 0, "district_code", pd.array([STATE_CODE] * len(frame), dtype="string"))
        frame["code_missing"] = False
    frame["is_aggregate"] = aggregate
    if len(places) == 2 and not _one_name_per_code(places, aggregate):
        check_one_name_per_code(path, frame, lines, labels=labels)

"""Section 11: districts across the years: names, rows that cannot be joined, and the years that have no data.

- ``district_names``: every (code, name) the exports use, with the first and last school year of each; a renamed
  district keeps its code, and ``newest`` marks the name of the newest year held (the name shown everywhere).
- ``rows_without_code``: named rows that EdSight published with a blank district code (a state agency, newly
  opened districts): real data, kept in the raw tables, listed here with the export row, never joined.
- ``data_coverage``: per family and school year, whether an export is held and, if not, why ("no test",
  "not published", "not in the source"), from the reference table of known gaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from alliance_pipeline.methods.rows import district_rows
from alliance_pipeline.school_year import sort_years, start_of, starts_of, year_label

NAME_COLUMNS = ["district_code", "district_name", "first_year", "last_year", "years", "families", "newest"]


def _named_rows(raw: Mapping[str, Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    parts = []
    for family, years in raw.items():
        for year, frame in years.items():
            if "district_name" not in frame or not len(frame):
                continue
            rows = district_rows(frame)[["district_code", "district_name"]].dropna().drop_duplicates()
            rows = rows.assign(school_year=year, family=family)
            parts.append(rows)
    if not parts:
        return pd.DataFrame(columns=["district_code", "district_name", "school_year", "family"])
    frame = pd.concat(parts, ignore_index=True)
    frame["district_name"] = frame["district_name"].str.strip()
    return frame


def district_names(raw: Mapping[str, Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    """One row per district code and name: the school years (first, last, every one) and families that use it.

    ``newest`` is true for the one name per code shown in every table: the name of the newest school year held
    (of two names in that year, in different families, the one more families use, then the first in order)."""
    rows = _named_rows(raw)
    if rows.empty:
        return pd.DataFrame(columns=NAME_COLUMNS)
    rows["start"] = starts_of(rows["school_year"])
    grouped = rows.groupby(["district_code", "district_name"], sort=True)
    frame = grouped.agg(first=("start", "min"), last=("start", "max")).reset_index()
    frame["years"] = grouped["school_year"].agg(lambda years: sort_years(years)).to_numpy()
    frame["families"] = grouped["family"].agg(lambda families: sorted(set(families))).to_numpy()
    frame["first_year"] = grouped["school_year"].agg(lambda years: sort_years(years)[0]).to_numpy()
    frame["last_year"] = grouped["school_year"].agg(lambda years: sort_years(years)[-1]).to_numpy()
    frame["uses"] = frame["families"].map(len)
    order = frame.sort_values(["district_code", "last", "uses", "district_name"], ascending=[True, False, False, True])
    newest = order.drop_duplicates("district_code").index
    frame["newest"] = frame.index.isin(newest)
    return frame.sort_values(["district_code", "first"]).reset_index(drop=True)[NAME_COLUMNS]


def newest_names(names: pd.DataFrame) -> dict[str, str]:
    """district code -> the name shown (``district_names``'s ``newest`` row)."""
    chosen = names[names["newest"].astype(bool)]
    return dict(zip(chosen["district_code"], chosen["district_name"]))


def with_newest_names(frame: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with each district's name replaced by the newest held (joined on the code; others kept)."""
    if "district_name" not in frame or "district_code" not in frame or not len(frame):
        return frame
    out = frame.copy()
    newest = out["district_code"].map(names)
    out["district_name"] = newest.where(newest.notna(), out["district_name"]).astype(out["district_name"].dtype)
    return out


UNJOINED_COLUMNS = ["family", "school_year", "district_name", "source_row", "values", "reason"]


def rows_without_code(raw: Mapping[str, Mapping[str, pd.DataFrame]]) -> pd.DataFrame:
    """Every named row EdSight published with a blank district code, with its export row and its published values
    (e.g. ``student_count=45``): kept out of every per-district table, since nothing can join it."""
    parts = []
    for family, years in raw.items():
        for year in sort_years(years):
            frame = years[year]
            if "code_missing" not in frame:
                continue
            rows = frame[frame["code_missing"].astype(bool) & ~frame["is_aggregate"].astype(bool)]
            if rows.empty:
                continue
            numeric = [c for c in rows.columns if pd.api.types.is_numeric_dtype(rows[c])
                       and c not in ("source_row", "code_missing", "is_aggregate")]
            values = rows[numeric].apply(
                lambda row: ", ".join(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
                                      for name, value in row.dropna().items()) or "every value suppressed", axis=1)
            parts.append(pd.DataFrame({
                "family": family, "school_year": year, "district_name": rows["district_name"].to_numpy(dtype=object),
                "source_row": rows["source_row"].to_numpy(), "values": values.to_numpy(dtype=object),
                "reason": "the export gives no district code for this row (written =\"\"), so it cannot be joined "
                          "to any other table; no code is invented",
            }))
    if not parts:
        return pd.DataFrame(columns=UNJOINED_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)[UNJOINED_COLUMNS]
    frame["source_row"] = frame["source_row"].astype("Int64")
    return frame


COVERAGE_COLUMNS = ["family", "school_year", "held", "status", "reason"]
HELD = "held"
NOT_IN_SOURCE = "not in the source"


def data_coverage(held: Mapping[str, Iterable[str]], gaps: pd.DataFrame, newest_year: str | None) -> pd.DataFrame:
    """Per family, every school year from its first export held (or the first year of its known gaps) to
    ``newest_year`` (the newest year any family holds): held, or the reason it is not.

    ``gaps``: the reference table of years known to have no data (family, school_year, status, reason), e.g.
    Smarter Balanced 2019-20 "no test"; any other missing year is "not in the source"."""
    known = {(row.family, row.school_year): (row.status, row.reason) for row in gaps.itertuples(index=False)}
    rows = []
    for family, years in held.items():
        years = set(years)
        listed = years | {year for fam, year in known if fam == family}
        if not listed or newest_year is None:
            rows.append({"family": family, "school_year": None, "held": False, "status": NOT_IN_SOURCE,
                         "reason": "no export of this family in the source"})
            continue
        first = int(sort_years(years or listed)[0][:4])
        last = max([start_of(newest_year), *(start_of(year) for year in years)])
        for start in range(first, last + 1):
            year = year_label(start)
            if year in years:
                rows.append({"family": family, "school_year": year, "held": True, "status": HELD, "reason": ""})
            else:
                status, reason = known.get((family, year), (NOT_IN_SOURCE, "no export for this year in the source"))
                rows.append({"family": family, "school_year": year, "held": False, "status": status, "reason": reason})
    frame = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
    frame["held"] = frame["held"].astype(bool)
    return frame

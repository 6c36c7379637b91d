"""The baseline for ``bench_perf.py --part bare``: the study's core numbers in a plain pandas script, no Dagster.

    python benchmarks/bare_pandas.py EXPORTS_DIR OUT_DIR

Reads the SBAC district exports of 2014-15 and 2015-16 and the 2015-16 growth export with ``pandas.read_csv``
(header row found by its text, ``*`` as missing) and writes, as Parquet under OUT_DIR:

- ``scores.parquet``: section 1, the grade 3-8 weighted score per district, subject and year;
- ``changes.parquet``: section 2, the 2014-15 -> 2015-16 change of the districts with no suppressed grade in
  either year (district scope);
- ``growth.parquet``: section 3, the growth rate per district and subject with its statewide rank.

It skips what the pipeline adds around those numbers (validation, provenance, archive, ranks in the cohort,
exclusion reasons, metadata, the report): it is what a hurried analyst would write, so the benchmark shows what the
pipeline's care costs. No project code is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

GRADES = ["03", "04", "05", "06", "07", "08"]


def read(path: Path, first_header_cell: str) -> pd.DataFrame:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(first_header_cell))
    frame = pd.read_csv(path, skiprows=header, na_values=["*"], dtype={"Grade": str}, encoding="utf-8-sig")
    frame["District Code"] = frame["District Code"].astype(str).str.strip('="').str.zfill(7)
    return frame[~frame["District"].isin(["Total", "State of Connecticut"])]


def scores(path: Path, year: str) -> pd.DataFrame:
    raw = read(path, '"District"')
    raw = raw[raw["Grade"].isin(GRADES)]
    n, v = raw["Total Number with Scored Tests"], raw["AverageVSS"]
    raw = raw.assign(published=n.notna() & v.notna(), nv=n * v)
    ok = raw[raw["published"]]
    out = ok.groupby(["District Code", "Subject"]).agg(n=("Total Number with Scored Tests", "sum"), nv=("nv", "sum"))
    out["score"] = out["nv"] / out["n"]
    out["suppressed"] = raw.groupby(["District Code", "Subject"])["published"].agg(lambda p: (~p).any())
    out["school_year"] = year
    return out.reset_index()


def main(exports: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    folder = exports / "sbac-district"
    start = scores(next(folder.glob("*2014-15*all-grades.csv")), "2014-15")
    end = scores(next(folder.glob("*2015-16*all-grades.csv")), "2015-16")
    pd.concat([start, end]).to_parquet(out / "scores.parquet")
    pair = start.merge(end, on=["District Code", "Subject"], suffixes=("_start", "_end"))
    suppressed = pair.groupby("District Code")[["suppressed_start", "suppressed_end"]].transform("any").any(axis=1)
    clean = pair[~suppressed].assign(change=lambda f: f["score_end"] - f["score_start"])
    clean[["District Code", "Subject", "score_start", "score_end", "change"]].to_parquet(out / "changes.parquet")
    growth = read(next((exports / "sbac-growth-district").glob("*2015-16*all-grades-combined.csv")), '"District Code"')
    growth["growth_rate"] = pd.to_numeric(growth["Growth Rate"].str.rstrip("%"), errors="coerce")
    growth["rank_state"] = growth.groupby("Subject")["growth_rate"].rank(method="min", ascending=False)
    growth[["District Code", "Subject", "growth_rate", "rank_state"]].to_parquet(out / "growth.parquet")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

"""Reference tables kept as data in the project (``data/reference/``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alliance_pipeline.paths import COHORT_REFERENCE, EDSIGHT_GAPS


def load_reference(path: str | Path, code_column: str = "district_code") -> pd.DataFrame:
    """A reference CSV as strings (codes keep their leading zeros; a blank cell is ""), with
    ``source_row`` (the line in the CSV) and ``source_file`` so every row traces back."""
    frame = pd.read_csv(path, dtype="string", keep_default_na=False)
    frame[code_column] = frame[code_column].str.strip()
    frame["source_row"] = pd.array(range(2, len(frame) + 2), dtype="Int64")
    frame["source_file"] = Path(path).name
    return frame


def load_cohort(path: str | Path = COHORT_REFERENCE) -> pd.DataFrame:
    """The Alliance District roster: code, name, town, first and last designated year."""
    return load_reference(path)


def load_gaps(family: str | None = None) -> pd.DataFrame:
    """The school years EdSight publishes no export for, and why (``edsight-gaps.csv``: family, school_year, status,
    reason); ``family``: that family's rows only."""
    gaps = pd.read_csv(EDSIGHT_GAPS, dtype="string", keep_default_na=False)
    return gaps if family is None else gaps[gaps["family"] == family]

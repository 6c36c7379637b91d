"""Reference tables kept as data in the project (``data/reference/``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alliance_pipeline.edsight.reader import sha256_of
from alliance_pipeline.paths import COHORT_REFERENCE


def load_cohort(path: str | Path = COHORT_REFERENCE) -> pd.DataFrame:
    """The Alliance District roster: code, name, town, first and last designated year.

    Codes stay strings (leading zeros); ``source_row`` is the line in the CSV.
    """
    frame = pd.read_csv(path, dtype="string", keep_default_na=False)
    frame["district_code"] = frame["district_code"].str.strip()
    frame["source_row"] = pd.array(range(2, len(frame) + 2), dtype="Int64")
    frame["source_file"] = Path(path).name
    return frame


def cohort_sha256(path: str | Path = COHORT_REFERENCE) -> str:
    return sha256_of(path)

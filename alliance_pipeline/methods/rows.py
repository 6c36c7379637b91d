"""Which rows of a raw export are districts.

Aggregate rows (``Total``, ``State of Connecticut``) are never districts, and neither is a named row that EdSight
published with a blank district code (``code_missing``, methodology section 11): it is real data that cannot be
joined to anything, so it is listed (``district_names``'s companion ``rows_without_code``) and kept out of every
per-district table.
"""

from __future__ import annotations

import pandas as pd


def district_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` that are districts with a code."""
    keep = pd.Series(True, index=frame.index)
    if "is_aggregate" in frame:
        keep &= ~frame["is_aggregate"].astype(bool)
    if "code_missing" in frame:
        keep &= ~frame["code_missing"].astype(bool)
    if "district_code" in frame:
        keep &= frame["district_code"].notna()
    return frame if bool(keep.all()) else frame[keep.to_numpy()]

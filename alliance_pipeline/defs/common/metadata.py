"""Small helpers for the metadata the Dagster UI shows."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from alliance_pipeline.school_year import sort_years

PREVIEW_ROWS = 10
# A yearly partition's own data version, in its metadata: one run may store a range of school years, and Dagster's
# data version is one per output (defs/common/checks.py: years_output; read by defs/operations/consistency.py).
YEARLY_VERSION = "yearly_version"


def preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS, columns: list[str] | None = None) -> dg.MetadataValue:
    shown = frame[columns] if columns else frame
    shown = shown.head(rows).copy()
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].map(lambda v: ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return dg.MetadataValue.md(shown.to_markdown(index=False) if len(shown) else "_no rows_")


def settings(**values) -> dict[str, dg.MetadataValue]:
    """Method settings recorded on an asset: ``setting/<name>``."""
    return {f"setting/{name}": dg.MetadataValue.text(str(value)) for name, value in values.items()}


def years_in(frame: pd.DataFrame, column: str) -> str:
    """The school years of ``column``, in order, as metadata text ("none" for an empty table)."""
    return ", ".join(sort_years(frame[column].dropna().unique())) if len(frame) else "none"

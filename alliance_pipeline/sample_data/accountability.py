"""Next Generation Accountability district totals."""

from __future__ import annotations

from pathlib import Path

from alliance_pipeline.sample_data.files import Raw, write_target
from alliance_pipeline.sample_data.model import SEED, districts_in, rng_for


def write_accountability(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """District totals of Next Generation Accountability (plain CSV, LF, no title rows)."""
    rows: list[list[object]] = [
        [Raw(label) for label in ("FallOfYear", "RptngDistrictName", "ReportingDistrictCode", "Category",
                                   "TotalPoints", "TotalPossiblePoints", "OutcomeRatePct")],
    ]
    for d in districts_in(year, seed):
        rng = rng_for(seed, "accountability", d.code, year, revision)
        possible = 1350.0 if d.enrollment >= 1500 else (900.0 if d.enrollment >= 600 else 450.0)
        index = min(95.0, max(35.0, 74.0 + 14.0 * d.ability + 40.0 * d.trend + rng.gauss(0.0, 2.0)))
        points = possible * index / 100.0
        rows.append([
            Raw(year[:4]), Raw(d.name), Raw(d.code), Raw("DistrictTot"),
            Raw(f"{points:.6f}"), Raw(f"{possible:.6f}"), Raw(f"{100.0 * points / possible:.6f}"),
        ])
    return write_target(out, "accountability", year, rows, newline="\n", trailing_blank=False)

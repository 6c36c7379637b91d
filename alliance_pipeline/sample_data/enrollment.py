"""Student counts by district (a newly opened district with a blank code in its year)."""

from __future__ import annotations

from pathlib import Path

from alliance_pipeline.sample_data.files import quoted_code, write_target
from alliance_pipeline.sample_data.model import OPENED, SEED, districts_in, rng_for
from alliance_pipeline.school_year import start_of


def write_enrollment(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    rows: list[list[object]] = [
        ["Student Counts by District and Year"],
        ["All Districts"],
        [year],
        [],
        ["District", "District Code", "Count"],
    ]
    total = 0
    for d in districts_in(year, seed):
        rng = rng_for(seed, "enrollment", d.code, year, revision)
        count = round(d.enrollment * (1.0 + 0.01 * (start_of(year) - 2014)) * rng.uniform(0.98, 1.02))
        total += count
        rows.append([d.name, quoted_code(d.code), count if count >= 100 else "*"])
    if year == OPENED[0]:  # EdSight writes a newly opened district with a blank code: real data, no code invented
        rows.append([OPENED[1], quoted_code(""), OPENED[2]])
        total += OPENED[2]
    rows.append(["Total", quoted_code(""), total])
    return write_target(out, "enrollment", year, rows)

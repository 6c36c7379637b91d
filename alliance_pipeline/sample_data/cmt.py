"""The CMT results by district, grade and subject (the project's format)."""

from __future__ import annotations

from pathlib import Path

from alliance_pipeline.sample_data.files import Raw, quoted_code, write_target
from alliance_pipeline.sample_data.model import CMT_MEAN, SEED, districts_in, rng_for
from alliance_pipeline.school_year import start_of


def write_cmt_district(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """The project's CMT format (no public district CMT export is available)."""
    rows: list[list[object]] = [
        [f"Connecticut Mastery Test (CMT), {year}"],
        ["All Districts, Math, Reading and Writing, Grades 3-8, All Students"],
        [],
        ["District", "District Code", "Grade", "Subject", "Number Tested", "Average Scale Score"],
    ]
    offset = start_of(year) - 2012
    for d in districts_in(year, seed):
        for grade in d.grades:
            for subject in ("Math", "Reading", "Writing"):
                rng = rng_for(seed, "cmt", d.code, grade, subject, year, revision)
                tested = max(1, round(d.enrollment / 13 * rng.uniform(0.85, 1.1)))
                score = CMT_MEAN[subject] + 40.0 * (d.ability - 0.6 * d.trend * 3 + d.trend * offset) + rng.gauss(0, 4)
                value: object = round(score, 1) if tested >= 20 else "*"
                rows.append([d.name, quoted_code(d.code), Raw(f"{grade:02d}"), subject, tested, value])
    return write_target(out, "cmt_district", year, rows)

"""Deterministic sample exports in the exact EdSight formats.

The default run of the pipeline reads these, never the public exports. The
districts are the 30 cohort districts (real codes and names, from the
reference roster) plus a set of other Connecticut districts of every
organization type; every number is drawn from a seeded model, so the files are
byte-for-byte reproducible: ``alliance-pipeline sample --out DIR``.

What the files exercise: CRLF line endings and title rows, the two-row SBAC
header, ``="0010011"`` codes, ``*`` suppression (small grades, small
achievement-level counts, tiny districts' enrollment), percent strings in the
growth report, a regional high-school district that serves no tested grade and
one that serves only grades 7-8, and the project's CMT format.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from alliance_pipeline.sample_data.accountability import write_accountability
from alliance_pipeline.sample_data.cmt import write_cmt_district
from alliance_pipeline.sample_data.enrollment import write_enrollment
from alliance_pipeline.sample_data.model import SAMPLE_YEARS, SEED, districts_in, sample_districts
from alliance_pipeline.sample_data.sbac import (
    write_sbac_district,
    write_sbac_district_combined,
    write_sbac_growth,
    write_sbac_state,
)
from alliance_pipeline.sample_data.subgroups import SUBGROUP_MODEL, write_sbac_subgroup
from alliance_pipeline.school_year import sort_years

__all__ = ["SAMPLE_YEARS", "SEED", "WRITERS", "districts_in", "generate_sample", "sample_districts", "write_export"]

WRITERS = {
    "sbac_district": write_sbac_district,
    "sbac_state": write_sbac_state,
    "sbac_district_combined": write_sbac_district_combined,
    "sbac_growth": write_sbac_growth,
    "cmt_district": write_cmt_district,
    "enrollment": write_enrollment,
    "accountability": write_accountability,
    **{family: partial(write_sbac_subgroup, family) for family in SUBGROUP_MODEL},
}


def write_export(out: Path, family: str, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """Write one family's export for one school year (any year, e.g. a new 2017-18)."""
    return WRITERS[family](Path(out), year, seed=seed, revision=revision)


def generate_sample(out: Path, seed: int = SEED, years: dict[str, tuple[str, ...]] | None = None) -> list[Path]:
    """Write the whole sample dataset below ``out``; returns the files written."""
    written = []
    for family, family_years in (years or SAMPLE_YEARS).items():
        for year in sort_years(family_years):
            written.append(write_export(Path(out), family, year, seed=seed))
    return written

"""Smarter Balanced by subgroup (race/ethnicity, English learners, special education, meal eligibility)."""

from __future__ import annotations

import math
from pathlib import Path

from alliance_pipeline.sample_data.files import quoted_code, write_target
from alliance_pipeline.sample_data.model import (
    SBAC_LEVEL_CUTS,
    SEED,
    STUDENT_SD,
    GradeResult,
    SampleDistrict,
    cohort_rows,
    districts_in,
    normal_cdf,
    rng_for,
    year_index,
)
from alliance_pipeline.sample_data.sbac import SBAC_GROUP_ROW, SBAC_HEADER, sbac_grade, sbac_row

# Subgroup exports (section 10): (EdSight value, share in a cohort district, share elsewhere,
# achievement offset in student standard deviations). Shares are per family and add up to 1.
SUBGROUP_MODEL: dict[str, tuple[str, str, tuple[tuple[str, float, float, float], ...]]] = {
    "sbac_subgroup_race": ("Race/Ethnicity", "Race", (
        ("American Indian or Alaska Native", 0.004, 0.003, -0.30),
        ("Asian", 0.030, 0.060, 0.35),
        ("Black or African American", 0.300, 0.060, -0.45),
        ("Hispanic/Latino of any race", 0.420, 0.110, -0.40),
        ("Native Hawaiian or Other Pacific Islander", 0.002, 0.001, -0.20),
        ("Two or More Races", 0.034, 0.036, 0.00),
        ("White", 0.210, 0.730, 0.25),
    )),
    "sbac_subgroup_ell": ("English Learner Status (EL)", "ELL", (
        ("N", 0.86, 0.96, 0.05),
        ("Y", 0.14, 0.04, -0.90),
    )),
    "sbac_subgroup_special_education": ("Special Education Status (SWD)", "Special Education", (
        ("N", 0.84, 0.86, 0.12),
        ("Y", 0.16, 0.14, -1.00),
    )),
    "sbac_subgroup_meal": ("Free/Reduced Price Meal Eligibility (3-level)", "Free/Reduced Price Meal Eligibility (3-level)", (
        ("F", 0.62, 0.18, -0.45),
        ("N", 0.30, 0.76, 0.30),
        ("R", 0.08, 0.06, -0.20),
    )),
}


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` by largest remainder (the parts add up to ``total``)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (exact[i] - parts[i], weights[i]), reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _subgroup_results(d: SampleDistrict, family: str, subject: str, year: str, seed: int, revision: int,
                      cohort: bool) -> list[tuple[str, GradeResult]]:
    """One all-grades-combined result per subgroup value; the student counts add up to the
    district's all-students counts over its tested grades in the all-students export."""
    grades = [sbac_grade(d, grade, subject, year, seed, revision) for grade in d.grades]
    students = sum(g.students for g in grades)
    untested = students - sum(g.tested for g in grades)
    unscored = sum(g.tested - g.scored for g in grades)
    rng = rng_for(seed, "subgroup", family, d.code, year)  # same shares in both subjects
    values = SUBGROUP_MODEL[family][2]
    weights = [(cohort_share if cohort else other_share) * rng.uniform(0.7, 1.3)
               for _, cohort_share, other_share, _ in values]
    counts = _split(students, weights)
    not_tested = _split(untested, counts)
    not_scored = _split(unscored, [c - u for c, u in zip(counts, not_tested)])
    mean = d.ability + d.trend * year_index(year) + 2.0 * year_index(year) / STUDENT_SD
    cuts = [offset / STUDENT_SD for offset in SBAC_LEVEL_CUTS[subject]]
    out = []
    for (value, _, _, offset), count, u, v in zip(values, counts, not_tested, not_scored):
        if count == 0:
            continue  # EdSight lists only the groups a district has
        tested = count - u
        scored = tested - v
        noise = rng_for(seed, "subgroup-score", family, d.code, subject, value, year, revision).gauss(0.0, 0.06)
        shares = [normal_cdf(cut - (mean + offset + noise)) for cut in cuts]
        p = [shares[0], shares[1] - shares[0], shares[2] - shares[1], 1.0 - shares[2]]
        levels = [round(scored * share) for share in p]
        levels[3] = max(0, scored - sum(levels[:3]))
        out.append((value, GradeResult(count, tested, scored, tuple(levels), 0)))
    return out


def write_sbac_subgroup(family: str, out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """Smarter Balanced, all grades combined, by one subgroup family, in EdSight's layout."""
    title, column, _ = SUBGROUP_MODEL[family]
    cohort = {code for code, _ in cohort_rows()}
    rows: list[list[object]] = [
        [f"Smarter Balanced Assessments, {year}"],
        [f"All Districts, ELA and Math, All Grades Combined, {title}"],
        [],
        SBAC_GROUP_ROW[:18],
        [*SBAC_HEADER[:2], "Subject", column, *SBAC_HEADER[4:-1]],
    ]
    for d in districts_in(year, seed):
        if not d.grades:
            continue
        for subject in ("ELA", "Math"):
            for value, result in _subgroup_results(d, family, subject, year, seed, revision, d.code in cohort):
                rows.append([d.name, quoted_code(d.code), subject, value, *sbac_row(result)[:-1]])
    return write_target(out, family, year, rows)

"""Smarter Balanced exports: by district and grade, statewide, and the growth model."""

from __future__ import annotations

from pathlib import Path

from alliance_pipeline.sample_data.files import Raw, quoted_code, write_target
from alliance_pipeline.sample_data.model import (
    SBAC_GRADE_MEAN,
    SBAC_LEVEL_CUTS,
    SEED,
    STUDENT_SD,
    TESTED_GRADES,
    GradeResult,
    SampleDistrict,
    districts_in,
    normal_cdf,
    pct,
    rng_for,
    year_index,
)


def sbac_grade(d: SampleDistrict, grade: int, subject: str, year: str, seed: int, revision: int) -> GradeResult:
    rng = rng_for(seed, "sbac", d.code, grade, subject, year, revision)
    size = rng_for(seed, "size", d.code, grade, year)  # same cohort size in both subjects
    students = max(1, round(d.enrollment / 13 * size.uniform(0.85, 1.15)))
    tested = max(0, students - round(students * size.uniform(0.0, 0.04)))
    scored = max(0, tested - (1 if tested > 40 and size.random() < 0.3 else 0))
    mean = (
        SBAC_GRADE_MEAN[subject][grade]
        + STUDENT_SD * (d.ability + d.trend * year_index(year))
        + rng.gauss(0.0, 6.0)
        + 2.0 * year_index(year)
    )
    cuts = [SBAC_GRADE_MEAN[subject][grade] + offset for offset in SBAC_LEVEL_CUTS[subject]]
    shares = [normal_cdf((cut - mean) / STUDENT_SD) for cut in cuts]
    p = [shares[0], shares[1] - shares[0], shares[2] - shares[1], 1.0 - shares[2]]
    counts = [round(scored * share) for share in p]
    counts[3] = max(0, scored - sum(counts[:3]))
    return GradeResult(students, tested, scored, tuple(counts), round(mean))


def sbac_row(result: GradeResult) -> list[object]:
    """The value cells of one SBAC row, with EdSight's suppression applied."""
    star = "*"
    students = result.students
    tested = result.tested if students >= 10 else star
    scored = result.scored if students >= 10 else star
    if result.scored < 20:
        participation = star
    else:
        participation = round(100.0 * result.tested / students, 1)
    cells: list[object] = [students, tested, participation, scored]
    if result.scored < 20:
        return cells + [star] * 11
    l1, l2, l3, l4 = result.levels
    for count in (l1, l2, l3, l4):
        cells += [star, star] if count < 5 else [count, pct(count, result.scored)]
    met = l3 + l4
    cells += [star, star] if (l3 < 5 or l4 < 5) else [met, pct(met, result.scored)]
    cells.append(result.vss)
    return cells


SBAC_GROUP_ROW = [
    "", None, None, None, None, None, None, None,
    "Level 1Not Met", None, "Level 2Approaching", None, "Level 3Met", None,
    "Level 4Exceeded", None, "Level 3&4Met or Exceeded", None, "",
]
SBAC_HEADER = [
    "District", "District Code", "Grade", "Subject", "Total Numberof Students", "Total NumberTested",
    "Smarter BalancedParticipationRate", "Total Number with Scored Tests",
    "Level 1 Not Met  Count", "%", "Level 2 Approaching  Count", "%", "Level 3 Met  Count", "%",
    "Level 4 Exceeded  Count", "%", "Level 3&4 Met or Exceeded Count", "%", "AverageVSS",
]


def write_sbac_district(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    rows: list[list[object]] = [
        [f"Smarter Balanced Assessments, {year}"],
        ["All Districts, ELA and Math, All Grades, All Students"],
        [],
        SBAC_GROUP_ROW,
        SBAC_HEADER,
    ]
    for d in districts_in(year, seed):
        for grade in d.grades:
            for subject in ("ELA", "Math"):
                result = sbac_grade(d, grade, subject, year, seed, revision)
                rows.append([d.name, quoted_code(d.code), Raw(f"{grade:02d}"), subject, *sbac_row(result)])
    return write_target(out, "sbac_district", year, rows)


def write_sbac_state(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """Statewide totals: the true aggregate of every district's students."""
    rows: list[list[object]] = [
        [f"Smarter Balanced Assessments, {year}"],
        ["State of Connecticut, ELA and Math, All Grades, All Students"],
        [],
        SBAC_GROUP_ROW[:1] + SBAC_GROUP_ROW[2:],
        SBAC_HEADER[:1] + SBAC_HEADER[2:],
    ]
    districts = districts_in(year, seed)
    for grade in TESTED_GRADES:
        for subject in ("ELA", "Math"):
            results = [sbac_grade(d, grade, subject, year, seed, revision) for d in districts if grade in d.grades]
            students = sum(r.students for r in results)
            tested = sum(r.tested for r in results)
            scored = sum(r.scored for r in results)
            levels = [sum(r.levels[i] for r in results) for i in range(4)]
            vss = round(sum(r.vss * r.scored for r in results) / scored)
            cells: list[object] = [students, tested, round(100.0 * tested / students, 1), scored]
            for count in levels:
                cells += [count, pct(count, scored)]
            cells += [levels[2] + levels[3], pct(levels[2] + levels[3], scored), vss]
            rows.append(["State of Connecticut", Raw(f"{grade:02d}"), subject, *cells])
    return write_target(out, "sbac_state", year, rows)


def write_sbac_growth(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    rows: list[list[object]] = [
        [f"Smarter Balanced Growth Report, {year}"],
        ["All Districts, All Students"],
        [],
        ["District Code", "District", "Subject", "Number ofMatched Students", "Growth Rate",
         "Average Percentageof Target Achieved"],
    ]
    for d in districts_in(year, seed):
        matched_grades = [g for g in d.grades if g >= 4]
        if not matched_grades:
            continue
        for subject in ("ELA", "Math"):
            rng = rng_for(seed, "growth", d.code, subject, year, revision)
            matched = sum(sbac_grade(d, g, subject, year, seed, revision).scored for g in matched_grades)
            matched = max(0, matched - round(matched * rng.uniform(0.02, 0.08)))
            if matched < 20:
                rows.append([quoted_code(d.code), d.name, subject, matched, "*", "*"])
                continue
            rate = min(95.0, max(5.0, 44.0 + 220.0 * d.trend + 6.0 * d.ability + rng.gauss(0.0, 3.0)))
            target = min(99.0, rate * 1.35 + rng.gauss(3.0, 2.0))
            rows.append([quoted_code(d.code), d.name, subject, matched, f"{rate:.1f}%", f"{target:.1f}%"])
    return write_target(out, "sbac_growth", year, rows)


COMBINED_GROUP_ROW = [
    "", None, None, None, None, None, None, "Level 1Not Met", None, "Level 2Approaching", None, "Level 3Met", None,
    "Level 4Exceeded", None, "Level 3&4Met or Exceeded", None,
]
COMBINED_HEADER = [
    "District", "District Code", "Subject", "Total Number of Students", "Total Number Tested",
    "Smarter Balanced Participation Rate", "Total Number with Scored Tests", *["Count", "%"] * 5,
]


def write_sbac_district_combined(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """EdSight's all-grades-combined report: each district's grades summed (as the real report's counts are the
    by-grade rows' sums), the name and code on the ELA row only, the Math row below it with neither."""
    rows: list[list[object]] = [
        [f"Smarter Balanced Assessments, {year}"],
        ["All Districts, ELA and Math, All Grades Combined, All Students"],
        [],
        COMBINED_GROUP_ROW,
        COMBINED_HEADER,
    ]
    for d in districts_in(year, seed):
        if not d.grades:
            continue
        for subject in ("ELA", "Math"):
            grades = [sbac_grade(d, grade, subject, year, seed, revision) for grade in d.grades]
            total = GradeResult(sum(g.students for g in grades), sum(g.tested for g in grades),
                                sum(g.scored for g in grades),
                                tuple(sum(g.levels[i] for g in grades) for i in range(4)), 0)
            named = [d.name, quoted_code(d.code)] if subject == "ELA" else [None, None]
            rows.append([*named, subject, *sbac_row(total)[:-1]])
    return write_target(out, "sbac_district_combined", year, rows)

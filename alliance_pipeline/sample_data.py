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

import csv
import math
import random
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from alliance_pipeline.edsight.families import FAMILIES, sort_years
from alliance_pipeline.paths import COHORT_REFERENCE

SEED = 20170630
TESTED_GRADES = (3, 4, 5, 6, 7, 8)
SAMPLE_YEARS = {
    "cmt_district": ("2011-12", "2012-13"),
    "sbac_district": ("2014-15", "2015-16", "2016-17"),
    "sbac_state": ("2014-15", "2015-16", "2016-17"),
    "sbac_growth": ("2015-16", "2016-17"),
    "enrollment": ("2011-12", "2012-13", "2013-14", "2014-15", "2015-16", "2016-17"),
    "accountability": ("2014-15", "2015-16", "2016-17"),
    "sbac_subgroup_race": ("2014-15", "2015-16", "2016-17"),
    "sbac_subgroup_ell": ("2014-15", "2015-16", "2016-17"),
    "sbac_subgroup_special_education": ("2014-15", "2015-16", "2016-17"),
    "sbac_subgroup_meal": ("2014-15", "2015-16", "2016-17"),
}

# Other districts of the sample: (code, name, enrollment, grades served 3-8).
OTHER_DISTRICTS: tuple[tuple[str, str, int, tuple[int, ...]], ...] = (
    ("0010011", "Andover School District", 260, (3, 4, 5, 6)),
    ("0040011", "Avon School District", 3300, TESTED_GRADES),
    ("0070011", "Berlin School District", 2900, TESTED_GRADES),
    ("0090011", "Bethel School District", 3100, TESTED_GRADES),
    ("0130011", "Bozrah School District", 190, TESTED_GRADES),
    ("0140011", "Branford School District", 2800, TESTED_GRADES),
    ("0180011", "Brookfield School District", 2700, TESTED_GRADES),
    ("0210011", "Canaan School District", 70, TESTED_GRADES),
    ("0250011", "Cheshire School District", 4300, TESTED_GRADES),
    ("0280011", "Colchester School District", 2600, TESTED_GRADES),
    ("0320011", "Coventry School District", 1700, TESTED_GRADES),
    ("0330011", "Cromwell School District", 1950, TESTED_GRADES),
    ("0350011", "Darien School District", 4800, TESTED_GRADES),
    ("0450011", "East Lyme School District", 2800, TESTED_GRADES),
    ("0490011", "Enfield School District", 5400, TESTED_GRADES),
    ("0510011", "Fairfield School District", 10000, TESTED_GRADES),
    ("0520011", "Farmington School District", 4000, TESTED_GRADES),
    ("0540011", "Glastonbury School District", 6300, TESTED_GRADES),
    ("0570011", "Greenwich School District", 8900, TESTED_GRADES),
    ("0590011", "Groton School District", 4800, TESTED_GRADES),
    ("0600011", "Guilford School District", 3300, TESTED_GRADES),
    ("0840011", "Milford School District", 6600, TESTED_GRADES),
    ("1010011", "North Haven School District", 3500, TESTED_GRADES),
    ("1080011", "Plainfield School District", 2300, TESTED_GRADES),
    ("1190011", "Shelton School District", 4900, TESTED_GRADES),
    ("1230011", "Southington School District", 6600, TESTED_GRADES),
    ("1280011", "Stratford School District", 7000, TESTED_GRADES),
    ("1420011", "Torrington School District", 4300, TESTED_GRADES),
    ("1480011", "Wallingford School District", 6000, TESTED_GRADES),
    ("1590011", "Wethersfield School District", 3700, TESTED_GRADES),
    ("2010012", "Regional School District 01", 420, ()),
    ("2040012", "Regional School District 04", 900, (7, 8)),
    ("2130012", "Regional School District 13", 1900, TESTED_GRADES),
    ("2150012", "Regional School District 15", 3800, TESTED_GRADES),
    ("2170012", "Regional School District 17", 2000, TESTED_GRADES),
    ("2790013", "Amistad Academy District", 1000, TESTED_GRADES),
    ("2880013", "Achievement First Hartford Academy Inc. District", 950, TESTED_GRADES),
    ("2420014", "Capitol Region Education Council", 6500, TESTED_GRADES),
    ("2440014", "Area Cooperative Educational Services", 2100, TESTED_GRADES),
    ("3370015", "Department of Children and Families", 210, (6, 7, 8)),
    ("9000016", "Connecticut Technical High School System", 10800, ()),
    ("4010022", "Norwich Free Academy District", 2200, ()),
)

# Enrollment of the cohort districts (roughly their size in the 2010s).
COHORT_ENROLLMENT = {
    "0020011": 2500, "0110011": 2100, "0150011": 20500, "0170011": 8300, "0340011": 11000,
    "0370011": 1400, "0430011": 7000, "0440011": 3200, "0470011": 1250, "0620011": 5900,
    "0640011": 21000, "0690011": 2500, "0770011": 6100, "0800011": 8500, "0830011": 4800,
    "0880011": 4300, "0890011": 10000, "0930011": 21500, "0950011": 3200, "1030011": 11300,
    "1040011": 3600, "1160011": 1200, "1350011": 15900, "1460011": 3400, "1510011": 18500,
    "1560011": 5800, "1620011": 1700, "1630011": 3200, "1640011": 3200, "1650011": 1850,
}

SBAC_GRADE_MEAN = {  # statewide-ish average vertical scale score by subject and grade
    "ELA": {3: 2432, 4: 2473, 5: 2508, 6: 2527, 7: 2552, 8: 2568},
    "Math": {3: 2432, 4: 2471, 5: 2496, 6: 2514, 7: 2530, 8: 2547},
}
SBAC_LEVEL_CUTS = {  # offsets of the level 2/3/4 cut scores from the grade mean
    "ELA": (-65.0, 0.0, 65.0),
    "Math": (-60.0, 10.0, 80.0),
}
CMT_MEAN = {"Math": 262.0, "Reading": 251.0, "Writing": 247.0}
STUDENT_SD = 85.0


@dataclass(frozen=True)
class SampleDistrict:
    code: str
    name: str
    enrollment: int
    grades: tuple[int, ...]
    ability: float  # district effect, in student standard deviations
    trend: float  # yearly improvement, in student standard deviations


def _cohort_rows() -> list[tuple[str, str]]:
    with open(COHORT_REFERENCE, newline="", encoding="utf-8") as handle:
        return [(row["district_code"], row["district_name"]) for row in csv.DictReader(handle)]


def sample_districts(seed: int = SEED) -> list[SampleDistrict]:
    rng = random.Random(seed)
    districts = []
    for code, name in _cohort_rows():
        districts.append(
            SampleDistrict(
                code, name, COHORT_ENROLLMENT[code], TESTED_GRADES,
                ability=rng.gauss(-0.55, 0.25), trend=rng.gauss(0.02, 0.04),
            )
        )
    for code, name, enrollment, grades in OTHER_DISTRICTS:
        districts.append(
            SampleDistrict(
                code, name, enrollment, grades,
                ability=rng.gauss(0.25, 0.3), trend=rng.gauss(0.0, 0.03),
            )
        )
    return sorted(districts, key=lambda d: d.name)


# What the real exports showed (methodology section 11), so the default run exercises each rule: a district that
# closes (no row from CLOSED's year on), one renamed under the same code (from RENAMED's year on), and a newly
# opened one that EdSight lists with a blank code (=\"\") in the enrollment export of OPENED's year.
CLOSED = ("3370015", "2016-17")  # Department of Children and Families: no rows in 2016-17
RENAMED = ("9000016", "2016-17", "Connecticut Technical Education and Career System")
OPENED = ("2016-17", "Sample Newly Opened Academy, Inc. District", 45)


def districts_in(year: str, seed: int = SEED) -> list[SampleDistrict]:
    """The sample's districts as the exports of ``year`` list them (closings and renames applied)."""
    listed = []
    for d in sample_districts(seed):
        if d.code == CLOSED[0] and _year_index(year) >= _year_index(CLOSED[1]):
            continue
        if d.code == RENAMED[0] and _year_index(year) >= _year_index(RENAMED[1]):
            d = SampleDistrict(d.code, RENAMED[2], d.enrollment, d.grades, d.ability, d.trend)
        listed.append(d)
    return sorted(listed, key=lambda d: d.name)


def _year_index(year: str) -> int:
    return int(year[:4]) - 2014


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(f"{seed}|" + "|".join(str(p) for p in parts))


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# --- writing files the way EdSight does -------------------------------------------------


class _Raw(str):
    """A cell written without quotes (EdSight leaves numbers unquoted)."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, bool):
        raise TypeError("booleans are not EdSight cells")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value).replace('"', '""')
    return f'"{text}"'


def _code(code: str) -> str:
    return f'="{code}"'


def _write(path: Path, rows: list[list[object]], newline: str = "\r\n", trailing_blank: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(_cell(value) for value in row) if row else "" for row in rows]
    text = newline.join(lines) + newline
    if trailing_blank:
        text += newline
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))
    tmp.replace(path)


def _pct(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _GradeResult:
    students: int
    tested: int
    scored: int
    levels: tuple[int, int, int, int]
    vss: int


def _sbac_grade(d: SampleDistrict, grade: int, subject: str, year: str, seed: int, revision: int) -> _GradeResult:
    rng = _rng(seed, "sbac", d.code, grade, subject, year, revision)
    size = _rng(seed, "size", d.code, grade, year)  # same cohort size in both subjects
    students = max(1, round(d.enrollment / 13 * size.uniform(0.85, 1.15)))
    tested = max(0, students - round(students * size.uniform(0.0, 0.04)))
    scored = max(0, tested - (1 if tested > 40 and size.random() < 0.3 else 0))
    mean = (
        SBAC_GRADE_MEAN[subject][grade]
        + STUDENT_SD * (d.ability + d.trend * _year_index(year))
        + rng.gauss(0.0, 6.0)
        + 2.0 * _year_index(year)
    )
    cuts = [SBAC_GRADE_MEAN[subject][grade] + offset for offset in SBAC_LEVEL_CUTS[subject]]
    shares = [_normal_cdf((cut - mean) / STUDENT_SD) for cut in cuts]
    p = [shares[0], shares[1] - shares[0], shares[2] - shares[1], 1.0 - shares[2]]
    counts = [round(scored * share) for share in p]
    counts[3] = max(0, scored - sum(counts[:3]))
    return _GradeResult(students, tested, scored, tuple(counts), round(mean))


def _sbac_row(result: _GradeResult) -> list[object]:
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
        cells += [star, star] if count < 5 else [count, _pct(count, result.scored)]
    met = l3 + l4
    cells += [star, star] if (l3 < 5 or l4 < 5) else [met, _pct(met, result.scored)]
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
                result = _sbac_grade(d, grade, subject, year, seed, revision)
                rows.append([d.name, _code(d.code), _Raw(f"{grade:02d}"), subject, *_sbac_row(result)])
    return _target(out, "sbac_district", year, rows)


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
            results = [_sbac_grade(d, grade, subject, year, seed, revision) for d in districts if grade in d.grades]
            students = sum(r.students for r in results)
            tested = sum(r.tested for r in results)
            scored = sum(r.scored for r in results)
            levels = [sum(r.levels[i] for r in results) for i in range(4)]
            vss = round(sum(r.vss * r.scored for r in results) / scored)
            cells: list[object] = [students, tested, round(100.0 * tested / students, 1), scored]
            for count in levels:
                cells += [count, _pct(count, scored)]
            cells += [levels[2] + levels[3], _pct(levels[2] + levels[3], scored), vss]
            rows.append(["State of Connecticut", _Raw(f"{grade:02d}"), subject, *cells])
    return _target(out, "sbac_state", year, rows)


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
            rng = _rng(seed, "growth", d.code, subject, year, revision)
            matched = sum(_sbac_grade(d, g, subject, year, seed, revision).scored for g in matched_grades)
            matched = max(0, matched - round(matched * rng.uniform(0.02, 0.08)))
            if matched < 20:
                rows.append([_code(d.code), d.name, subject, matched, "*", "*"])
                continue
            rate = min(95.0, max(5.0, 44.0 + 220.0 * d.trend + 6.0 * d.ability + rng.gauss(0.0, 3.0)))
            target = min(99.0, rate * 1.35 + rng.gauss(3.0, 2.0))
            rows.append([_code(d.code), d.name, subject, matched, f"{rate:.1f}%", f"{target:.1f}%"])
    return _target(out, "sbac_growth", year, rows)


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
                      cohort: bool) -> list[tuple[str, _GradeResult]]:
    """One all-grades-combined result per subgroup value; the student counts add up to the
    district's all-students counts over its tested grades in the all-students export."""
    grades = [_sbac_grade(d, grade, subject, year, seed, revision) for grade in d.grades]
    students = sum(g.students for g in grades)
    untested = students - sum(g.tested for g in grades)
    unscored = sum(g.tested - g.scored for g in grades)
    rng = _rng(seed, "subgroup", family, d.code, year)  # same shares in both subjects
    values = SUBGROUP_MODEL[family][2]
    weights = [(cohort_share if cohort else other_share) * rng.uniform(0.7, 1.3)
               for _, cohort_share, other_share, _ in values]
    counts = _split(students, weights)
    not_tested = _split(untested, counts)
    not_scored = _split(unscored, [c - u for c, u in zip(counts, not_tested)])
    mean = d.ability + d.trend * _year_index(year) + 2.0 * _year_index(year) / STUDENT_SD
    cuts = [offset / STUDENT_SD for offset in SBAC_LEVEL_CUTS[subject]]
    out = []
    for (value, _, _, offset), count, u, v in zip(values, counts, not_tested, not_scored):
        if count == 0:
            continue  # EdSight lists only the groups a district has
        tested = count - u
        scored = tested - v
        noise = _rng(seed, "subgroup-score", family, d.code, subject, value, year, revision).gauss(0.0, 0.06)
        shares = [_normal_cdf(cut - (mean + offset + noise)) for cut in cuts]
        p = [shares[0], shares[1] - shares[0], shares[2] - shares[1], 1.0 - shares[2]]
        levels = [round(scored * share) for share in p]
        levels[3] = max(0, scored - sum(levels[:3]))
        out.append((value, _GradeResult(count, tested, scored, tuple(levels), 0)))
    return out


def write_sbac_subgroup(family: str, out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """Smarter Balanced, all grades combined, by one subgroup family, in EdSight's layout."""
    title, column, _ = SUBGROUP_MODEL[family]
    cohort = {code for code, _ in _cohort_rows()}
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
                rows.append([d.name, _code(d.code), subject, value, *_sbac_row(result)[:-1]])
    return _target(out, family, year, rows)


def write_cmt_district(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """The project's CMT format (no public district CMT export is available)."""
    rows: list[list[object]] = [
        [f"Connecticut Mastery Test (CMT), {year}"],
        ["All Districts, Math, Reading and Writing, Grades 3-8, All Students"],
        [],
        ["District", "District Code", "Grade", "Subject", "Number Tested", "Average Scale Score"],
    ]
    offset = int(year[:4]) - 2012
    for d in districts_in(year, seed):
        for grade in d.grades:
            for subject in ("Math", "Reading", "Writing"):
                rng = _rng(seed, "cmt", d.code, grade, subject, year, revision)
                tested = max(1, round(d.enrollment / 13 * rng.uniform(0.85, 1.1)))
                score = CMT_MEAN[subject] + 40.0 * (d.ability - 0.6 * d.trend * 3 + d.trend * offset) + rng.gauss(0, 4)
                value: object = round(score, 1) if tested >= 20 else "*"
                rows.append([d.name, _code(d.code), _Raw(f"{grade:02d}"), subject, tested, value])
    return _target(out, "cmt_district", year, rows)


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
        rng = _rng(seed, "enrollment", d.code, year, revision)
        count = round(d.enrollment * (1.0 + 0.01 * (int(year[:4]) - 2014)) * rng.uniform(0.98, 1.02))
        total += count
        rows.append([d.name, _code(d.code), count if count >= 100 else "*"])
    if year == OPENED[0]:  # EdSight writes a newly opened district with a blank code: real data, no code invented
        rows.append([OPENED[1], _code(""), OPENED[2]])
        total += OPENED[2]
    rows.append(["Total", _code(""), total])
    return _target(out, "enrollment", year, rows)


def write_accountability(out: Path, year: str, seed: int = SEED, revision: int = 0) -> Path:
    """District totals of Next Generation Accountability (plain CSV, LF, no title rows)."""
    rows: list[list[object]] = [
        [_Raw(label) for label in ("FallOfYear", "RptngDistrictName", "ReportingDistrictCode", "Category",
                                   "TotalPoints", "TotalPossiblePoints", "OutcomeRatePct")],
    ]
    for d in districts_in(year, seed):
        rng = _rng(seed, "accountability", d.code, year, revision)
        possible = 1350.0 if d.enrollment >= 1500 else (900.0 if d.enrollment >= 600 else 450.0)
        index = min(95.0, max(35.0, 74.0 + 14.0 * d.ability + 40.0 * d.trend + rng.gauss(0.0, 2.0)))
        points = possible * index / 100.0
        rows.append([
            _Raw(year[:4]), _Raw(d.name), _Raw(d.code), _Raw("DistrictTot"),
            _Raw(f"{points:.6f}"), _Raw(f"{possible:.6f}"), _Raw(f"{100.0 * points / possible:.6f}"),
        ])
    return _target(out, "accountability", year, rows, newline="\n", trailing_blank=False)


def _target(out: Path, family: str, year: str, rows: list[list[object]], **kwargs) -> Path:
    spec = FAMILIES[family]
    path = Path(out) / spec.folder / spec.filename_for(year)
    _write(path, rows, **kwargs)
    return path


WRITERS = {
    "sbac_district": write_sbac_district,
    "sbac_state": write_sbac_state,
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

"""The sample's districts, school years and score model (seeded, so every file is reproducible)."""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass

from alliance_pipeline.paths import COHORT_REFERENCE
from alliance_pipeline.school_year import start_of

SEED = 20170630
TESTED_GRADES = (3, 4, 5, 6, 7, 8)
SAMPLE_YEARS = {
    "cmt_district": ("2011-12", "2012-13"),
    "sbac_district": ("2014-15", "2015-16", "2016-17"),
    "sbac_state": ("2014-15", "2015-16", "2016-17"),
    "sbac_district_combined": ("2014-15", "2015-16", "2016-17"),
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


def cohort_rows() -> list[tuple[str, str]]:
    with open(COHORT_REFERENCE, newline="", encoding="utf-8") as handle:
        return [(row["district_code"], row["district_name"]) for row in csv.DictReader(handle)]


def sample_districts(seed: int = SEED) -> list[SampleDistrict]:
    rng = random.Random(seed)
    districts = []
    for code, name in cohort_rows():
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
        if d.code == CLOSED[0] and year_index(year) >= year_index(CLOSED[1]):
            continue
        if d.code == RENAMED[0] and year_index(year) >= year_index(RENAMED[1]):
            d = SampleDistrict(d.code, RENAMED[2], d.enrollment, d.grades, d.ability, d.trend)
        listed.append(d)
    return sorted(listed, key=lambda d: d.name)


def year_index(year: str) -> int:
    return start_of(year) - 2014


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(f"{seed}|" + "|".join(str(p) for p in parts))


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def pct(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


@dataclass(frozen=True)
class GradeResult:
    students: int
    tested: int
    scored: int
    levels: tuple[int, int, int, int]
    vss: int

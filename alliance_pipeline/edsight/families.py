"""The export families the pipeline reads, and how their files are named.

A family is one EdSight report (or the project's CMT format) published once a
school year. Files are found by name, in a folder per family, exactly as the
public exports are laid out in ``shared/edsight`` and in the bundled sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

YEAR_PATTERN = r"(?P<year>\d{4}-\d{2})"


@dataclass(frozen=True)
class ExportFamily:
    name: str  # also the suffix of the raw asset: raw_<name>
    folder: str
    filename: str  # regular expression with a (?P<year>...) group
    description: str
    keys: tuple[str, ...]  # one row per these columns (district rows)
    # Other names EdSight gives the same report (regular expressions like ``filename``), each with the suite that
    # checks that format. A year present under several names is read from the first of ``formats``.
    alternatives: tuple[tuple[str, str], ...] = ()
    # The district's name and code are written once per block (the Math row under the ELA row has neither):
    # read_export's ``continued_rows``.
    continued_rows: bool = False

    @property
    def asset_name(self) -> str:
        return f"raw_{self.name}"

    @property
    def partitions_name(self) -> str:
        return f"{self.name}_years"

    @property
    def formats(self) -> tuple[tuple[str, str], ...]:
        """(file name pattern, expectations suite) of every format of this report, the preferred first."""
        return (*self.alternatives, (self.filename, self.asset_name))

    def match(self, filename: str) -> str | None:
        """The school year in ``filename`` if it belongs to this family."""
        found = self.match_format(filename)
        return found[0] if found else None

    def match_format(self, filename: str) -> tuple[str, int] | None:
        """(school year, place of its format in ``formats``: 0 is preferred) if ``filename`` belongs to this family."""
        for place, (pattern, _) in enumerate(self.formats):
            found = re.fullmatch(pattern, filename)
            if found:
                return found.group("year"), place
        return None

    def suite_for(self, filename: str) -> str:
        """The expectations suite of the format ``filename`` is in."""
        found = self.match_format(filename)
        return self.formats[found[1]][1] if found else self.asset_name

    def filename_for(self, year: str) -> str:
        """The canonical file name for ``year`` (used by the sample generator)."""
        return FILENAME_TEMPLATES[self.name].format(year=year)


FILENAME_TEMPLATES = {
    "sbac_district": "smarter-balanced__{year}_ela-and-math_all-students_all-grades.csv",
    "sbac_state": "smarter-balanced__{year}_ela-and-math_all-students_all-grades_ct.csv",
    "sbac_district_combined": "smarter-balanced__{year}_ela-and-math_all-students_all-grades-combined.csv",
    "sbac_growth": "smarter-balanced-growth-model__{year}_ela-and-math_all-students_all-grades-combined.csv",
    "cmt_district": "connecticut-mastery-test__{year}_math-reading-writing_all-students_all-grades.csv",
    "enrollment": "enrollment__{year}_all-students.csv",
    "accountability": "next-generation-accountability__{year}_district-totals_extract.csv",
    # EdSight's own Next Generation Accountability download (NGAExport): ~120 columns, district and school rows.
    "accountability_full": "next-generation-accountability__{year}_all.csv",
    "sbac_subgroup_race": "smarter-balanced__{year}_ela-and-math_race_all-grades-combined.csv",
    "sbac_subgroup_ell": "smarter-balanced__{year}_ela-and-math_ell_all-grades-combined.csv",
    "sbac_subgroup_special_education": "smarter-balanced__{year}_ela-and-math_special-education_all-grades-combined.csv",
    "sbac_subgroup_meal": (
        "smarter-balanced__{year}_ela-and-math_free-reduced-price-meal-eligibility-3-level-_all-grades-combined.csv"
    ),
}

# The subgroup families share one folder; each file names its subgroup (methodology section 10).
SUBGROUP_FOLDER = "sbac-district-subgroups"
SUBGROUP_FAMILIES = (
    "sbac_subgroup_race", "sbac_subgroup_ell", "sbac_subgroup_special_education", "sbac_subgroup_meal",
)


def _pattern(name: str) -> str:
    return re.escape(FILENAME_TEMPLATES[name]).replace(re.escape("{year}"), YEAR_PATTERN)


FAMILIES: dict[str, ExportFamily] = {
    family.name: family
    for family in (
        ExportFamily(
            "sbac_district",
            "sbac-district",
            _pattern("sbac_district"),
            "Smarter Balanced, all districts, ELA and Math, by grade, all students",
            ("district_code", "grade", "subject"),
        ),
        ExportFamily(
            "sbac_state",
            "sbac-state",
            _pattern("sbac_state"),
            "Smarter Balanced, State of Connecticut, ELA and Math, by grade",
            ("grade", "subject"),
        ),
        ExportFamily(
            "sbac_district_combined",
            "sbac-district-combined",
            _pattern("sbac_district_combined"),
            "Smarter Balanced, all districts, ELA and Math, all grades combined, all students (share at each level; "
            "no scale score)",
            ("district_code", "subject"),
            continued_rows=True,
        ),
        ExportFamily(
            "sbac_growth",
            "sbac-growth-district",
            _pattern("sbac_growth"),
            "Smarter Balanced Growth Report, all districts, all grades combined",
            ("district_code", "subject"),
        ),
        ExportFamily(
            "cmt_district",
            "cmt-district",
            _pattern("cmt_district"),
            "Connecticut Mastery Test, all districts, Math / Reading / Writing, by grade (project format)",
            ("district_code", "grade", "subject"),
        ),
        ExportFamily(
            "enrollment",
            "enrollment-district",
            _pattern("enrollment"),
            "Student counts by district",
            ("district_code",),
        ),
        ExportFamily(
            "accountability",
            "accountability",
            _pattern("accountability"),
            "Next Generation Accountability (EdSight's full export, or the 7-column district-totals extract; "
            "OutcomeRatePct of the DistrictTot row = Accountability Index)",
            ("district_code",),
            alternatives=((_pattern("accountability_full"), "raw_accountability_full"),),
        ),
        *(
            ExportFamily(
                name,
                SUBGROUP_FOLDER,
                _pattern(name),
                f"Smarter Balanced, all districts, ELA and Math, all grades combined, by {label}",
                ("district_code", "subject", "subgroup"),
            )
            for name, label in (
                ("sbac_subgroup_race", "race/ethnicity (Race)"),
                ("sbac_subgroup_ell", "English learner status (ELL: Y/N)"),
                ("sbac_subgroup_special_education", "special education status (Special Education: Y/N)"),
                ("sbac_subgroup_meal", "free/reduced-price meal eligibility, 3 levels (F, R, N)"),
            )
        ),
    )
}



"""Section 11: CSDE's identification (section 6) on every index year, the cohort of each school year, and
designations under other rules (what-if).

- ``alliance_designations``: section 6's four steps for every index year that has an accountability export and
  enrollment. The configured designation (index 2015-16, for 2017-18) adds the roster's 2012-13 to 2016-17
  designees in step 4, exactly as ``alliance_identification``; a later index year's step 4 adds the districts of
  the designation before it; an earlier one's, the roster's (a what-if: CSDE did not designate on it).
- ``cohort_by_year``: which districts are the cohort of each school year: the roster's (the study's 30) until the
  first scheduled designation applies, then that designation's.
- ``designation_what_if``: the configured designation recomputed with another number of lowest districts, another
  enrollment floor or another index year, with the districts that enter and leave.

Every designation is section 6's own function; nothing is re-implemented here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from alliance_pipeline.edsight.families import sort_years
from alliance_pipeline.methods import alliance_identification as section_6

STUDY_COHORT = "study"


@dataclass(frozen=True)
class Rule:
    """Section 6's settings for one designation."""

    index_year: str = "2015-16"
    designation_year: str = "2017-18"
    enrollment_threshold: int = 1000
    lowest_n: int = 30
    prior_first_year: str = "2012-13"
    prior_last_year: str = "2016-17"


def designation_year_for(index_year: str, rule: Rule) -> str:
    """The school year a designation on ``index_year`` is for: the configured gap (2015-16 -> 2017-18)."""
    lag = int(rule.designation_year[:4]) - int(rule.index_year[:4])
    start = int(index_year[:4]) + lag
    return f"{start}-{(start + 1) % 100:02d}"


def index_years(enrollment: Mapping[str, pd.DataFrame], accountability: Mapping[str, pd.DataFrame]) -> list[str]:
    """The years with both an accountability export and enrollment: a designation can be computed on each."""
    return sort_years(set(enrollment) & set(accountability))


def designate(enrollment: Mapping[str, pd.DataFrame], accountability: Mapping[str, pd.DataFrame],
              roster: pd.DataFrame, rule: Rule, prior: set[str] | None = None,
              prior_label: str | None = None) -> pd.DataFrame:
    """Section 6 on ``rule`` (its index year's exports), step 4 adding ``prior`` (default: the roster's)."""
    return section_6.alliance_identification(
        enrollment[rule.index_year], accountability[rule.index_year], roster,
        designation_year=rule.designation_year, index_year=rule.index_year,
        enrollment_threshold=rule.enrollment_threshold, lowest_n=rule.lowest_n,
        prior_first_year=rule.prior_first_year, prior_last_year=rule.prior_last_year,
        prior=prior, prior_label=prior_label,
    )


DESIGNATION_COLUMNS = [*section_6.IDENTIFICATION_COLUMNS, "step4_prior", "configured"]


def alliance_designations(enrollment: Mapping[str, pd.DataFrame], accountability: Mapping[str, pd.DataFrame],
                          roster: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """Every index year's designation (the audit trail of each, stacked): see the module's docstring."""
    blocks = []
    previous: tuple[str, set[str]] | None = None
    for year in index_years(enrollment, accountability):
        this = Rule(year, designation_year_for(year, rule), rule.enrollment_threshold, rule.lowest_n,
                    rule.prior_first_year, rule.prior_last_year)
        later = int(year[:4]) > int(rule.index_year[:4]) and previous is not None
        if later:
            label = f"designated for {previous[0]} (index {previous[2]})"
            frame = designate(enrollment, accountability, roster, this, previous[1], label)
        else:
            label = f"designated {rule.prior_first_year} to {rule.prior_last_year}"
            frame = designate(enrollment, accountability, roster, this)
        frame["step4_prior"] = label
        frame["configured"] = year == rule.index_year
        if int(year[:4]) >= int(rule.index_year[:4]):  # the chain of designations starts at the configured one
            previous = (this.designation_year, set(frame.loc[frame["designated"], "district_code"]), year)
        blocks.append(frame)
    if not blocks:
        return pd.DataFrame(columns=DESIGNATION_COLUMNS)
    return pd.concat(blocks, ignore_index=True)[DESIGNATION_COLUMNS]


COHORT_COLUMNS = ["school_year", "cohort", "cohort_index_year", "district_code", "district_name"]


def cohort_label(index_year: str | None, designation_year: str | None, roster: pd.DataFrame) -> str:
    if index_year is None:
        first, last = sort_years(roster["first_year"])[0], sort_years(roster["last_year"])[-1]
        return f"Alliance Districts designated {first} to {last} (the study's cohort)"
    return f"designation for {designation_year} (Accountability Index {index_year})"


def cohort_by_year(roster: pd.DataFrame, designations: pd.DataFrame, applies_from: Mapping[str, str],
                   years: Iterable[str]) -> pd.DataFrame:
    """The cohort of each school year in ``years``: the designation on index year I applies from school year
    ``applies_from[I]`` until the next one applies; before the first, the roster's districts.

    A scheduled designation that could not be computed (its index year has no exports) is skipped: the cohort
    stays the one before it. Rows: one per school year and cohort district."""
    held = set(designations["index_year"]) if len(designations) else set()
    schedule = sorted(((start, index) for index, start in applies_from.items() if index in held),
                      key=lambda item: int(item[0][:4]))
    roster_rows = roster[["district_code", "district_name"]]
    blocks = []
    for year in sort_years(years):
        applying = [index for start, index in schedule if int(start[:4]) <= int(year[:4])]
        if applying:
            index = applying[-1]
            chosen = designations[(designations["index_year"] == index) & designations["designated"]]
            rows = chosen[["district_code", "district_name"]]
            label = cohort_label(index, chosen["designation_year"].iloc[0] if len(chosen) else None, roster)
        else:
            index, rows, label = None, roster_rows, cohort_label(None, None, roster)
        block = rows.copy()
        block.insert(0, "school_year", year)
        block.insert(1, "cohort", label)
        block.insert(2, "cohort_index_year", index)
        blocks.append(block)
    if not blocks:
        return pd.DataFrame(columns=COHORT_COLUMNS)
    frame = pd.concat(blocks, ignore_index=True)[COHORT_COLUMNS]
    frame["cohort_index_year"] = frame["cohort_index_year"].astype("string")
    return frame.sort_values(["school_year", "district_code"], key=_year_key).reset_index(drop=True)


def _year_key(column: pd.Series) -> pd.Series:
    return column.str[:4].astype(int) if column.name == "school_year" else column


def cohort_codes(cohorts: pd.DataFrame) -> dict[str, set[str]]:
    """school year -> the codes of its cohort (from ``cohort_by_year``)."""
    return {year: set(group["district_code"]) for year, group in cohorts.groupby("school_year")}


def with_cohort(frame: pd.DataFrame, cohorts: pd.DataFrame, year_column: str) -> pd.DataFrame:
    """``frame`` with the ``cohort`` each row's ``year_column`` used (section 11: every per-year row says which)."""
    labels = cohorts.drop_duplicates("school_year").set_index("school_year")["cohort"]
    out = frame.copy()
    out["cohort"] = out[year_column].map(labels).astype("string") if len(out) else pd.Series(dtype="string")
    return out


WHAT_IF_COLUMNS = [
    "alternative", "varied", "index_year", "enrollment_threshold", "lowest_n", "designated", "entering", "leaving",
    "entering_districts", "leaving_districts",
]


def designation_what_if(enrollment: Mapping[str, pd.DataFrame], accountability: Mapping[str, pd.DataFrame],
                        roster: pd.DataFrame, rule: Rule, lowest: Iterable[int] = (25, 30, 35),
                        floors: Iterable[int] = (500, 1000, 2000)) -> pd.DataFrame:
    """The configured designation under other rules: the number of lowest districts taken, the enrollment floor,
    the index year (every year with the exports); per alternative, the districts that enter and leave compared
    with the configured rule (step 4 adds the roster's designees in every alternative, as in the configured one)."""
    years = index_years(enrollment, accountability)
    if rule.index_year not in years:
        return pd.DataFrame(columns=WHAT_IF_COLUMNS)
    base = designate(enrollment, accountability, roster, rule)
    chosen = set(base.loc[base["designated"], "district_code"])
    names = {}
    alternatives = [("lowest_n", Rule(rule.index_year, rule.designation_year, rule.enrollment_threshold, n,
                                      rule.prior_first_year, rule.prior_last_year)) for n in lowest]
    alternatives += [("enrollment_threshold", Rule(rule.index_year, rule.designation_year, floor, rule.lowest_n,
                                                   rule.prior_first_year, rule.prior_last_year)) for floor in floors]
    alternatives += [("index_year", Rule(year, designation_year_for(year, rule), rule.enrollment_threshold,
                                         rule.lowest_n, rule.prior_first_year, rule.prior_last_year)) for year in years]
    rows = []
    for varied, alternative in alternatives:
        frame = designate(enrollment, accountability, roster, alternative)
        names.update(zip(frame["district_code"], frame["district_name"]))
        names.update(zip(base["district_code"], base["district_name"]))
        designated = set(frame.loc[frame["designated"], "district_code"])
        entering, leaving = sorted(designated - chosen), sorted(chosen - designated)
        rows.append({
            "alternative": _describe(varied, alternative, rule),
            "varied": varied,
            "index_year": alternative.index_year,
            "enrollment_threshold": alternative.enrollment_threshold,
            "lowest_n": alternative.lowest_n,
            "designated": len(designated),
            "entering": entering,
            "leaving": leaving,
            "entering_districts": "; ".join(f"{names.get(code)} ({code})" for code in entering) or "none",
            "leaving_districts": "; ".join(f"{names.get(code)} ({code})" for code in leaving) or "none",
        })
    frame = pd.DataFrame(rows, columns=WHAT_IF_COLUMNS)
    for column in ("designated", "enrollment_threshold", "lowest_n"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _describe(varied: str, alternative: Rule, rule: Rule) -> str:
    same = (varied == "lowest_n" and alternative.lowest_n == rule.lowest_n) or (
        varied == "enrollment_threshold" and alternative.enrollment_threshold == rule.enrollment_threshold) or (
        varied == "index_year" and alternative.index_year == rule.index_year)
    text = {"lowest_n": f"the lowest {alternative.lowest_n}",
            "enrollment_threshold": f"at least {alternative.enrollment_threshold:,} students",
            "index_year": f"the {alternative.index_year} Accountability Index and enrollment"}[varied]
    return text + (" (the configured rule)" if same else "")

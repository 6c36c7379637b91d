"""Sections 11 and 13: Alliance Districts designated as C.G.S. 10-262u designates them (five-year cohorts), the
cohort of each school year, a watch list on the newest index, and designations under other rules (what-if).

- ``alliance_designations``: one designation per statute cohort, never a yearly list. FY2013's 30 are the
  reference roster (CSDE chose them by a District Performance Index EdSight does not publish). Each later cohort is
  section 6's four steps on the newest Accountability Index published before its first school year (an index for
  school year Y is published during Y+1, so the newest with Y <= first year - 2: 2015-16 for FY2018, 2018-19 for
  FY2023, there being none for 2019-20 and 2020-21), its step 4 adding every district designated before. The
  statute leaves three readings open (which towns, the enrollment floor, how many are taken): they are the rule's
  settings, recorded per row beside the statute's count and the count they give.
- Opportunity (educational reform) districts of a cohort: its designated districts among the ten lowest indexes
  of all towns (local and regional districts, any size) in its index year.
- ``cohort_by_year``: the cohort of each school year: the cohort whose five years include it; before FY2013, the
  study's 30; after the last cohort's five years, still the last one (no later cohort is defined in law).
- ``watch_list``: the newest index year's lowest towns that are not Alliance Districts, and Alliance Districts now
  far from the lowest. Labelled a watch list: nothing projected is a designation.
- ``designation_what_if``: the FY2018 designation (the configured rule) under other rules, labelled a what-if.

Every designation is section 6's own function; nothing is re-implemented here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from alliance_pipeline.methods import alliance_identification as section_6
from alliance_pipeline.methods.alliance_identification import Rule
from alliance_pipeline.school_year import SchoolYear, sort_years, start_of, starts_of, year_label


@dataclass(frozen=True)
class StatuteCohort:
    """A designation of C.G.S. 10-262u(b): the fiscal year it starts and the count the statute gives it."""

    fiscal_year: int
    statute_count: int
    years: int = 5

    @property
    def label(self) -> str:
        return f"FY{self.fiscal_year}"

    @property
    def first_year(self) -> str:
        return str(SchoolYear.of_fiscal(self.fiscal_year))

    @property
    def last_year(self) -> str:
        return str(SchoolYear.of_fiscal(self.fiscal_year + self.years - 1))

    def index_year(self, unpublished: Iterable[str] = ()) -> str:
        """The newest index year published before the designation: the newest school year up to the first year
        less two that is not among ``unpublished`` (no index for 2019-20 and 2020-21)."""
        start = self.fiscal_year - 3
        while str(SchoolYear.of_fiscal(start + 1)) in set(unpublished):
            start -= 1
        return str(SchoolYear.of_fiscal(start + 1))


STATUTE_COHORTS = (StatuteCohort(2013, 30), StatuteCohort(2018, 33), StatuteCohort(2023, 36))
OPPORTUNITY_COUNT = 10


def designation_year_for(index_year: str, rule: Rule) -> str:
    """The school year a designation on ``index_year`` is for, at the configured gap (2015-16 -> 2017-18): the
    what-if's other index years."""
    lag = start_of(rule.designation_year) - start_of(rule.index_year)
    start = start_of(index_year) + lag
    return year_label(start)


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


COHORT_FIELDS = ["cohort", "fiscal_year", "first_year", "last_year", "statute_count", "designated_count",
                 "count_matches", "reading", "town_rank", "opportunity"]
DESIGNATION_COLUMNS = [*section_6.IDENTIFICATION_COLUMNS, *COHORT_FIELDS]


def _reading(rule: Rule) -> str:
    return (f"local and regional districts with at least {rule.enrollment_threshold:,} students, the lowest "
            f"{rule.lowest_n} on the {rule.index_year} Accountability Index, plus every district designated before")


def _roster_block(roster: pd.DataFrame, cohort: StatuteCohort) -> pd.DataFrame:
    """FY2013: the reference roster's districts, designated by CSDE (no index EdSight publishes)."""
    frame = section_6.empty_audit().reindex(range(len(roster)))
    frame["district_code"] = roster["district_code"].to_numpy()
    frame["district_name"] = roster["district_name"].to_numpy()
    frame["organization_type"] = section_6.organization_types(roster["district_code"].reset_index(drop=True)).to_numpy()
    why = (f"designated by CSDE for {cohort.first_year} to {cohort.last_year} by its District Performance Index, "
           "which EdSight does not publish (data/reference/alliance-cohort.csv)")
    for column in ("step1_reason", "step2_reason", "step3_reason", "step4_reason"):
        frame[column] = why
    for column in ("step1_kept", "step2_kept", "step3_selected", "prior_designee", "step4_added",
                   "enrollment_suppressed"):
        frame[column] = False
    frame["designated"] = True
    frame["admitted_by"] = "reference table"
    frame["designation_year"] = cohort.first_year
    return frame


def alliance_designations(enrollment: Mapping[str, pd.DataFrame], accountability: Mapping[str, pd.DataFrame],
                          roster: pd.DataFrame, rule: Rule, unpublished: Iterable[str] = (),
                          cohorts: Iterable[StatuteCohort] = STATUTE_COHORTS) -> tuple[pd.DataFrame, list[str]]:
    """Every statute cohort's designation (the audit trail of each, stacked), and why any cohort could not be
    computed (its index year's exports are not held): see the module's docstring. ``rule`` gives the readings
    (enrollment floor, how many are taken); ``unpublished``: the school years with no Accountability Index."""
    held = index_years(enrollment, accountability)
    blocks, notes = [], []
    prior: set[str] = set()
    before: list[str] = []
    for number, cohort in enumerate(sorted(cohorts, key=lambda c: c.fiscal_year)):
        if number == 0:
            frame, index_year = _roster_block(roster, cohort), None
            frame["reading"] = "the reference table (CSDE's designation)"
        else:
            index_year = cohort.index_year(unpublished)
            if index_year not in held:
                notes.append(f"{cohort.label} ({cohort.first_year}): not computed: it is designated on the "
                             f"{index_year} Accountability Index (the newest published before it), and the "
                             f"{index_year} accountability and enrollment exports are not both in the source")
                continue
            this = replace(rule, index_year=index_year, designation_year=cohort.first_year)
            # the first computed cohort's step 4 is the roster's period, exactly as alliance_identification's
            frame = designate(enrollment, accountability, roster, this, *(
                (None, None) if number == 1 else (prior, f"designated in {', '.join(before)}")))
            frame["reading"] = _reading(this)
            frame["town_rank"] = _town_ranks(frame)
        frame["cohort"], frame["fiscal_year"] = cohort.label, cohort.fiscal_year
        frame["first_year"], frame["last_year"] = cohort.first_year, cohort.last_year
        frame["statute_count"] = cohort.statute_count
        count = int(frame["designated"].sum())
        frame["designated_count"], frame["count_matches"] = count, count == cohort.statute_count
        ranks = frame["town_rank"] if "town_rank" in frame else pd.Series(pd.NA, index=frame.index)
        frame["opportunity"] = (frame["designated"] & (ranks <= OPPORTUNITY_COUNT).fillna(False)) \
            if index_year else pd.NA
        prior |= set(frame.loc[frame["designated"], "district_code"])
        before.append(cohort.label)
        blocks.append(frame)
    if not blocks:
        return pd.DataFrame(columns=DESIGNATION_COLUMNS), notes
    frame = pd.concat(blocks, ignore_index=True).reindex(columns=DESIGNATION_COLUMNS)
    for column, dtype in {"fiscal_year": "Int64", "statute_count": "Int64", "designated_count": "Int64",
                          "town_rank": "Int64", "opportunity": "boolean", "count_matches": bool,
                          "index_year": "string", "reading": "string"}.items():
        frame[column] = frame[column].astype(dtype)
    return frame, notes


def _town_ranks(audit: pd.DataFrame) -> pd.Series:
    """Each town's place from the lowest index among all towns (local and regional districts, any size)."""
    towns = audit["step1_kept"] & audit["accountability_index"].notna()
    return audit["accountability_index"].where(towns).rank(method="min").astype("Int64")


COHORT_COLUMNS = ["school_year", "cohort", "cohort_index_year", "district_code", "district_name"]


def cohort_label(block: pd.DataFrame) -> str:
    """'FY2023 cohort (36 districts, Accountability Index 2018-19)'; FY2013: the study's 30."""
    first = block.iloc[0]
    count = int(block["designated"].sum())
    if pd.isna(first["index_year"]):
        return f"{first['cohort']} cohort (the study's {count} Alliance Districts)"
    return f"{first['cohort']} cohort ({count} districts, Accountability Index {first['index_year']})"


def cohort_by_year(roster: pd.DataFrame, designations: pd.DataFrame, years: Iterable[str]) -> pd.DataFrame:
    """The cohort of each school year in ``years``: the cohort whose five years include it (the newest that has
    started); before the first, the first (the study's 30). A cohort that could not be computed is not in
    ``designations``: the one before it continues. Rows: one per school year and cohort district."""
    chosen = designations[designations["designated"]] if len(designations) else designations
    cohorts = sorted(((start_of(first), label) for label, first in
                      chosen[["cohort", "first_year"]].drop_duplicates().itertuples(index=False)), key=lambda c: c[0]) \
        if len(chosen) else []
    blocks = []
    for year in sort_years(years):
        started = [label for start, label in cohorts if start <= start_of(year)] or [label for _, label in cohorts[:1]]
        if started:
            rows = chosen[chosen["cohort"] == started[-1]]
            block = rows[["district_code", "district_name"]].copy()
            label, index = cohort_label(rows), rows["index_year"].iloc[0]
        else:  # no designation at all: the roster
            block, label, index = roster[["district_code", "district_name"]].copy(), \
                f"the study's {len(roster)} Alliance Districts", None
        block.insert(0, "school_year", year)
        block.insert(1, "cohort", label)
        block.insert(2, "cohort_index_year", None if pd.isna(index) else index)
        blocks.append(block)
    if not blocks:
        return pd.DataFrame(columns=COHORT_COLUMNS)
    frame = pd.concat(blocks, ignore_index=True)[COHORT_COLUMNS]
    frame["cohort_index_year"] = frame["cohort_index_year"].astype("string")
    return frame.sort_values(["school_year", "district_code"], key=_year_key).reset_index(drop=True)


def cohort_at(designations: pd.DataFrame, year: str) -> pd.DataFrame:
    """The designated rows of the cohort whose five years include ``year`` (after the last cohort's five years, the
    newest started; none before the first)."""
    chosen = designations[designations["designated"]]
    started = chosen[starts_of(chosen["first_year"]) <= start_of(year)]
    if started.empty:
        return started
    return started[started["fiscal_year"] == started["fiscal_year"].max()]


def current_cohort(designations: pd.DataFrame, cohorts: pd.DataFrame) -> pd.DataFrame:
    """The current cohort (section 13): the one whose five years include the newest school year held, which is
    ``cohort_by_year``'s newest. No rows when nothing is held or designated."""
    years = sort_years(cohorts["school_year"].dropna()) if len(cohorts) else []
    if not years or not len(designations):
        return designations.iloc[0:0]
    return cohort_at(designations, years[-1])


def _year_key(column: pd.Series) -> pd.Series:
    return starts_of(column) if column.name == "school_year" else column


def cohort_codes(cohorts: pd.DataFrame) -> dict[str, set[str]]:
    """school year -> the codes of its cohort (from ``cohort_by_year``)."""
    return {year: set(group["district_code"]) for year, group in cohorts.groupby("school_year")}


def with_cohort(frame: pd.DataFrame, cohorts: pd.DataFrame, year_column: str) -> pd.DataFrame:
    """``frame`` with the ``cohort`` each row's ``year_column`` used (section 11: every per-year row says which)."""
    labels = cohorts.drop_duplicates("school_year").set_index("school_year")["cohort"]
    out = frame.copy()
    out["cohort"] = out[year_column].map(labels).astype("string") if len(out) else pd.Series(dtype="string")
    return out


WATCH_COLUMNS = ["index_year", "watch", "district_code", "district_name", "accountability_index", "index_rank",
                 "town_rank", "enrollment", "alliance_district", "cohort", "reason"]


def watch_list(enrollment: Mapping[str, pd.DataFrame], accountability: Mapping[str, pd.DataFrame],
               roster: pd.DataFrame, designations: pd.DataFrame, rule: Rule, far_rank: int) -> pd.DataFrame:
    """On the newest index year held: towns among the lowest ``rule.lowest_n`` (section 6's steps 1-3) that are not
    Alliance Districts of the current cohort, and current Alliance Districts ranked above ``far_rank`` among all
    towns (any size; or with no index). A watch list, never a designation."""
    held = index_years(enrollment, accountability)
    if not held or designations.empty:
        return pd.DataFrame(columns=WATCH_COLUMNS)
    year = held[-1]
    current = cohort_at(designations, year)  # the Alliance Districts of that index year
    codes = set(current["district_code"])
    label = current["cohort"].iloc[0] if len(current) else None
    audit = designate(enrollment, accountability, roster, replace(rule, index_year=year, designation_year=year),
                      prior=codes, prior_label=label)
    lowest = audit["step3_selected"] & ~audit["prior_designee"]
    audit["town_rank"] = _town_ranks(audit)
    far = audit["prior_designee"] & ~(audit["town_rank"] <= far_rank).fillna(False)
    place = ("index " + audit["accountability_index"].map("{:.2f}".format, na_action="ignore").astype(object)
             + ", rank " + audit["town_rank"].map(str, na_action="ignore").astype(object)
             + f" from the lowest of all towns on the {year} index").fillna(f"no Accountability Index for {year}")
    audit["watch"] = np.select([lowest.to_numpy(), far.to_numpy()],
                               [f"among the lowest {rule.lowest_n}, not an Alliance District",
                                f"Alliance District, not among the lowest {far_rank}"], "")
    audit["reason"] = np.where(lowest, audit["step3_reason"] + f" ({year}; not in the {label} cohort)",
                               place + f" ({label} cohort)")
    audit["alliance_district"], audit["cohort"] = audit["prior_designee"], label
    out = audit[lowest | far].sort_values(["watch", "index_rank", "district_code"], na_position="last")
    return out.reindex(columns=WATCH_COLUMNS).reset_index(drop=True).astype({"index_rank": "Int64", "town_rank": "Int64",
                                                                  "enrollment": "Int64"})


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

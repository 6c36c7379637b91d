"""The school year, as EdSight writes it ("2014-15": the fall it starts, the spring it ends), in one place (pure: no
Dagster, no pandas).

A school year travels through the pipeline as its text (partition keys, Parquet columns, file names), so the
functions here take and give text; ``SchoolYear`` is the value behind it:

- ``SchoolYear.parse("2014-15")`` (refuses text that is not two consecutive years), ``str(year)``;
- ``year.start`` (2014), ``year.previous`` / ``year.next``, ``year.fiscal_year`` (2015: the state's fiscal year
  ending 30 June of the spring), ``SchoolYear.of_fiscal(2015)``;
- ``start_of(text)``, ``year_label(start)``, ``previous_year(text)``, ``sort_years(texts)``, ``span(first, last)``,
  ``starts_of(column)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERN = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, order=True)
class SchoolYear:
    start: int  # the calendar year of its fall

    @classmethod
    def parse(cls, text: str) -> SchoolYear:
        match = _PATTERN.fullmatch(str(text).strip())
        if not match or not consecutive(int(match[1]), int(match[2])):
            raise ValueError(f"{text!r} is not a school year (expected two consecutive years, e.g. 2014-15)")
        return cls(int(match[1]))

    @classmethod
    def of_fiscal(cls, fiscal_year: int) -> SchoolYear:
        """Fiscal year N is the school year ending 30 June of N: 2023 -> 2022-23."""
        return cls(fiscal_year - 1)

    @property
    def fiscal_year(self) -> int:
        return self.start + 1

    @property
    def previous(self) -> SchoolYear:
        return SchoolYear(self.start - 1)

    @property
    def next(self) -> SchoolYear:
        return SchoolYear(self.start + 1)

    def __str__(self) -> str:
        return year_label(self.start)


def consecutive(start: int, end_two_digits: int) -> bool:
    """Whether "<start>-<end_two_digits>" names one school year (2014 and 15: yes; 2014 and 16: no)."""
    return (start + 1) % 100 == end_two_digits


def year_label(start: int) -> str:
    """2014 -> "2014-15"."""
    return f"{start}-{(start + 1) % 100:02d}"


def start_of(year) -> int:
    """The fall a school year's text starts in ("2014-15" -> 2014): the order of school years."""
    return int(str(year)[:4])


def sort_years(years) -> list[str]:
    """School years in order, each once."""
    return sorted(set(years), key=start_of)


def previous_year(year: str) -> str:
    """"2016-17" -> "2015-16"."""
    return year_label(start_of(year) - 1)


def span(first: str, last: str) -> list[str]:
    """Every school year from ``first`` to ``last``, both included."""
    return [year_label(start) for start in range(start_of(first), start_of(last) + 1)]


def starts_of(column):
    """A pandas column of school years as the falls they start in (to sort or compare a column)."""
    return column.astype(str).str[:4].astype(int)

"""Resources: where exports come from."""

from __future__ import annotations

import functools
import os
from enum import StrEnum
from pathlib import Path

import dagster as dg
from pydantic import Field

from alliance_pipeline import paths
from alliance_pipeline.edsight.families import FAMILIES, sort_years
from alliance_pipeline.edsight.sources import HttpExports, LocalExports


class EdSightSource(dg.ConfigurableResource):
    """EdSight exports, from a folder (default: the bundled sample) or an HTTP(S) base URL.

    Unset fields fall back to ``ALLIANCE_EDSIGHT_URL`` / ``ALLIANCE_EDSIGHT_DIR`` at
    run time, then to the project's sample data.
    """

    directory: str | None = Field(default=None, description="Folder with one sub-folder per export family.")
    base_url: str | None = Field(default=None, description="HTTP(S) base URL laid out like the folder.")
    download_dir: str | None = Field(default=None, description="Where HTTP downloads are kept.")
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per request.")
    retries: int = Field(default=3, description="HTTP retries per request, with exponential backoff.")
    step_retries: int = Field(default=3, description="When the source cannot be reached (or answers 5xx), run the "
                              "raw asset's step again this many times (never for a bad file).")
    retry_delay_seconds: float = Field(default=10.0, description="First wait before a step retry; doubles each time.")

    def exports(self) -> LocalExports | HttpExports:
        url = self.base_url or os.environ.get(paths.ENV_EDSIGHT_URL)
        if url:
            download = Path(self.download_dir) if self.download_dir else paths.downloads_dir()
            return _http_exports(url, download, self.timeout_seconds, self.retries)
        return LocalExports(Path(self.directory) if self.directory else paths.edsight_dir())

    def discover(self, family: str) -> dict[str, str]:
        return self.exports().discover(family)

    def validator(self, family: str, year: str, found: dict[str, str] | None = None) -> str | None:
        return self.exports().validator(family, year, found)

    def fetch(self, family: str, year: str, found: dict[str, str] | None = None) -> Path:
        return self.exports().fetch(family, year, found)


@functools.lru_cache(maxsize=8)
def _http_exports(url: str, download: Path, timeout: float, retries: int) -> HttpExports:
    """One HttpExports (one HTTP session, its connections reused) per source configuration in a process."""
    return HttpExports(url, download, timeout=timeout, retries=retries)


class SuppressionScope(StrEnum):
    """Section 2: a withheld grade excludes the district in every subject, or only in that subject."""

    district = "district"
    subject = "subject"


class MomentsPopulation(StrEnum):
    """Section 4.2: statewide moments over every scored district, or only the unsuppressed ones."""

    all_scored = "all_scored"
    unsuppressed = "unsuppressed"


# Which family's school years each year setting must be one of (checked when a run starts).
YEAR_SETTINGS = {
    "change_start_year": "sbac_district", "change_end_year": "sbac_district", "growth_year": "sbac_growth",
    "cmt_reference_year": "cmt_district", "t_base_year": "cmt_district", "t_end_year": "sbac_district",
}


class MethodSettings(dg.ConfigurableResource):
    """Every choice methodology.md calls configurable, with its stated default.

    Shown in the UI as resource config; each asset records the settings it used
    in its metadata (``setting/...``).
    """

    grades: list[int] = Field(default=[3, 4, 5, 6, 7, 8], description="Grades in scope for district scores (section 1).")
    change_start_year: str = Field(default="2014-15", description="SBAC change: first year (section 2).")
    change_end_year: str = Field(default="2015-16", description="SBAC change: second year (section 2).")
    suppression_scope: SuppressionScope = Field(default=SuppressionScope.district,
                                                description="'district' or 'subject' (section 2).")
    growth_year: str = Field(default="2015-16", description="Growth ranking year (section 3).")
    moments_population: MomentsPopulation = Field(default=MomentsPopulation.all_scored,
                                                  description="'all_scored' or 'unsuppressed' (section 4.2).")
    cmt_reference_year: str = Field(default="2012-13", description="CMT year whose moments anchor the first SBAC year (4.3).")
    t_base_year: str = Field(default="2011-12", description="T-score change base year (4.4).")
    t_end_year: str = Field(default="2015-16", description="T-score change end year (4.4).")
    top_n: int = Field(default=3, description="Top N per indicator, ties at the cut-off included (section 5).")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A year setting the instance does not hold fails the run before any asset computes, naming the setting
        and the years that exist. A family with no years at all is not an error: its indicators are unavailable."""
        if context.instance is None:
            return
        for setting, family in YEAR_SETTINGS.items():
            years = sort_years(context.instance.get_dynamic_partitions(FAMILIES[family].partitions_name))
            value = getattr(self, setting)
            if years and value not in years:
                raise dg.Failure(
                    description=f"method setting {setting} = {value!r} is not a school year of {FAMILIES[family].asset_name} "
                    f"(it has {', '.join(years)}); change the method resource's {setting}", allow_retries=False)


class IdentificationSettings(dg.ConfigurableResource):
    """CSDE's identification of Alliance and Opportunity Districts (section 6)."""

    designation_year: str = Field(default="2017-18", description="The designation being made.")
    index_year: str = Field(default="2015-16", description="Year of the Accountability Index and enrollment.")
    enrollment_threshold: int = Field(default=1000, description="Step 2: at least this many students.")
    lowest_n: int = Field(default=30, description="Step 3: the lowest N by Accountability Index.")
    prior_first_year: str = Field(default="2012-13", description="Step 4: first year of prior designation.")
    prior_last_year: str = Field(default="2016-17", description="Step 4: last year of prior designation.")
    opportunity_count: int = Field(default=10, description="Opportunity Districts: how many.")
    opportunity_index_year: str = Field(default="2015-16", description="Opportunity Districts: index year.")

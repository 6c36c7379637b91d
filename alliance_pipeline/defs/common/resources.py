"""Resources: where exports come from."""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path

import dagster as dg
from pydantic import Field

from alliance_pipeline import paths
from alliance_pipeline.defs.common.configuration import AT_LOAD
from alliance_pipeline.defs.common.partitions import registered_years
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import HttpExports, LocalExports
from alliance_pipeline.methods.alliance_identification import Rule
from alliance_pipeline.methods.sbac import DEFAULT_GRADES, PARTICIPATION_THRESHOLD


class CodeLocationGraph:
    """The code location's whole asset graph, for an asset that judges more than its own run's selection (the
    report: is every school year settled?). A run's context holds only its job's selection, and a run executed in
    process (``alliance-pipeline refresh``, the tests) has no repository; ``build_defs`` binds this resource to the
    Definitions it builds, so each process (a run's, a Celery worker's) asks the graph of the definitions it loaded."""

    def __init__(self) -> None:
        self._defs: dg.Definitions | None = None

    def bind(self, defs: dg.Definitions) -> dg.Definitions:
        self._defs = defs
        return defs

    def get(self):
        if self._defs is None:
            raise RuntimeError("CodeLocationGraph was not bound to its Definitions (build_defs binds it)")
        return self._defs.resolve_asset_graph()

    def resource(self) -> dg.ResourceDefinition:
        return dg.ResourceDefinition(resource_fn=self.code_location_graph, description=self.__doc__.split(" (")[0])

    def code_location_graph(self, _context) -> CodeLocationGraph:
        return self


class Storage(dg.ConfigurableResource):
    """Where the project writes: the Parquet warehouse, the archive of every export read, HTTP downloads, reports.

    The one place these folders are set: the IO manager, the raw assets (archive), the export source (downloads)
    and the report all take this resource. ``definitions.py`` configures it from ``ALLIANCE_*_DIR`` (``dg.EnvVar``).
    """

    warehouse_dir: str = Field(default=str(paths.DATA_DIR / "warehouse"),
                               description="Parquet output: <asset>/<school year>.parquet, or <asset>.parquet.")
    reports_dir: str = Field(default=str(paths.DATA_DIR / "reports"), description="Report output (latest/ is the newest).")
    archive_dir: str | None = Field(default=None, description="Every raw export version by SHA-256; default: "
                                    "archive/ beside the warehouse.")
    downloads_dir: str | None = Field(default=None, description="Exports fetched over HTTP; default: downloads/ "
                                      "beside the warehouse.")

    def warehouse(self) -> Path:
        return _absolute(self.warehouse_dir)

    def reports(self) -> Path:
        return _absolute(self.reports_dir)

    def archive(self) -> Path:
        return _absolute(self.archive_dir) if self.archive_dir else self.warehouse().parent / "archive"

    def plans_archive(self) -> Path:
        """Every coded plan sheet read, by SHA-256 (read-only), beside the exports' archive:
        ``plans-archive/plan_sheets/<plan year>/<sha256>.csv|.xlsx`` with its record."""
        return self.archive().parent / "plans-archive"

    def downloads(self) -> Path:
        return _absolute(self.downloads_dir) if self.downloads_dir else self.warehouse().parent / "downloads"


def _absolute(folder: str) -> Path:
    return Path(folder).expanduser().resolve()


class EdSightSource(dg.ConfigurableResource):
    """EdSight exports, from a folder (default: the bundled sample) or an HTTP(S) base URL (wins when set)."""

    directory: str = Field(default=str(paths.SAMPLE_EDSIGHT_DIR), description="Folder with one sub-folder per export family.")
    base_url: str | None = Field(default=None, description="HTTP(S) base URL laid out like the folder; downloads are "
                                 "kept in the storage resource's downloads folder.")
    storage: Storage
    timeout_seconds: float = Field(default=30.0, description="HTTP: seconds without a byte before a request fails "
                                   "(connect: at most 10). A stalled server is not retried.")
    download_budget_seconds: float = Field(default=300.0, description="HTTP: a whole download must finish within "
                                           "this, however slowly the server sends.")
    retries: int = Field(default=3, description="HTTP retries per request, with exponential backoff.")
    step_retries: int = Field(default=3, description="When the source cannot be reached (or answers 5xx), run the "
                              "raw asset's step again this many times (never for a bad file).")
    retry_delay_seconds: float = Field(default=10.0, description="First wait before a step retry; doubles each time.")

    def describe(self) -> str:
        return self.base_url or str(_absolute(self.directory))

    def holds_sample(self) -> bool:
        """Whether the exports are (or include) the bundled sample's generated files."""
        from alliance_pipeline.sample_identity import holds_sample_exports

        return not self.base_url and holds_sample_exports(_absolute(self.directory))

    def exports(self) -> LocalExports | HttpExports:
        if self.base_url:
            return _http_exports(self.base_url, self.storage.downloads(), self.timeout_seconds, self.retries,
                                 self.download_budget_seconds)
        return LocalExports(_absolute(self.directory))

    def discover(self, family: str) -> dict[str, str]:
        return self.exports().discover(family)

    def validator(self, family: str, year: str, found: dict[str, str] | None = None) -> str | None:
        return self.exports().validator(family, year, found)

    def fetch(self, family: str, year: str, found: dict[str, str] | None = None) -> Path:
        return self.exports().fetch(family, year, found)


@functools.lru_cache(maxsize=8)
def _http_exports(url: str, download: Path, timeout: float, retries: int, budget: float) -> HttpExports:
    """One HttpExports (one HTTP session, its connections reused) per source configuration in a process."""
    return HttpExports(url, download, timeout=timeout, retries=retries, budget=budget)


class PlanSheets(dg.ConfigurableResource):
    """Coded plan sheets (methodology section 12): one folder of ``plan-coding__<district>__<plan year>__<coder>``
    CSV or XLSX files. Plans come only from sheets the user gave: unset, there are none, except beside the bundled
    sample exports, whose generated sheets (``data/sample/plans``) go with them (``sample_identity``)."""

    directory: str | None = Field(default=None, description="Folder of coding sheets, one file per district, plan "
                                  "year and coder (`alliance-pipeline plans template` writes blank ones). Unset: no "
                                  "coded plans, except with the bundled sample exports (their generated sheets).")
    edsight: EdSightSource

    def folder(self) -> Path | None:
        """The folder the sheets are read from, or None when no coded plans were given."""
        if self.directory:
            return _absolute(self.directory)
        if self.edsight.holds_sample():
            return _absolute(str(paths.SAMPLE_PLANS_DIR))
        return None

    def is_sample(self) -> bool:
        """Whether the sheets are the bundled sample's (the report says so: they are not real coded plans)."""
        return is_sample_plans(self.folder())

    def describe(self) -> str:
        folder = self.folder()  # (looked at once: beside unset sheets, it reads the exports folder)
        if folder is None:
            return "none given (set ALLIANCE_PLANS_DIR or --plans to a folder of coding sheets)"
        return f"{folder}" + (" (the bundled sample: generated, not real coded plans)" if is_sample_plans(folder) else "")


def is_sample_plans(folder: Path | None) -> bool:
    """Whether ``folder`` (``PlanSheets.folder()``) is the bundled sample's coding sheets."""
    return folder == _absolute(str(paths.SAMPLE_PLANS_DIR))


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
    """Every choice methodology.md calls configurable, with its stated default (the grades and the participation
    threshold are the method's own: ``methods.sbac``).

    Shown in the UI as resource config; each asset records the settings it used
    in its metadata (``setting/...``).
    """

    grades: list[int] = Field(default=list(DEFAULT_GRADES), description="Grades in scope for district scores (section 1).")
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
    participation_threshold: float = Field(default=PARTICIPATION_THRESHOLD, description="A district-year-subject tested below this "
                                           "share of its students (percent) is flagged low_participation (section 11).")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A year setting someone set that the instance does not hold fails the run before any asset computes,
        naming the setting and the years that exist. A default year the exports lack is not an error (any folder the
        reader accepts refreshes): the indicators that need it are unavailable, and the report says why; so is a
        family with no years at all."""
        if context.instance is None:
            return
        for setting, family in YEAR_SETTINGS.items():
            if setting not in self.model_fields_set:
                continue
            years = registered_years(context.instance, family)
            value = getattr(self, setting)
            if years and value not in years:
                raise dg.Failure(
                    description=f"method setting {setting} = {value!r} is not a school year of {FAMILIES[family].asset_name} "
                    f"(it has {', '.join(years)}); change the method resource's {setting}", allow_retries=False)


class IdentificationSettings(dg.ConfigurableResource):
    """CSDE's identification of Alliance and Opportunity Districts (section 6). The designation's defaults are the
    method's own (``methods.alliance_identification.Rule``)."""

    designation_year: str = Field(default=Rule.designation_year, description="The designation being made.")
    index_year: str = Field(default=Rule.index_year, description="Year of the Accountability Index and enrollment.")
    enrollment_threshold: int = Field(default=Rule.enrollment_threshold, description="Step 2: at least this many students.")
    lowest_n: int = Field(default=Rule.lowest_n, description="Step 3: the lowest N by Accountability Index.")
    prior_first_year: str = Field(default=Rule.prior_first_year, description="Step 4: first year of prior designation.")
    prior_last_year: str = Field(default=Rule.prior_last_year, description="Step 4: last year of prior designation.")
    opportunity_count: int = Field(default=10, description="Opportunity Districts: how many.")
    opportunity_index_year: str = Field(default="2015-16", description="Opportunity Districts: the year whose "
                                        "Accountability Index ranks the designated districts (CSDE's published list "
                                        "is not simply the lowest on the 2015-16 index, so this is a choice; recorded "
                                        "in the table's index_year and the report's audit).")
    watch_far_rank: int = Field(default=60, description="Section 13's watch list: an Alliance District of the "
                                "current cohort ranked above this place from the lowest on the newest index is "
                                "listed as far from the lowest.")
    what_if_lowest_n: list[int] = Field(default=[25, 30, 35], description="What-if: numbers of lowest districts.")
    what_if_enrollment_thresholds: list[int] = Field(default=[500, 1000, 2000],
                                                     description="What-if: enrollment floors.")


class RefreshPolicy(dg.ConfigurableResource):
    """When CSDE's exports are refreshed and when a new school year is expected (annual schedules, freshness checks).

    ``cron`` is the annual schedules' cron: a schedule's cron is part of its definition, so it takes effect when the
    code location loads (``ALLIANCE_REFRESH_CRON``); the other fields are read when a tick or a check runs.
    """

    cron: str = Field(default="0 6 15 10 *", description="When the annual schedules run (New York time); "
                      "default 15 October 06:00, after CSDE's late-summer release.", json_schema_extra=AT_LOAD)
    latest_years: int = Field(default=2, ge=1, description="How many of each family's latest school years the annual "
                              "schedules refresh (at least 1).")
    release_date: str = Field(default="10-15", description="Month-day after which last spring's results are expected "
                              "(freshness checks).")
    republish_check_seconds: int = Field(default=300, ge=5, description="How often republished_export_sensor "
                                         "checks the loaded exports (conditional: size and time, or ETag; only a "
                                         "changed file is downloaded, so a frequent check is cheap).",
                                         json_schema_extra=AT_LOAD)
    sensor_seconds: int = Field(default=60, ge=5, description="How often the other sensors tick: "
                                "new_school_year_sensor, cross_year_tables_sensor, coded_plan_sheets_sensor and "
                                "keep_tables_current; school_year_partitions every half of it (default 60 and 30 s).",
                                json_schema_extra=AT_LOAD)

    def release(self) -> tuple[int, int]:
        month, day = self.release_date.split("-")
        return int(month), int(day)


def resolved(resource: dg.ConfigurableResource) -> dg.ConfigurableResource:
    """The resource as a run will see it: each ``dg.EnvVar`` field replaced by its value. For code that uses a
    resource outside a run or tick: the CLI's summary, and ``refresh`` registering the school years."""
    values = {}
    for field in type(resource).model_fields:
        value = getattr(resource, field)
        if isinstance(value, dg.ConfigurableResource):
            value = resolved(value)
        elif hasattr(value, "get_value") and hasattr(value, "env_var_name"):
            value = value.get_value()
        values[field] = value
    return type(resource)(**values)

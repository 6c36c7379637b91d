"""The names runs are planned and found by: job names, run tags, run limits. Shared by the jobs, sensors and
schedules here, the planner, ``alliance-pipeline refresh`` and the UI's filters."""

from alliance_pipeline.edsight.families import FAMILIES

TIMEZONE = "America/New_York"  # the schedules' clock

CROSS_YEAR_JOB = "cross_year_tables"
PLAN_YEAR_JOB = "single_plan_year"
FRESHNESS_JOB = "check_freshness"
REPORT_JOB = "report_only"


def year_job_name(family: str) -> str:
    """The job that refreshes school years of ``family`` (its raw asset and the assets partitioned with it)."""
    return f"single_year_{family}"


YEAR_JOBS = {year_job_name(name): name for name in FAMILIES}  # job name -> its family

TRIGGER_TAG = "alliance_pipeline/trigger"  # what planned the run: refresh, new_school_year, republished, annual...
FAMILY_TAG = "alliance_pipeline/family"
YEAR_TAG = "alliance_pipeline/school_year"
YEARS_TAG = "alliance_pipeline/school_years"  # a run over several school years of a family (a partition range)
PLAN_YEAR_TAG = "alliance_pipeline/plan_year"
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
INPUTS_TAG = "alliance_pipeline/inputs"  # the yearly versions a cross-year run was planned from

# Enforced by the instance's run monitoring (deploy/dagster-local.yaml): a hung run fails, and is alerted.
RUN_LIMITS = {"dagster/max_runtime": "3600"}

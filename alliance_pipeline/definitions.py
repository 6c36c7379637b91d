"""The one Definitions object of the code location, its jobs, schedules and sensors.

The automation policy (eager updates of everything after the raw assets) is set
once in ``defs/common/checks.py: table_asset`` (with the concurrency pool and
the export source's retry policy); owners and tags are set here once, the jobs'
maximum run time and the run-failure alert in ``defs/operations``.
"""

from __future__ import annotations

import dagster as dg

from alliance_pipeline.defs.beyond_study import assets as beyond
from alliance_pipeline.defs.common.io_manager import ParquetIOManager
from alliance_pipeline.defs.common.resources import EdSightSource, IdentificationSettings, MethodSettings
from alliance_pipeline.defs.identification import assets as identification
from alliance_pipeline.defs.indicators import assets as indicators
from alliance_pipeline.defs.ingest.assets import RAW_ASSETS, alliance_cohort, raw_export_versions, study_identified_districts
from alliance_pipeline.defs.operations.alerts import AlertSettings
from alliance_pipeline.defs.operations.definitions import build_operations
from alliance_pipeline.defs.reports import assets as reports

ASSETS = [
    *RAW_ASSETS,
    alliance_cohort,
    study_identified_districts,
    raw_export_versions,
    indicators.sbac_district_scores,
    indicators.sbac_score_changes,
    indicators.sbac_yearly_changes,
    indicators.growth_rankings,
    indicators.cmt_district_scores,
    indicators.statewide_moments,
    indicators.t_scores,
    indicators.t_score_changes,
    indicators.identified_districts,
    identification.alliance_identification,
    identification.opportunity_districts,
    beyond.identified_by_year,
    beyond.sbac_score_trends,
    beyond.identification_robustness,
    beyond.identification_margins,
    beyond.subgroup_proficiency,
    beyond.subgroup_gaps,
    beyond.subgroup_gap_summary,
    beyond.subgroup_gap_changes,
    reports.appendix_b_report,
]


OWNERS = ["team:alliance-data"]


def with_policies(assets: list) -> list:
    """Every asset: its owners and tags (the domain, the stage of the method it belongs to)."""
    return dg.map_asset_specs(
        lambda spec: spec.merge_attributes(owners=OWNERS, tags={"domain": "education", "stage": spec.group_name or ""}),
        assets,
    )


ASSETS = with_policies(ASSETS)


def build_resources(**overrides) -> dict:
    resources = {
        "io_manager": ParquetIOManager(),
        "edsight": EdSightSource(),
        "method": MethodSettings(),
        "identification_settings": IdentificationSettings(),
        "report_settings": reports.ReportSettings(),
        "alerts": AlertSettings(),
    }
    resources.update(overrides)
    return resources


# Each run executes its steps in its own process, one after another: a subprocess per step spent about 5 s importing
# pandas, Great Expectations and Dagster before doing a second of work. Parallelism comes from runs (the instance runs
# two at once, deploy/dagster-local.yaml): the machine has 2 cores.
EXECUTOR = dg.in_process_executor

defs = dg.Definitions(
    assets=ASSETS,
    resources=build_resources(),
    executor=EXECUTOR,
    **build_operations(ASSETS),
)

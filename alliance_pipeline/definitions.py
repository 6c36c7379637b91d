"""The one Definitions object of the code location."""

from __future__ import annotations

import dagster as dg

from alliance_pipeline.defs.common.io_manager import ParquetIOManager
from alliance_pipeline.defs.common.resources import EdSightSource, IdentificationSettings, MethodSettings
from alliance_pipeline.defs.identification import assets as identification
from alliance_pipeline.defs.indicators import assets as indicators
from alliance_pipeline.defs.ingest.assets import RAW_ASSETS, alliance_cohort
from alliance_pipeline.defs.ingest.sensors import new_school_year_sensor
from alliance_pipeline.defs.reports import assets as reports

ASSETS = [
    *RAW_ASSETS,
    alliance_cohort,
    indicators.sbac_district_scores,
    indicators.sbac_score_changes,
    indicators.growth_rankings,
    indicators.cmt_district_scores,
    indicators.statewide_moments,
    indicators.t_scores,
    indicators.t_score_changes,
    indicators.identified_districts,
    identification.alliance_identification,
    identification.opportunity_districts,
    reports.appendix_b_report,
]


def build_resources(**overrides) -> dict:
    resources = {
        "io_manager": ParquetIOManager(),
        "edsight": EdSightSource(),
        "method": MethodSettings(),
        "identification_settings": IdentificationSettings(),
        "report_settings": reports.ReportSettings(),
    }
    resources.update(overrides)
    return resources


defs = dg.Definitions(
    assets=ASSETS,
    sensors=[new_school_year_sensor],
    resources=build_resources(),
)

"""The jobs the UI shows, built for the code location's assets.

- ``single_year_<family>``: a family's raw asset and every asset partitioned like it (its *year group*: e.g.
  ``raw_sbac_district`` + ``sbac_district_scores``); one run refreshes one school year, or a range of them.
- ``single_plan_year``: one plan year's coding sheets (``raw_plan_codes``).
- ``cross_year_tables``: every table that spans school years, and the report.
- ``check_freshness`` and ``report_only``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from alliance_pipeline.defs.operations import freshness  # the module: its checks are loaded from there once
from alliance_pipeline.defs.operations.consistency import REPORT
from alliance_pipeline.defs.operations.constants import (
    CROSS_YEAR_JOB,
    FRESHNESS_JOB,
    PLAN_YEAR_JOB,
    REPORT_JOB,
    RUN_LIMITS,
    year_job_name,
)
from alliance_pipeline.defs.plan_coding.assets import RAW
from alliance_pipeline.edsight.families import FAMILIES


def year_groups(assets: Sequence[dg.AssetsDefinition]) -> dict[str, list[dg.AssetKey]]:
    """family -> its raw asset and every asset partitioned by the same school years."""
    family_of = {family.partitions_name: name for name, family in FAMILIES.items()}
    groups: dict[str, list[dg.AssetKey]] = {name: [] for name in FAMILIES}
    for asset in assets:
        if asset.partitions_def is not None and asset.partitions_def.name in family_of:  # plan years: their own job
            groups[family_of[asset.partitions_def.name]].extend(sorted(asset.keys, key=lambda k: k.to_user_string()))
    return groups


def cross_year_keys(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    return [key for asset in assets if asset.partitions_def is None for key in asset.keys]


@dataclass
class Jobs:
    years: dict[str, dg.UnresolvedAssetJobDefinition]  # family -> single_year_<family>
    plan_year: dg.UnresolvedAssetJobDefinition
    cross_year: dg.UnresolvedAssetJobDefinition
    freshness: dg.UnresolvedAssetJobDefinition
    report: dg.UnresolvedAssetJobDefinition

    def all(self) -> list[dg.UnresolvedAssetJobDefinition]:
        return [self.plan_year, *self.years.values(), self.cross_year, self.freshness, self.report]


def build_jobs(assets: Sequence[dg.AssetsDefinition]) -> Jobs:
    return Jobs(
        years={
            name: dg.define_asset_job(
                year_job_name(name), selection=dg.AssetSelection.assets(*keys), tags=RUN_LIMITS,
                description=f"Refresh one school year of {FAMILIES[name].asset_name} and the assets partitioned with "
                "it (pick the year in the launchpad; a backfill runs several). The cross-year tables follow by "
                "automation.",
            )
            for name, keys in year_groups(assets).items()
            if keys
        },
        plan_year=dg.define_asset_job(
            PLAN_YEAR_JOB, selection=dg.AssetSelection.assets(RAW), tags=RUN_LIMITS,
            description="Load one plan year's coding sheets (raw_plan_codes); the plan tables and the report follow "
            "with the cross-year tables.",
        ),
        cross_year=dg.define_asset_job(
            CROSS_YEAR_JOB, selection=dg.AssetSelection.assets(*cross_year_keys(assets)), tags=RUN_LIMITS,
            description="Rebuild every table that spans school years (indicators, identification, versions, report) "
            "from the stored yearly Parquet.",
        ),
        freshness=dg.define_asset_job(
            FRESHNESS_JOB, selection=dg.AssetSelection.checks(*freshness.NEWEST_YEAR_CHECKS), tags=RUN_LIMITS,
            description="Warns (WARN checks) for each export family whose newest school year is older than expected.",
        ),
        report=dg.define_asset_job(
            REPORT_JOB, selection=dg.AssetSelection.assets(REPORT), tags=RUN_LIMITS,
            description="Re-render the Appendix B report from the stored Parquet assets.",
        ),
    )

"""The beyond-the-study domain's definitions: methodology sections 8-10 (every year, robustness, equity)."""

import dagster as dg

from alliance_pipeline.defs.beyond_study import assets

defs = dg.Definitions(assets=[
    assets.identified_by_year, assets.sbac_score_trends, assets.identification_robustness,
    assets.identification_margins, assets.subgroup_proficiency, assets.subgroup_gaps, assets.subgroup_gap_summary,
    assets.subgroup_gap_changes,
])

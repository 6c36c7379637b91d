"""The indicators domain's definitions: methodology sections 1-5."""

import dagster as dg

from alliance_pipeline.defs.indicators import assets

defs = dg.Definitions(assets=[
    assets.sbac_district_scores, assets.sbac_score_changes, assets.sbac_yearly_changes, assets.growth_rankings,
    assets.cmt_district_scores, assets.statewide_moments, assets.t_scores, assets.t_score_changes,
    assets.identified_districts,
])

"""The now domain's definitions: how the Alliance Districts are doing on the newest data (methodology section 13)."""

import dagster as dg

from alliance_pipeline.defs.now import assets

defs = dg.Definitions(assets=[assets.sbac_share_met, assets.doing_now])

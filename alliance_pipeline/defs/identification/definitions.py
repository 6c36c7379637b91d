"""The identification domain's definitions: methodology section 6."""

import dagster as dg

from alliance_pipeline.defs.identification import assets

defs = dg.Definitions(assets=[assets.alliance_identification, assets.opportunity_districts])

"""The ingest domain's definitions: one raw asset per export family, the reference tables, the versions list."""

import dagster as dg

from alliance_pipeline.defs.ingest.assets import RAW_ASSETS, alliance_cohort, raw_export_versions, study_identified_districts

defs = dg.Definitions(assets=[*RAW_ASSETS, alliance_cohort, study_identified_districts, raw_export_versions])

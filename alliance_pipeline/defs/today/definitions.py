"""Today's EdSight domain's definitions: methodology section 11 (every year from 2007-08 to the current one)."""

import dagster as dg

from alliance_pipeline.defs.today import assets

defs = dg.Definitions(assets=[
    assets.district_names, assets.rows_without_code, assets.data_coverage, assets.alliance_designations,
    assets.cohort_by_year, assets.watch_list, assets.designation_what_if, assets.did_it_last,
])

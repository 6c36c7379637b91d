"""The reports domain's definitions: methodology section 7."""

import dagster as dg

from alliance_pipeline.defs.reports.assets import appendix_b_report

defs = dg.Definitions(assets=[appendix_b_report])

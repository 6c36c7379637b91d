"""Reading CSDE EdSight exports. Pure Python and pandas: nothing here knows Dagster."""

from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.edsight.reader import EdSightExport, read_export
from alliance_pipeline.edsight.rows import normalise_district_code

__all__ = ["EdSightExport", "EdSightFormatError", "normalise_district_code", "read_export"]

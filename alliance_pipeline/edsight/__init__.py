"""Reading CSDE EdSight exports. Pure Python and pandas: nothing here knows Dagster."""

from alliance_pipeline.edsight.errors import EdSightFormatError
from alliance_pipeline.edsight.reader import EdSightExport, normalise_district_code, read_export

__all__ = ["EdSightExport", "EdSightFormatError", "normalise_district_code", "read_export"]

"""School-year partitions: one dynamic set per export family.

The years come from the exports that exist (the discovery sensor and
``alliance-pipeline refresh`` add them), so a new year needs no code change.
Families keep their own sets because they do not cover the same years (CMT
ended in 2012-13, Smarter Balanced began in 2014-15).
"""

from __future__ import annotations

import dagster as dg

from alliance_pipeline.edsight.families import FAMILIES

YEAR_PARTITIONS: dict[str, dg.DynamicPartitionsDefinition] = {
    name: dg.DynamicPartitionsDefinition(name=family.partitions_name) for name, family in FAMILIES.items()
}


def missing_years(instance: dg.DagsterInstance, family: str, found) -> list[str]:
    """The school years in ``found`` (years with an export) that are not yet partitions of ``family``."""
    existing = set(instance.get_dynamic_partitions(FAMILIES[family].partitions_name))
    return [year for year in found if year not in existing]

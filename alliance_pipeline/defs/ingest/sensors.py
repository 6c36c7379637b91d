"""Discovery of school years: a new export adds its year as a partition and asks for a run."""


import dagster as dg

from alliance_pipeline.defs.common.partitions import YEAR_PARTITIONS
from alliance_pipeline.defs.common.resources import EdSightSource
from alliance_pipeline.edsight.families import FAMILIES


def new_partitions(instance: dg.DagsterInstance, source: EdSightSource) -> dict[str, list[str]]:
    """family -> school years whose export exists but whose partition does not yet."""
    found: dict[str, list[str]] = {}
    for name, family in FAMILIES.items():
        existing = set(instance.get_dynamic_partitions(family.partitions_name))
        years = [year for year in source.discover(name) if year not in existing]
        if years:
            found[name] = years
    return found


@dg.sensor(
    name="new_school_year_sensor",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Adds a school-year partition for every new EdSight export and requests its raw asset.",
    asset_selection=dg.AssetSelection.assets(*[family.asset_name for family in FAMILIES.values()]),
)
def new_school_year_sensor(context: dg.SensorEvaluationContext, edsight: EdSightSource):
    added = new_partitions(context.instance, edsight)
    if not added:
        return dg.SkipReason("no new school years in the export source")
    return dg.SensorResult(
        dynamic_partitions_requests=[
            YEAR_PARTITIONS[name].build_add_request(years) for name, years in added.items()
        ],
        run_requests=[
            dg.RunRequest(
                run_key=f"{FAMILIES[name].asset_name}:{year}",
                asset_selection=[dg.AssetKey(FAMILIES[name].asset_name)],
                partition_key=year,
            )
            for name, years in added.items()
            for year in years
        ],
    )

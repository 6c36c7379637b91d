"""Group ingest, the districts the exports name (methodology section 11). Each asset calls the pure function of the
same name.

    district_names         -> methods.districts.district_names
    rows_without_code      -> methods.districts.rows_without_code
    data_coverage          -> methods.districts.data_coverage
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, table_asset, unavailable
from alliance_pipeline.defs.common.groups import INGEST
from alliance_pipeline.defs.common.metadata import preview
from alliance_pipeline.defs.common.partitions import held_years
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.methods import districts
from alliance_pipeline.paths import EDSIGHT_GAPS
from alliance_pipeline.reference import load_gaps
from alliance_pipeline.school_year import sort_years

NAMES_CODE_VERSION = "today-1"  # their code version from before the folders followed the UI's groups
RAW_INS = {family.asset_name: dg.AssetIn() for family in FAMILIES.values()}


def _raw(tables: dict) -> dict[str, dict[str, pd.DataFrame]]:
    """family -> school year -> raw table, from the raw assets' inputs (keyword raw_<family>)."""
    return {family.name: tables.get(family.asset_name) or {} for family in FAMILIES.values()}


@table_asset(
    INGEST,
    "Section 11: every district code with every name the exports give it, the first and last school year of each "
    "name; a renamed district keeps its code and every table shows the name of the newest year held (newest).",
    NAMES_CODE_VERSION, ins=RAW_INS,
)


def district_names(context: dg.AssetExecutionContext, **raw: dict[str, pd.DataFrame]):
    frame = districts.district_names(_raw(raw))
    renamed = frame[frame["district_code"].duplicated(keep=False)]
    if frame.empty:
        frame = unavailable(frame, "no export with district names has been loaded")
    yield from finish(context, frame, {
        "codes": int(frame["district_code"].nunique()) if len(frame) else 0,
        "renamed_codes": int(renamed["district_code"].nunique()),
        "renames": preview(renamed, rows=40, columns=["district_code", "district_name", "first_year", "last_year", "newest"]),
    }, ["district_code", "district_name", "first_year", "last_year", "newest"])


@table_asset(
    INGEST,
    "Section 11: named rows EdSight published with a blank district code (a state agency, newly opened districts): "
    "real data, listed with the export row and values, kept out of every per-district table (nothing can join them).",
    NAMES_CODE_VERSION, ins=RAW_INS,
)


def rows_without_code(context: dg.AssetExecutionContext, **raw: dict[str, pd.DataFrame]):
    frame = districts.rows_without_code(_raw(raw))
    yield from finish(context, frame, {
        "rows": len(frame),
        "by_export": dg.MetadataValue.md("\n".join(
            f"- {family} {year}: {count}" for (family, year), count in
            frame.groupby(["family", "school_year"]).size().items()) or "none"),
    }, ["family", "school_year", "district_name", "source_row", "values"])


@table_asset(
    INGEST,
    "Section 11: per export family, every school year from its first export to the newest year held, and why a "
    "year has no data ('no test', 'not published', 'not in the source'; data/reference/edsight-gaps.csv).",
    NAMES_CODE_VERSION, deps=[family.asset_name for family in FAMILIES.values()],
)


def data_coverage(context: dg.AssetExecutionContext):
    held = held_years(context.instance)
    years = [year for family_years in held.values() for year in family_years]
    frame = districts.data_coverage(held, load_gaps(), sort_years(years)[-1] if years else None)
    missing = frame[~frame["held"]]
    yield from finish(context, frame, {
        "gaps_reference": dg.MetadataValue.path(str(EDSIGHT_GAPS)),
        "newest_year": sort_years(years)[-1] if years else "none",
        "years_without_data": preview(missing, rows=80, columns=["family", "school_year", "status", "reason"]),
    }, ["family", "school_year", "held", "status", "reason"])

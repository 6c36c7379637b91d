"""Parquet IO manager on Dagster's ``UPathIOManager``.

Layout under the ``storage`` resource's warehouse directory: ``<asset name>/<partition key>.parquet`` for
partitioned assets and ``<asset name>.parquet`` otherwise (UPathIOManager's paths). Every write goes to a
temporary file in the same folder and is renamed into place (``alliance_pipeline.atomic``), so a failed run never
leaves a half-written file and the last good output stays.

A partitioned asset read by an unpartitioned one arrives as a dict ``{partition key: DataFrame}`` in school-year
order, of the partitions that have been materialized (the rest are logged), even when there is only one; read by
an asset with the same partitions, it arrives as the one DataFrame of that partition. An asset materializing a range of
school years in one run returns ``{school year: DataFrame}``, written one file per year. An input whose metadata has
``provenance_only: True`` gets each file's ``frame.attrs`` from the Parquet footer instead (no data read).

This module is the only one that opens Parquet files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from alliance_pipeline.atomic import atomic_path
from alliance_pipeline.defs.common.resources import Storage
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.school_year import sort_years

ATTRS_KEY = b"alliance_pipeline.attrs"
PROVENANCE_ONLY = "provenance_only"


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as an Arrow table; ``frame.attrs`` (e.g. why an indicator is unavailable) kept as JSON."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # An all-empty list column is inferred as list<null>; store it as list<string>.
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) and pa.types.is_null(field.type.value_type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.list_(pa.string())))
    metadata = dict(table.schema.metadata or {})
    metadata.pop(b"PANDAS_ATTRS", None)
    metadata[ATTRS_KEY] = json.dumps(frame.attrs, default=str).encode()
    return table.replace_schema_metadata(metadata)


def frame_version(frame: pd.DataFrame) -> str:
    """A data version of a table: SHA-256 of its Arrow serialization (equal tables, equal versions)."""
    sink = pa.BufferOutputStream()
    table = to_arrow(frame)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()[:16]


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write atomically: temporary file in the target folder, then rename."""
    with atomic_path(path) as tmp:
        pq.write_table(to_arrow(frame), tmp)
    return path


def read_parquet(path: Path) -> pd.DataFrame:
    table = pq.read_table(path)
    frame = table.to_pandas()
    for field in table.schema:
        if pa.types.is_list(field.type):
            frame[field.name] = pd.Series(table.column(field.name).to_pylist(), index=frame.index, dtype=object)
    stored = (table.schema.metadata or {}).get(ATTRS_KEY)
    frame.attrs = json.loads(stored) if stored else {}
    return frame


def read_attrs(path: Path) -> dict:
    """``frame.attrs`` of a stored table, from the Parquet footer only (no data read)."""
    stored = (pq.read_schema(path).metadata or {}).get(ATTRS_KEY)
    return json.loads(stored) if stored else {}


def _any_school_years(context: dg.InputContext) -> bool:
    return any(context.instance.get_dynamic_partitions(family.partitions_name) for family in FAMILIES.values())


class ParquetFiles(dg.UPathIOManager):
    """pandas DataFrames as Parquet files under ``base_path`` (see the module's docstring)."""

    extension = ".parquet"

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path) -> None:
        write_parquet(obj, Path(path))

    def load_from_path(self, context: dg.InputContext, path):
        path = Path(path)
        if not path.exists():
            what = context.asset_key.to_user_string() if context.has_asset_key else "input"
            raise FileNotFoundError(f"{what} has not been materialized: {path} does not exist")
        if (context.definition_metadata or {}).get(PROVENANCE_ONLY):
            return read_attrs(path)
        return read_parquet(path)

    def get_metadata(self, context: dg.OutputContext, obj: pd.DataFrame) -> dict:
        return {"dagster/row_count": len(obj)}

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | dict[str, pd.DataFrame] | None) -> None:
        if obj is None:
            return
        if isinstance(obj, dict) and context.has_asset_partitions:  # a range of school years: one file per year
            paths = self._get_paths_for_partitions(context)
            if set(obj) != set(paths):
                raise ValueError(f"{context.asset_key.to_user_string()}: tables for {sorted(obj)} but the run "
                                 f"materializes {sorted(paths)}")
            for year in sort_years(obj):  # each file atomic; every year was validated before any is written
                self.make_directory(paths[year].parent)
                self.dump_to_path(context=context, obj=obj[year], path=paths[year])
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj).__name__}")
        super().handle_output(context, obj)

    def load_input(self, context: dg.InputContext):
        if not context.has_asset_partitions:
            return super().load_input(context)
        key = context.asset_key
        years = sort_years(context.asset_partition_keys)
        if not years and not _any_school_years(context):
            # Materialize all pressed before school_year_partitions registered any year: nothing to read, so each
            # table says it could not be computed; once the years are loaded, cross_year_tables_sensor rebuilds it.
            context.log.warning(f"{key.to_user_string()}: this Dagster instance has no school years registered yet "
                                "(school_year_partitions registers them within a minute of the daemon starting)")
            return {}
        paths = self._get_paths_for_partitions(context)
        if context.has_partition_key and len(years) == 1:  # an asset partitioned like its input: that one year
            return self.load_from_path(context, paths[years[0]])
        # An asset over all years reads the years that have been materialized; each such asset names the years it
        # needs and reports them unavailable when absent.
        present = [year for year in years if paths[year].exists()]
        missing = [year for year in years if year not in present]
        if missing:
            context.log.warning(f"{key.to_user_string()}: not materialized for {', '.join(missing)}; "
                                f"reading {', '.join(present) or 'none'}")
        return {year: self.load_from_path(context, paths[year]) for year in present}


class ParquetIOManager(dg.ConfigurableIOManagerFactory):
    """Stores DataFrames as Parquet under the storage resource's warehouse directory."""

    storage: Storage

    def create_io_manager(self, context) -> ParquetFiles:
        from upath import UPath

        return ParquetFiles(base_path=UPath(self.storage.warehouse()))

"""Parquet IO manager on pyarrow.

Layout under the warehouse directory: ``<asset name>/<partition key>.parquet``
for partitioned assets and ``<asset name>.parquet`` otherwise. Every write goes
to a temporary file in the same folder and is renamed into place, so a failed
run never leaves a half-written file and the last good output stays.

A partitioned asset read by an unpartitioned one arrives as a dict
``{partition key: DataFrame}`` in school-year order, of the partitions that
have been materialized (the rest are logged); read by an asset with the same
partitions, it arrives as the one DataFrame of that partition.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from alliance_pipeline import paths
from alliance_pipeline.edsight.families import FAMILIES, sort_years


ATTRS_KEY = b"alliance_pipeline.attrs"


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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        pq.write_table(to_arrow(frame), tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
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


class ParquetIOManager(dg.ConfigurableIOManager):
    """Stores DataFrames as Parquet under the warehouse directory."""

    base_dir: str | None = Field(
        default=None, description="Warehouse directory; default ALLIANCE_WAREHOUSE_DIR or data/warehouse."
    )

    def root(self) -> Path:
        return Path(self.base_dir) if self.base_dir else paths.warehouse_dir()

    def path_for(self, asset_key: dg.AssetKey, partition_key: str | None = None) -> Path:
        folder = self.root().joinpath(*asset_key.path[:-1])
        name = asset_key.path[-1]
        if partition_key is None:
            return folder / f"{name}.parquet"
        return folder / name / f"{partition_key}.parquet"

    def stored_partitions(self, asset_key: dg.AssetKey) -> dict[str, Path]:
        """The partitions of a partitioned asset that have a Parquet file, in school-year order."""
        folder = self.path_for(asset_key, "_").parent
        found = {path.stem: path for path in folder.glob("*.parquet")} if folder.is_dir() else {}
        return {year: found[year] for year in sort_years(found)}

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()}: expected a pandas DataFrame, got {type(obj).__name__}")
        partition = context.partition_key if context.has_partition_key else None
        path = write_parquet(obj, self.path_for(context.asset_key, partition))
        context.add_output_metadata({"parquet": dg.MetadataValue.path(str(path)), "dagster/row_count": len(obj)})

    def load_input(self, context: dg.InputContext):
        key = context.asset_key
        if not context.has_asset_partitions:
            return self._read(self.path_for(key), key, None)
        keys = sort_years(context.asset_partition_keys)
        if not keys and not _any_school_years(context):
            raise dg.Failure(
                description=f"{key.to_user_string()}: this Dagster instance has no school years registered yet, so there "
                "is nothing to read. The school_year_partitions sensor (Automation, on by default) registers them from "
                "the export source within a minute of the daemon starting (`alliance-pipeline refresh` does it too); "
                "then Materialize all again.", allow_retries=False)
        if context.has_partition_key and len(keys) == 1:
            return self._read(self.path_for(key, keys[0]), key, keys[0])
        # An asset over all years reads the years that have been materialized; each such
        # asset names the years it needs and reports them unavailable when absent.
        present = [p for p in keys if self.path_for(key, p).exists()]
        missing = [p for p in keys if p not in present]
        if missing:
            context.log.warning(f"{key.to_user_string()}: not materialized for {', '.join(missing)}; reading {', '.join(present) or 'none'}")
        return {partition: self._read(self.path_for(key, partition), key, partition) for partition in present}

    @staticmethod
    def _read(path: Path, key: dg.AssetKey, partition: str | None) -> pd.DataFrame:
        if not path.exists():
            what = key.to_user_string() + (f" [{partition}]" if partition else "")
            raise FileNotFoundError(f"{what} has not been materialized: {path} does not exist")
        return read_parquet(path)

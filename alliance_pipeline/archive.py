"""The immutable archive of raw exports, by content hash (pure: no Dagster).

Layout under the archive directory (default ``data/archive/``, beside the warehouse)::

    <family>/<school year>/<sha256>.csv    the export exactly as read, made read-only
    <family>/<school year>/<sha256>.json   when it was first seen, its original name and size

A file already archived is never written again, so when CSDE republishes a
year both versions stay, each with the time the pipeline first saw it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from alliance_pipeline.edsight.reader import sha256_of

VERSION_COLUMNS = [
    "family", "school_year", "sha256", "first_seen", "original_name", "size_bytes", "archive_path", "is_latest",
]


@dataclass(frozen=True)
class ArchivedVersion:
    family: str
    school_year: str
    sha256: str
    first_seen: str  # ISO 8601, UTC
    original_name: str
    size_bytes: int
    path: Path
    new: bool  # archived by this call


def _write_once(target: Path, write) -> None:
    """Write through a temporary file and rename; never replaces an existing file."""
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o444)
        os.link(tmp, target)  # fails if the target exists: first writer wins
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def archive_export(
    path: str | Path, family: str, school_year: str, root: Path, now: datetime | None = None, sha256: str | None = None
) -> ArchivedVersion:
    """Keep ``path`` under its SHA-256 (once); return the version with its first-seen time.

    ``sha256``: the file's hash when the caller already has it (the reader computes it).
    """
    path = Path(path)
    sha = sha256 or sha256_of(path)
    folder = root / family / school_year
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{sha}{path.suffix or '.csv'}"
    record = folder / f"{sha}.json"
    new = not record.exists()
    if new:
        seen = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
        _write_once(data, lambda tmp: shutil.copyfile(path, tmp))
        info = {"family": family, "school_year": school_year, "sha256": sha, "first_seen": seen,
                "original_name": path.name, "size_bytes": path.stat().st_size, "archive_file": data.name}
        _write_once(record, lambda tmp: tmp.write_text(json.dumps(info, indent=1), encoding="utf-8"))
    info = json.loads(record.read_text(encoding="utf-8"))
    return ArchivedVersion(family, school_year, sha, info["first_seen"], info["original_name"], info["size_bytes"],
                           folder / info["archive_file"], new)


def list_versions(root: Path) -> pd.DataFrame:
    """Every archived version, oldest first per (family, year); ``is_latest`` marks the newest one seen."""
    records = []
    for record in sorted(root.glob("*/*/*.json")) if root.is_dir() else []:
        info = json.loads(record.read_text(encoding="utf-8"))
        records.append({**info, "archive_path": str(record.parent / info["archive_file"])})
    frame = pd.DataFrame(records, columns=[*VERSION_COLUMNS[:-1], "archive_file"]).drop(columns=["archive_file"])
    frame = frame.sort_values(["family", "school_year", "first_seen", "sha256"]).reset_index(drop=True)
    frame["size_bytes"] = frame["size_bytes"].astype("Int64")
    # Exactly one latest version per export: the last seen (rows are in first-seen order).
    frame["is_latest"] = (frame.groupby(["family", "school_year"]).cumcount(ascending=False) == 0).astype(bool)
    for column in ("family", "school_year", "sha256", "first_seen", "original_name", "archive_path"):
        frame[column] = frame[column].astype("string")
    return frame[VERSION_COLUMNS]

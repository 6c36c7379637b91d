"""The immutable archive of raw exports, by content hash (pure: no Dagster).

Layout under the archive directory (default ``data/archive/``, beside the warehouse)::

    <family>/<school year>/<sha256>.csv    the export exactly as read, made read-only
    <family>/<school year>/<sha256>.json   when it was first seen, its original name and size, and every
                                           outcome: loaded, or rejected with the reason

A file already archived is never written again, so when CSDE republishes a
year both versions stay, each with the time the pipeline first saw it. Every
version ever read is kept, a rejected one too (with why). Which version is the
latest is not stored here: it is the one whose SHA-256 the warehouse's raw
Parquet file records (``list_versions(root, held)``), so it always means
"what the warehouse holds now".

The archive is verified when it is read. A copy whose bytes no longer match the
SHA-256 in its name is restored from the source when the source has those bytes
(``archive_export``), and refused, naming the file, when nothing can restore it
(``list_versions``); a record that is not JSON (cut short) is named and rebuilt
from what the archived copy and the source still prove (its earlier outcomes
are lost, and its reason says so).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from alliance_pipeline.atomic import atomic_path, readable_mode
from alliance_pipeline.edsight.reader import sha256_of

VERSION_COLUMNS = [
    "family", "school_year", "sha256", "first_seen", "original_name", "size_bytes", "archive_path", "status",
    "reason", "last_outcome_at", "is_latest", "title", "rows",
]
LOADED, REJECTED = "loaded", "rejected"


class ArchiveError(RuntimeError):
    """An archived copy that no longer holds the bytes its name promises, with nothing to restore it from."""


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
    status: str = LOADED
    repaired: str = ""  # what was found damaged and put right by this call ("" when nothing)


def archive_export(
    path: str | Path, family: str, school_year: str, root: Path, now: datetime | None = None, sha256: str | None = None,
    status: str = LOADED, reason: str | None = None,
) -> ArchivedVersion:
    """Keep ``path`` under its SHA-256 (once) and record this outcome (``loaded``, or ``rejected`` with the reason).

    ``sha256``: the file's hash when the caller already has it (the reader computes it).
    The bytes are written once and made read-only; the record gains an outcome when it differs
    from the last one (rewritten whole through a temporary file, so it is never half-written), so
    reading the same good file again leaves the archive byte-identical.
    """
    path = Path(path)
    sha = sha256 or sha256_of(path)
    folder = root / family / school_year  # (made by atomic_path, which explains a refused write)
    data = folder / f"{sha}{path.suffix or '.csv'}"
    record = folder / f"{sha}.json"
    at = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds")
    new = not record.exists()
    repaired = []
    if new:
        _copy(path, data, replace=False)  # written once, read-only; never replaced (but restored, below)
        info = {"family": family, "school_year": school_year, "sha256": sha, "first_seen": at,
                "original_name": path.name, "size_bytes": path.stat().st_size, "archive_file": data.name, "outcomes": []}
    else:
        info, damaged = read_record(record, source=path)
        if damaged:
            repaired.append(damaged)
            _write_record(record, info)
        copy = folder / info["archive_file"]
        if not copy.is_file() or sha256_of(copy) != sha:  # the source has the bytes the name promises: restored
            repaired.append(f"{copy} no longer held the bytes of its SHA-256; restored from {path}")
            _copy(path, copy, replace=True)
    outcomes = info.setdefault("outcomes", [])
    if outcomes and (outcomes[-1]["status"], outcomes[-1]["reason"]) == (status, reason):  # nothing new: untouched
        return ArchivedVersion(family, school_year, sha, info["first_seen"], info["original_name"], info["size_bytes"],
                               folder / info["archive_file"], new, status, "; ".join(repaired))
    outcomes.append({"at": at, "status": status, "reason": reason})
    _write_record(record, info)
    return ArchivedVersion(family, school_year, sha, info["first_seen"], info["original_name"], info["size_bytes"],
                           folder / info["archive_file"], new, status, "; ".join(repaired))


def _copy(source: Path, target: Path, replace: bool) -> None:
    """``source``'s bytes at ``target``, read-only (a rename replaces a read-only copy whole when ``replace``)."""
    with atomic_path(target, replace=replace) as tmp:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, readable_mode(0o444))  # read-only, and never more readable than the umask allows


def _write_record(record: Path, info: dict) -> None:
    with atomic_path(record) as tmp:  # rewritten whole through a temporary file: never half-written
        tmp.write_text(json.dumps(info, indent=1), encoding="utf-8")


REBUILT = "its archive record was damaged and rebuilt from the archived copy; earlier outcomes are lost"


def read_record(record: Path, source: Path | None = None) -> tuple[dict, str]:
    """The record's JSON, and "" ; or, when it is not JSON (cut short), what the archive still proves (family and
    year from its folder, SHA-256 from its name, size and first-seen time of the archived copy, the original name
    from ``source`` when given), with a sentence naming the damaged record."""
    try:
        return json.loads(record.read_text(encoding="utf-8")), ""
    except (ValueError, UnicodeDecodeError):
        pass
    copies = [path for path in record.parent.glob(f"{record.stem}.*") if path.suffix != ".json"]
    copy = copies[0] if copies else None
    stat = copy.stat() if copy else None
    info = {"family": record.parent.parent.name, "school_year": record.parent.name, "sha256": record.stem,
            "first_seen": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(timespec="microseconds")
            if stat else "", "original_name": source.name if source else (copy.name if copy else ""),
            "size_bytes": stat.st_size if stat else 0, "archive_file": copy.name if copy else f"{record.stem}.csv",
            "outcomes": [], "rebuilt": REBUILT}
    return info, f"{record} was not valid JSON (damaged); rebuilt from the archived copy"


def list_versions(root: Path, held: dict[tuple[str, str], dict] | None = None, verify: bool = True) -> pd.DataFrame:
    """Every archived version, oldest first per (family, year), with its last outcome.

    ``held`` maps (family, school year) to the provenance of the file the warehouse holds now (``sha256``,
    ``title``, ``rows``); ``is_latest`` marks that version (so at most one per export, and none for a year never
    loaded), and it alone carries the title and row count. ``verify``: each archived copy's bytes are checked
    against its SHA-256 (ArchiveError naming the file when they differ); the sensors and checks that only need the
    records' outcomes skip that, so a damaged copy of one year never fails another year's run.
    """
    records = []
    for record in sorted(root.glob("*/*/*.json")) if root.is_dir() else []:
        info, damaged = read_record(record)
        if damaged:
            _write_record(record, info)
        copy = record.parent / info["archive_file"]
        if verify and (not copy.is_file() or sha256_of(copy) != info["sha256"]):
            raise ArchiveError(f"{copy} no longer holds the bytes of its SHA-256 ({info['sha256'][:12]}...): the "
                               "archive is damaged. Load that school year again while the source still has the same "
                               "file (the copy is restored from it), or restore the file from a backup")
        last = (info.get("outcomes") or [{"at": info["first_seen"], "status": LOADED, "reason": info.get("rebuilt")}])[-1]
        records.append({**info, "archive_path": str(record.parent / info["archive_file"]), "status": last["status"],
                        "reason": last["reason"], "last_outcome_at": last["at"]})
    frame = pd.DataFrame(records, columns=VERSION_COLUMNS[:-3])
    frame = frame.sort_values(["family", "school_year", "first_seen", "sha256"]).reset_index(drop=True)
    frame["size_bytes"] = frame["size_bytes"].astype("Int64")
    held = held or {}
    latest = [held.get((family, year), {}).get("sha256") == sha
              for family, year, sha in zip(frame["family"], frame["school_year"], frame["sha256"])]
    frame["is_latest"] = pd.Series(latest, index=frame.index, dtype=bool)
    source = [held[(family, year)] if is_latest else {}
              for family, year, is_latest in zip(frame["family"], frame["school_year"], latest)]
    frame["title"] = pd.Series([s.get("title") for s in source], index=frame.index, dtype="string")
    frame["rows"] = pd.Series([s.get("rows") for s in source], index=frame.index, dtype="Int64")
    for column in ("family", "school_year", "sha256", "first_seen", "original_name", "archive_path", "status", "reason",
                   "last_outcome_at"):
        frame[column] = frame[column].astype("string")
    return frame[VERSION_COLUMNS]

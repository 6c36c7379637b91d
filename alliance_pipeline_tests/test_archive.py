"""The archive of raw exports (alliance_pipeline/archive.py): each version kept once with when it was first seen, verified when it is read, never more readable than the umask."""

from __future__ import annotations

from alliance_pipeline.archive import archive_export, list_versions


def test_archive_keeps_each_version_once_with_its_first_seen_time(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("a,b\n1,2\n")
    root = tmp_path / "archive"
    first = archive_export(export, "enrollment", "2015-16", root)
    again = archive_export(export, "enrollment", "2015-16", root)
    assert first.new and not again.new and again.first_seen == first.first_seen
    export.write_text("a,b\n1,3\n")
    second = archive_export(export, "enrollment", "2015-16", root)
    assert second.new and second.sha256 != first.sha256 and first.path.read_text() == "a,b\n1,2\n"
    versions = list_versions(root, {("enrollment", "2015-16"): {"sha256": first.sha256, "title": "t", "rows": 3}})  # the warehouse holds the first
    assert len(versions) == 2 and list(versions["is_latest"]) == [True, False]
    assert list(versions["status"]) == ["loaded", "loaded"]
    rejected = archive_export(export, "enrollment", "2015-16", root, status="rejected", reason="row 2: bad")
    assert not rejected.new and list(list_versions(root)["status"]) == ["loaded", "rejected"]
    record = first.path.with_suffix(".json").read_bytes()
    archive_export(first.path, "enrollment", "2015-16", root)  # the same outcome again: the record is untouched
    assert first.path.with_suffix(".json").read_bytes() == record
    assert (first.path.stat().st_mode & 0o222) == 0  # archived files are read-only


def test_the_archive_is_verified_when_it_is_read(tmp_path):
    """A copy whose bytes no longer match its SHA-256 is restored from the source that still has them, or refused
    naming the file; a record cut short is named and rebuilt from what the archived copy and the source prove."""
    import json

    import pytest

    from alliance_pipeline.archive import REBUILT, ArchiveError

    export = tmp_path / "enrollment__2015-16_all-students.csv"
    export.write_text("a,b\n1,2\n")
    root = tmp_path / "archive"
    first = archive_export(export, "enrollment", "2015-16", root)
    record_bytes = first.path.with_suffix(".json").read_bytes()
    first.path.chmod(0o644)
    first.path.write_text("a,b\n1,9\n")  # bit rot, or a hand edit
    with pytest.raises(ArchiveError, match=f"{first.path} no longer holds the bytes of its SHA-256"):
        list_versions(root)
    assert len(list_versions(root, verify=False)) == 1  # the records alone are still read
    again = archive_export(export, "enrollment", "2015-16", root)  # the source has the bytes: restored
    assert f"{first.path} no longer held the bytes of its SHA-256; restored from {export}" in again.repaired
    assert first.path.read_text() == "a,b\n1,2\n" and (first.path.stat().st_mode & 0o222) == 0
    assert first.path.with_suffix(".json").read_bytes() == record_bytes  # the same outcome: the record untouched
    assert list_versions(root)["sha256"].tolist() == [first.sha256]

    record = first.path.with_suffix(".json")
    record.write_bytes(record_bytes[: len(record_bytes) // 2])  # cut short
    versions = list_versions(root)  # named (in the reason) and rebuilt, never a JSONDecodeError
    assert versions["reason"].tolist() == [REBUILT] and versions["sha256"].tolist() == [first.sha256]
    rebuilt = json.loads(record.read_text())
    assert rebuilt["school_year"] == "2015-16" and rebuilt["family"] == "enrollment" and rebuilt["size_bytes"] == 8
    record.write_bytes(record_bytes[:10])
    repaired = archive_export(export, "enrollment", "2015-16", root, status="rejected", reason="row 2: bad")
    assert f"{record} was not valid JSON (damaged); rebuilt from the archived copy" in repaired.repaired
    assert json.loads(record.read_text())["original_name"] == export.name  # the source still proves its name


def test_archived_copies_are_never_more_readable_than_the_umask(tmp_path):
    """Under umask 077 an archived copy is 0400 (read-only and private), like every other file the refresh writes;
    under 022 it is 0444."""
    import os
    import stat

    export = tmp_path / "export.csv"
    modes = {}
    for mask in (0o077, 0o022):
        export.write_text(f"a,b\n{mask},2\n")
        before = os.umask(mask)
        try:
            modes[mask] = stat.S_IMODE(archive_export(export, "enrollment", "2015-16", tmp_path / "archive").path.stat().st_mode)
        finally:
            os.umask(before)
    assert modes == {0o077: 0o400, 0o022: 0o444}

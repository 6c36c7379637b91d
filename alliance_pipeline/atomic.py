"""The one way the project writes a file: beside its target under a temporary name, then renamed into place.

A reader sees the old file or the new one, never half of one; a failure leaves the old file and no temporary.
Used by the Parquet IO manager, the archive, HTTP downloads and the report (pure: no Dagster).

A write that the storage refuses (disk full, a read-only folder, a folder standing where the file goes) raises
``StorageError``, whose message names the folder and what to do; the file already there is left as it was.
Temporary files a killed process left behind (``.<name>.<pid>-<random>.tmp`` beside the target) are invisible to
every reader (nothing reads dot-files) and removed by the next write of the same target when the process that
wrote them is gone (or, written on another machine, once older than ``STALE_SECONDS``).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STALE_SECONDS = 3600.0
# The errors that say the storage refused the write (not, say, a network error raised inside the block).
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EISDIR,
                            errno.ENOTDIR})


class StorageError(OSError):
    """A write the storage refused, explained: which folder, and what to free or fix."""


def readable_mode(mode: int) -> int:
    """``mode`` as far as the process's umask allows: a file is never more readable than the operator asked."""
    return mode & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def storage_error(exc: OSError, target: Path) -> StorageError:
    """``exc`` (raised writing ``target``) as a message a person can act on."""
    folder = target.parent
    code = exc.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        text = (f"no space left on the device holding {folder}: free space there (or point the storage resource "
                "at a larger folder) and run again")
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        text = (f"{folder} is read-only for this process ({os.strerror(code)}): make it writable, or point the "
                "storage resource at a writable folder, and run again")
    elif code == errno.EISDIR or (target.is_dir() and not target.is_symlink()):
        text = (f"{target} is a folder, where the file {target.name} is written: remove or rename that folder "
                "and run again")
    elif code == errno.ENOTDIR:
        text = f"a file stands where a folder of {target} should be: remove or rename it and run again"
    else:
        text = f"cannot write {target}: {exc.strerror or exc}"
    return StorageError(code or errno.EIO, text + "; nothing stored earlier was changed")


def writer_alive(pid: int) -> bool:
    """Whether process ``pid`` (on this machine) is running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's: alive
        return True
    return True


_LEFTOVER = re.compile(r"^\..+?\.(\d+)-[^/]*\.(tmp|part)$")


def remove_leftovers(folder: Path, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove every temporary (file, folder or link) a killed writer left directly in ``folder``
    (``.<name>.<pid>-<random>.tmp`` or ``.part``): its process is gone, or it is older than ``older_than`` seconds.
    ``atomic_path`` calls it before each write; the report calls it on its folder."""
    removed = []
    cutoff = time.time() - older_than
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _LEFTOVER.match(path.name)
        if not match:
            continue
        try:
            if writer_alive(int(match.group(1))) and path.lstat().st_mtime >= cutoff:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed


@contextmanager
def atomic_path(target: Path, suffix: str = ".tmp", replace: bool = True) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; when the block ends without an error it becomes ``target``
    (with the permissions the umask gives a new file, as any other file: readable by the webserver's user).

    ``replace=False``: an existing ``target`` is kept (first writer wins, for write-once files such as the archive).
    """
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(target.parent)
        handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}-", suffix=suffix)
        os.close(handle)
        os.chmod(tmp, readable_mode(0o666))  # mkstemp makes it private (0600)
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS:
            raise storage_error(exc, target) from exc
        raise
    try:
        yield Path(tmp)
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the target exists
            except FileExistsError:
                pass
    except StorageError:
        raise
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS or (replace and target.is_dir() and not target.is_symlink()):
            raise storage_error(exc, target) from exc
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

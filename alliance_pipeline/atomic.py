"""The one way the project writes a file: beside its target under a temporary name, then renamed into place.

A reader sees the old file or the new one, never half of one; a failure leaves the old file and no temporary.
Used by the Parquet IO manager, the archive, HTTP downloads and the report (pure: no Dagster).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path, suffix: str = ".tmp", replace: bool = True) -> Iterator[Path]:
    """A temporary path beside ``target`` to write to; when the block ends without an error it becomes ``target``.

    ``replace=False``: an existing ``target`` is kept (first writer wins, for write-once files such as the archive).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    os.close(handle)
    try:
        yield Path(tmp)
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the target exists
            except FileExistsError:
                pass
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

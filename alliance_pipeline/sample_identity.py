"""Which files are the bundled sample's generated data, told by their bytes.

The sample exports (``data/sample/edsight``) carry real district names and generated numbers, in EdSight's exact
formats, so nothing in a file says it is generated. Their SHA-256 does: an export byte-identical to a bundled
sample file is generated, wherever it was copied. The report says so (in its title area, its opening and the
workbook's README), and the bundled coding sheets (``data/sample/plans``, also generated) are read only beside the
bundled sample exports, never beside real ones.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from alliance_pipeline.paths import SAMPLE_EDSIGHT_DIR


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def _bundled() -> dict[int, frozenset[str]]:
    """size -> the SHA-256 of each bundled sample export of that size."""
    by_size: dict[int, set[str]] = {}
    for path in SAMPLE_EDSIGHT_DIR.rglob("*.csv"):
        by_size.setdefault(path.stat().st_size, set()).add(_sha256(path))
    return {size: frozenset(hashes) for size, hashes in by_size.items()}


def is_generated_sha256(sha256: str) -> bool:
    """Whether an export with this SHA-256 is one of the bundled sample's generated files."""
    return any(sha256 in hashes for hashes in _bundled().values())


def holds_sample_exports(folder: str | Path) -> bool:
    """Whether ``folder`` holds any of the bundled sample's generated exports (byte-identical copies count; only
    files of a bundled file's size are hashed)."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    bundled = _bundled()
    for path in folder.rglob("*.csv"):
        try:
            size = path.stat().st_size
            if size in bundled and _sha256(path) in bundled[size]:
                return True
        except OSError:  # unreadable here: the reader reports it; it is not the sample
            continue
    return False


"""Prints how long reading and validating every export takes, and the peak memory it needs.

    .venv/bin/python benchmarks/bench_ingest.py [EXPORTS_DIR]   (default ../shared/edsight)
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

from alliance_pipeline import paths
from alliance_pipeline.edsight import read_export
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.edsight.sources import LocalExports
from alliance_pipeline.validation import validate_frame


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else paths.PROJECT_ROOT.parent / "shared" / "edsight"
    source = LocalExports(root)
    validate_frame(read_export(next(iter(source.discover("enrollment").values()))).frame, "raw_enrollment")  # warm GX
    print(f"{'file':<90} {'rows':>6} {'read ms':>8} {'validate ms':>12} {'peak MiB':>9}")
    for name, family in FAMILIES.items():
        for year, path in source.discover(name).items():
            tracemalloc.start()
            started = time.perf_counter()
            export = read_export(path, expected_year=year)
            read_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            validate_frame(export.frame, family.asset_name)
            validate_ms = (time.perf_counter() - started) * 1000
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"{Path(path).name:<90} {len(export.frame):>6} {read_ms:>8.1f} {validate_ms:>12.1f} {peak:>9.1f}")


if __name__ == "__main__":
    main()

"""Times what an operator does in the Dagster UI on the bundled sample, on a fresh instance.

    .venv/bin/python benchmarks/bench_ui_runs.py [EXPORTS_DIR]   (default: the bundled sample)

Starts `dg dev` (instance from deploy/dagster-local.yaml: 2 runs, 2 steps at once), drives
headless Chromium, and prints: how long until the school years are registered, how long
*Materialize all* takes to load every year and build the report, and how long single-year runs
launched from an asset page take (queued to finished, and executing). The operator's guide quotes
these figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test helpers that drive the UI

from alliance_pipeline import paths  # noqa: E402
from alliance_pipeline_tests.browser import chromium_page  # noqa: E402
from alliance_pipeline_tests.dagster_dev import (backfill_done, dagster_dev, launch_partition, materialize_all,  # noqa: E402
                                                registered_years, run_seconds, wait_until)


def main() -> None:
    exports = Path(sys.argv[1]) if len(sys.argv) > 1 else paths.SAMPLE_EDSIGHT_DIR
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp, dagster_dev(Path(tmp), exports) as dev:
        started = time.monotonic()
        wait_until(lambda: all(registered_years(dev["home"]).values()), 300, "school years registered", poll=2)
        print(f"school years registered by school_year_partitions: {time.monotonic() - started:6.1f} s after the UI answered")
        with chromium_page(1600, 1000) as page:
            started = time.monotonic()
            materialize_all(page, dev["url"])
            backfill = wait_until(lambda: backfill_done(dev["home"]), 3600, "Materialize all", poll=5)
            print(f"Materialize all (every year, cross-year tables, report): {time.monotonic() - started:6.1f} s, "
                  f"backfill {backfill.status.value}")
            for asset, year in (("raw_enrollment", "2015-16"), ("raw_sbac_district", "2015-16")):
                run_id = launch_partition(page, dev["url"], asset, year)
                status = wait_until(lambda: run_seconds(dev["home"], run_id)[0] in ("SUCCESS", "FAILURE") and
                                    run_seconds(dev["home"], run_id), 900, f"{asset} {year}", poll=1)
                print(f"single-year run {asset} {year} from its asset page: {status[0]}, {status[1]:5.1f} s queued to "
                      f"finished, {status[2]:5.1f} s executing")


if __name__ == "__main__":
    main()

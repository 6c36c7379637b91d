"""Times what an operator does in the Dagster UI on the bundled sample, on a fresh instance.

    .venv/bin/python benchmarks/bench_ui_runs.py [EXPORTS_DIR | --every-real-export]
        (default: the bundled sample; --every-real-export: ../shared/edsight and ../shared/edsight-extra combined,
        as alliance_pipeline_tests.helpers.combine_exports holds them)

Starts `dg dev` (instance from deploy/dagster-local.yaml: 2 runs, 2 steps at once), drives
headless Chromium, and prints: how long until the school years are registered, how long
*Materialize all* takes to load every year and build the report, with the runs its backfill launched (how
many, and when each began and ended: the backfill daemon launches the next runs every 30 s), and how long
single-year runs launched from an asset page take (queued to finished, and executing). The operator's guide
quotes these figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the test helpers that drive the UI

import dagster as dg  # noqa: E402

from alliance_pipeline import paths  # noqa: E402
from alliance_pipeline.defs.operations.constants import RANGE_END_TAG, RANGE_START_TAG  # noqa: E402
from alliance_pipeline.edsight.families import FAMILIES  # noqa: E402
from alliance_pipeline.edsight.sources import LocalExports  # noqa: E402
from alliance_pipeline_tests.helpers import combine_exports  # noqa: E402
from alliance_pipeline_tests.browser import chromium_page  # noqa: E402
from alliance_pipeline_tests.dagster_dev import (backfill_done, dagster_dev, launch_partition, materialize_all,  # noqa: E402
                                                registered_years, run_seconds, wait_until)


def backfill_runs(home: Path, backfill_id: str, launched: float) -> list[str]:
    """One line per run of the backfill: seconds after the launch it was created, started and ended; its assets."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
    lines = []
    for record in sorted(records, key=lambda r: r.create_timestamp):
        run = record.dagster_run
        keys = sorted(key.to_user_string() for key in run.asset_selection or [])
        years = run.tags.get("dagster/partition") or "-".join(
            filter(None, (run.tags.get(RANGE_START_TAG), run.tags.get(RANGE_END_TAG))))
        lines.append(f"  +{record.create_timestamp.timestamp() - launched:5.0f} s created, ran "
                     f"{(record.start_time or 0) - launched:5.0f}-{(record.end_time or 0) - launched:5.0f} s "
                     f"{run.status.value:8} {years or 'unpartitioned':18} {len(keys):2} assets: {', '.join(keys)[:90]}")
    return lines


def runs_beside(home: Path, since: float) -> list[str]:
    """The runs created since ``since`` that are not the backfill's (a sensor's), as "job (trigger)"."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records()
    return [f"{r.dagster_run.job_name} ({r.dagster_run.tags.get('alliance_pipeline/trigger', '?')})" for r in records
            if r.create_timestamp.timestamp() >= since and "dagster/backfill" not in r.dagster_run.tags]


def main() -> None:
    argument = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        exports = (combine_exports(Path(tmp) / "combined") if argument == "--every-real-export"
                   else Path(argument) if argument else paths.SAMPLE_EDSIGHT_DIR)
        print(f"exports: {exports}")
        with dagster_dev(Path(tmp) / "dev", exports) as dev:
            run(dev)


def run(dev: dict) -> None:
    started = time.monotonic()
    held = {name: list(LocalExports(dev["source"]).discover(name)) for name in FAMILIES}  # a folder may lack families
    wait_until(lambda: registered_years(dev["home"]) == held, 300, "school years registered", poll=2)
    print(f"school years registered by school_year_partitions: {time.monotonic() - started:6.1f} s after the UI answered")
    with chromium_page(1600, 1000) as page:
        started, launched = time.monotonic(), time.time()
        materialize_all(page, dev["url"])
        backfill = wait_until(lambda: backfill_done(dev["home"]), 3600, "Materialize all", poll=2)
        runs = backfill_runs(dev["home"], backfill.backfill_id, launched)
        print(f"Materialize all (every year, cross-year tables, report): {time.monotonic() - started:6.1f} s, "
              f"backfill {backfill.status.value}, {len(runs)} runs:")
        print("\n".join(runs))
        beside = runs_beside(dev["home"], launched)
        print(f"runs beside the backfill since the press (the sensors'): {len(beside)} {', '.join(beside)[:300]}")
        for asset, year in (("raw_enrollment", "2015-16"), ("raw_sbac_district", "2015-16")):
            run_id = launch_partition(page, dev["url"], asset, year)
            status = wait_until(lambda: run_seconds(dev["home"], run_id)[0] in ("SUCCESS", "FAILURE") and
                                run_seconds(dev["home"], run_id), 900, f"{asset} {year}", poll=1)
            print(f"single-year run {asset} {year} from its asset page: {status[0]}, {status[1]:5.1f} s queued to "
                  f"finished, {status[2]:5.1f} s executing")


if __name__ == "__main__":
    main()

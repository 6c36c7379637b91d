"""``alliance-pipeline``: refresh everything, or write the sample exports."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from alliance_pipeline import paths

DEFAULT_DAGSTER_HOME = paths.PROJECT_ROOT / ".dagster_home"


def _instance():
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(DEFAULT_DAGSTER_HOME)
        os.environ["DAGSTER_HOME"] = home
        DEFAULT_DAGSTER_HOME.mkdir(parents=True, exist_ok=True)
        config = DEFAULT_DAGSTER_HOME / "dagster.yaml"
        if not config.exists():  # the embedded default: SQLite under .dagster_home (deploy/dagster.yaml for PostgreSQL)
            config.write_text((paths.PROJECT_ROOT / "deploy" / "dagster-local.yaml").read_text(encoding="utf-8"))
    Path(home).mkdir(parents=True, exist_ok=True)
    return DagsterInstance.get()


def cmd_refresh(args: argparse.Namespace) -> int:
    if args.source:
        os.environ[paths.ENV_EDSIGHT_DIR] = str(Path(args.source).resolve())
    if args.url:
        os.environ[paths.ENV_EDSIGHT_URL] = args.url
    if args.warehouse:
        os.environ[paths.ENV_WAREHOUSE_DIR] = str(Path(args.warehouse).resolve())

    from alliance_pipeline.definitions import defs
    from alliance_pipeline.edsight.sources import SourceError
    from alliance_pipeline.refresh import refresh

    instance = _instance()
    source = os.environ.get(paths.ENV_EDSIGHT_URL) or str(paths.edsight_dir())
    print(f"alliance-pipeline refresh\n  exports:   {source}\n  warehouse: {paths.warehouse_dir()}")
    print(f"  dagster:   {os.environ['DAGSTER_HOME']} ({type(instance.run_storage).__name__})")
    try:
        result = refresh(defs, instance, log_level="CRITICAL")  # the message once, here; the full log is in the UI
    except SourceError as exc:  # the listing itself failed: nothing was run or changed
        print(f"\nRefresh not started: cannot list the exports: {exc}\nNo partition, Parquet file or report was "
              "changed; check the source and run again.", file=sys.stderr)
        return 2
    for skipped in result.skipped:
        print(f"  skipped {skipped}")
    if not result.success:
        failed = result.failure
        print(f"\nRefresh stopped: {failed.label} failed (run {failed.run_id}).", file=sys.stderr)
        print(failed.message, file=sys.stderr)
        print(f"The run's full log: DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev, Runs, {failed.run_id[:8]}.",
              file=sys.stderr)
        return 1
    print(f"\nDone: {len(result.runs)} runs succeeded.")
    print(f"  Parquet assets: {paths.warehouse_dir()}")
    if paths.reports_dir().exists():
        print(f"  Report:         {paths.reports_dir() / 'latest' / 'appendix-b.html'}")
    print(f"  Run history:    DAGSTER_HOME={os.environ['DAGSTER_HOME']} dagster dev")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from alliance_pipeline.sample_data import SEED, generate_sample

    written = generate_sample(Path(args.out), seed=args.seed if args.seed is not None else SEED)
    print(f"wrote {len(written)} sample exports under {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alliance-pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="materialize every asset for every available school year")
    refresh.add_argument("--source", help=f"folder of EdSight exports (default ${paths.ENV_EDSIGHT_DIR} or the sample)")
    refresh.add_argument("--url", help=f"HTTP(S) base URL of the exports (default ${paths.ENV_EDSIGHT_URL})")
    refresh.add_argument("--warehouse", help=f"Parquet output folder (default ${paths.ENV_WAREHOUSE_DIR} or data/warehouse)")
    refresh.set_defaults(func=cmd_refresh)
    sample = commands.add_parser("sample", help="write the deterministic sample exports")
    sample.add_argument("--out", default=str(paths.SAMPLE_EDSIGHT_DIR))
    sample.add_argument("--seed", type=int)
    sample.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())

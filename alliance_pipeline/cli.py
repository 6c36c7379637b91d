"""``alliance-pipeline``: refresh everything, write the sample exports and coded plans, or a blank coding sheet."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from alliance_pipeline import paths

DEFAULT_DAGSTER_HOME = paths.PROJECT_ROOT / ".dagster_home"


def _instance():
    """The Dagster instance in $DAGSTER_HOME, or the embedded default (SQLite under .dagster_home), and what was
    done to it first: a home with no ``dagster.yaml`` (a new, empty folder) gets the project's instance
    configuration, deploy/dagster-local.yaml (the run limits, run monitoring, no telemetry), so it never runs
    without them (deploy/dagster.yaml is the PostgreSQL one)."""
    from dagster import DagsterInstance

    from alliance_pipeline.instance_trouble import InstanceTrouble

    home = _home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InstanceTrouble(f"DAGSTER_HOME {home} cannot be created ({exc.strerror}): set DAGSTER_HOME to a folder "
                              "you can write; nothing was changed") from exc
    config = home / "dagster.yaml"
    note = ""
    if not config.exists():
        config.write_text((paths.PROJECT_ROOT / "deploy" / "dagster-local.yaml").read_text(encoding="utf-8"))
        note = f"wrote the project's instance configuration (deploy/dagster-local.yaml) to {config}"
    return DagsterInstance.from_config(str(home)), home, note


def _home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).expanduser().resolve()


def _open_instance(lock_wait: float):
    """``_instance()`` once ``DAGSTER_HOME`` is usable (``instance_trouble.check_home``: waits for a lock, within
    ``lock_wait`` seconds); any trouble raised as InstanceTrouble, one line."""
    from alliance_pipeline.instance_trouble import InstanceTrouble, check_home, explain

    home = _home()
    check_home(home, lock_wait, print)
    try:
        return _instance()
    except InstanceTrouble:
        raise
    except Exception as exc:  # the instance's own errors (its YAML, its databases), said in one line
        problem = explain(exc, home)
        if problem is None:
            raise
        raise InstanceTrouble(problem) from exc


def ui_command(home: Path) -> str:
    """The command that shows this instance in the Dagster UI, as it works when pasted in a plain shell (``dg`` is
    this environment's, not one on the PATH)."""
    dg = Path(sys.executable).parent / "dg"
    return f"(cd {shlex.quote(str(paths.PROJECT_ROOT))} && DAGSTER_HOME={shlex.quote(str(home))} {shlex.quote(str(dg))} dev)"


def cmd_refresh(args: argparse.Namespace) -> int:
    from alliance_pipeline.code_location import build_defs, from_environment
    from alliance_pipeline.defs.common.configuration import environment_value
    from alliance_pipeline.defs.common.resources import EdSightSource, PlanSheets, Storage, resolved
    from alliance_pipeline.edsight.sources import SourceError
    from alliance_pipeline.instance_trouble import InstanceTrouble, explain
    from alliance_pipeline.refresh import ThroughWebserver, refresh

    webserver = args.webserver or environment_value("cli", "webserver")
    if webserver and (args.source or args.url or args.warehouse or args.plans):
        print("--source, --url, --warehouse and --plans do not apply with --webserver: the deployment's runs use its "
              "own settings (the ALLIANCE_* variables of its services; scripts/deploy-local env)", file=sys.stderr)
        return 2
    # The options become resources (the same ones the UI shows); unset ones come from the environment as in the UI.
    # (Relative folders are resolved by the resources themselves, against this process's working directory.)
    storage = Storage(**from_environment("storage", warehouse_dir=args.warehouse))
    source = EdSightSource(storage=storage, **from_environment("edsight", directory=args.source, base_url=args.url))
    plans = PlanSheets(edsight=source, **from_environment("plans", directory=args.plans))
    defs = build_defs(storage=storage, edsight=source, plans=plans)
    try:
        instance, home, note = _open_instance(args.lock_wait)
    except InstanceTrouble as exc:
        print(f"\nRefresh not started: {exc}", file=sys.stderr)
        return 2
    storage, source, plans = resolved(storage), resolved(source), resolved(plans)
    print(f"alliance-pipeline refresh\n  exports:   {source.describe()}\n  plans:     {plans.describe()}\n"
          f"  warehouse: {storage.warehouse()}")
    print(f"  dagster:   {home} ({type(instance.run_storage).__name__})" + (f"; {note}" if note else ""))
    if webserver:
        print(f"  runs:      submitted to {webserver}, queued and run by its daemon and executor")
    try:
        # log_level CRITICAL: the message once, here; the full log is in the UI
        result = refresh(defs, instance, log_level="CRITICAL",
                         launcher=ThroughWebserver(webserver) if webserver else None)
    except SourceError as exc:  # the listing itself failed: nothing was run or changed
        print(f"\nRefresh not started: cannot list the exports: {exc}\nNo partition, Parquet file or report was "
              "changed; check the source and run again.", file=sys.stderr)
        return 2
    except Exception as exc:  # the instance's database in trouble mid-refresh (another process locked it)
        problem = explain(exc, home)
        if problem is None:
            raise
        print(f"\nRefresh stopped: {problem}", file=sys.stderr)
        return 1
    return _said(result, storage, home)


def _said(result, storage, home: Path) -> int:
    """What the refresh did, said once (the full log is in the UI), and the exit code: 0 done, 1 a run failed, 2
    refused before it started."""
    if result.refused:
        print(f"\n{result.refused}", file=sys.stderr)
        return 2
    for skipped in result.skipped:
        print(f"  skipped {skipped}")
    if not result.success:
        failed = result.failure
        print(f"\nRefresh stopped: {failed.label} failed (run {failed.run_id}).", file=sys.stderr)
        print(failed.message, file=sys.stderr)
        print(f"The run's full log: {ui_command(home)}, then Runs, {failed.run_id[:8]}.",
              file=sys.stderr)
        return 1
    print(f"\nDone: {len(result.runs)} runs succeeded.")
    print(f"  Parquet assets: {storage.warehouse()}")
    if storage.reports().exists():
        print(f"  Report:         {storage.reports() / 'latest' / 'appendix-b.html'}")
    print(f"  Run history:    {ui_command(home)}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from alliance_pipeline.plans.sample import write_sample_plans
    from alliance_pipeline.sample_data import SEED, generate_sample

    seed = args.seed if args.seed is not None else SEED
    written = generate_sample(Path(args.out), seed=seed)
    print(f"wrote {len(written)} sample exports under {args.out}")
    sheets = write_sample_plans(Path(args.plans_out), seed=seed)
    print(f"wrote {len(sheets)} sample coding sheets under {args.plans_out}")
    return 0


def cmd_plans_template(args: argparse.Namespace) -> int:
    from alliance_pipeline.plans.codebook import load_codebook
    from alliance_pipeline.plans.sheets import CodingSheetError, write_template
    from alliance_pipeline.reference import load_cohort

    try:
        written = write_template(Path(args.out), args.district, args.year, args.coder, load_codebook(), load_cohort())
    except CodingSheetError as exc:
        print(f"no template written: {exc.reason}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print("Fill one of them (one row per intervention; the codebook sheet of the workbook defines every code) and "
          "put it in the plans folder ($ALLIANCE_PLANS_DIR).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alliance-pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    refresh = commands.add_parser("refresh", help="materialize every asset for every available school year")
    refresh.add_argument("--source", help="folder of EdSight exports (default $ALLIANCE_EDSIGHT_DIR or the sample)")
    refresh.add_argument("--url", help="HTTP(S) base URL of the exports (default $ALLIANCE_EDSIGHT_URL)")
    refresh.add_argument("--warehouse", help="Parquet output folder (default $ALLIANCE_WAREHOUSE_DIR or data/warehouse)")
    refresh.add_argument("--plans", help="folder of coded plan sheets (default $ALLIANCE_PLANS_DIR; unset: none, "
                         "except the bundled sample's beside the bundled sample exports)")
    refresh.add_argument("--lock-wait", type=float, default=60.0, help="seconds to wait while another process holds "
                         "the Dagster instance's database locked, before giving up (default 60)")
    refresh.add_argument("--webserver", help="submit the runs to this Dagster webserver (its queue, daemon and "
                         "executor: scripts/deploy-local) instead of running them here (default $ALLIANCE_WEBSERVER_URL)")
    refresh.set_defaults(func=cmd_refresh)
    sample = commands.add_parser("sample", help="write the deterministic sample exports and coded plans")
    sample.add_argument("--out", default=str(paths.SAMPLE_EDSIGHT_DIR))
    sample.add_argument("--plans-out", default=str(paths.SAMPLE_PLANS_DIR))
    sample.add_argument("--seed", type=int)
    sample.set_defaults(func=cmd_sample)
    plans = commands.add_parser("plans", help="coding district plans with the study's Appendix A codebook")
    plan_commands = plans.add_subparsers(dest="plans_command", required=True)
    template = plan_commands.add_parser("template", help="write a blank coding sheet (CSV and XLSX with drop-down "
                                        "lists of the codebook's codes)")
    template.add_argument("--district", required=True, help="CSDE district code, e.g. 0640011")
    template.add_argument("--year", required=True, help="plan year, e.g. 2014-15")
    template.add_argument("--coder", required=True, help="the coder's name: lowercase letters, digits, hyphens")
    template.add_argument("--out", default=".", help="folder to write the sheet in (default: here)")
    template.set_defaults(func=cmd_plans_template)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())

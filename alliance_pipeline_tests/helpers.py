"""What the tests share besides fixtures (those are in conftest.py): the real exports' folders, instances and
definitions built as the CLI builds them, whole refreshes and their copies, the CLI in a fresh process, the
sensors ticked as the daemon ticks them, and snapshots of folders to prove nothing changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pandas as pd

from alliance_pipeline import paths
from alliance_pipeline.defs.common.io_manager import read_parquet
from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.reporting.render import HTML_NAME, LATEST

SHARED_DIR = Path(os.environ.get("ALLIANCE_SHARED_DIR", paths.PROJECT_ROOT.parent / "shared")).resolve()
SHARED_EDSIGHT = SHARED_DIR / "edsight"
SHARED_EXTRA = SHARED_DIR / "edsight-extra"


# A test instance keeps no copy of each step's stdout and stderr (Dagster's local compute log manager starts two
# `tail` processes per run, and no test reads the captured logs); everything else is Dagster's test default.
QUIET_INSTANCE = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                                   "class": "NoOpComputeLogManager"}}


def quiet_instance(temp_dir: Path, **options):
    """``dg.instance_for_test`` in ``temp_dir``, without step-log capture (``QUIET_INSTANCE``)."""
    return dg.instance_for_test(overrides=QUIET_INSTANCE, temp_dir=str(temp_dir), **options)


def pipeline_defs(root: Path, source: Path | None = None, url: str | None = None, plans_dir: Path | None = None,
                  **resources) -> dg.Definitions:
    """The code location's definitions with its outputs under ``root`` (warehouse/, reports/, archive/,
    downloads/) and the exports from ``source`` or ``url`` (and the coding sheets from ``plans_dir``): resources
    passed in, as the CLI does."""
    from alliance_pipeline.code_location import build_defs
    from alliance_pipeline.defs.common.resources import EdSightSource, PlanSheets, Storage

    storage = Storage(warehouse_dir=str(root / "warehouse"), reports_dir=str(root / "reports"))
    resources.setdefault("edsight", EdSightSource(storage=storage, directory=str(source or paths.SAMPLE_EDSIGHT_DIR),
                                                  base_url=url, step_retries=0))
    if plans_dir is not None:
        resources["plans"] = PlanSheets(directory=str(plans_dir), edsight=resources["edsight"])
    return build_defs(storage=storage, **resources)


class PipelineEnv:
    """Definitions writing under a temporary folder; ``source()`` points them at a folder or URL of exports."""

    def __init__(self, root: Path):
        self.root = root
        self.warehouse_dir = root / "warehouse"
        self.reports_dir = root / "reports"
        self.defs = pipeline_defs(root)

    def source(self, directory: Path | None = None, url: str | None = None, **resources) -> dg.Definitions:
        self.defs = pipeline_defs(self.root, directory, url, **resources)
        return self.defs


class Refreshed:
    """One whole refresh (every family, every year, then the cross-year tables) on its own instance."""

    def __init__(self, root: Path, instance: dg.DagsterInstance, result, defs: dg.Definitions):
        self.root = root
        self.defs = defs
        self.warehouse = root / "warehouse"
        self.reports = root / "reports"
        self.instance = instance
        self.result = result

    def table(self, name: str, year: str | None = None) -> pd.DataFrame:
        return read_parquet(self.warehouse / (f"{name}/{year}.parquet" if year else f"{name}.parquet"))

    def metadata(self, name: str) -> dict:
        return self.instance.get_latest_materialization_event(dg.AssetKey(name)).asset_materialization.metadata

    def check_status(self, name: str) -> str:
        records = self.instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey(name), "expectations"), limit=1)
        return records[0].status.value if records else "none"


def refresh_of(tmp_path_factory, source: Path, label: str):
    """A refresh of ``source`` into a new folder, yielded for the fixture's scope (the session refreshes: once per
    source; tests only read it)."""
    from alliance_pipeline.refresh import refresh

    root = tmp_path_factory.mktemp(label)
    with ExitStack() as stack:
        (root / "dagster_home").mkdir()
        # set_dagster_home=False: the session-long instance must not leak DAGSTER_HOME into other tests
        instance = stack.enter_context(quiet_instance(root / "dagster_home", set_dagster_home=False))
        defs = pipeline_defs(root, source)
        result = refresh(defs, instance, progress=lambda message: None)
        assert result.success, result.failure.message if result.failure else ""
        yield Refreshed(root, instance, result, defs)


TRIMMED = {"sbac-district": ("2014-15", "2015-16"), "enrollment-district": ("2014-15", "2015-16")}


def trimmed_exports(target: Path) -> Path:
    """The real exports of ``TRIMMED`` copied into ``target``: two families (SBAC by district and enrollment), two
    school years each. Every kind of run a refresh launches (a family's years, the plan years, the cross-year tables),
    for the tests whose subject is where the runs go (PostgreSQL, the Celery topology), not the method."""
    for family, years in TRIMMED.items():
        (target / family).mkdir(parents=True)
        for path in (SHARED_EDSIGHT / family).glob("*.csv"):
            if any(f"__{year}_" in path.name for year in years):
                shutil.copyfile(path, target / family / path.name)
                (target / family / path.name).chmod(0o644)
    assert len(list(target.rglob("*.csv"))) == sum(map(len, TRIMMED.values())), sorted(target.rglob("*"))
    return target


def combine_exports(target: Path) -> Path:
    """One export folder as a user holds it today (methodology section 11): ../shared/edsight and every real export
    of ../shared/edsight-extra (its family folders, transcribed/, and accountability-full/ in accountability/),
    copied into ``target`` (never into the repository). Older downloads, re-saves and edge cases stay out."""
    for family in sorted(p for p in SHARED_EDSIGHT.iterdir() if p.is_dir() and p.name != "variants"):
        shutil.copytree(family, target / family.name, dirs_exist_ok=True)
    extra = [p for p in SHARED_EXTRA.iterdir() if p.is_dir() and p.name not in
             ("variants", "earlier-versions", "edge-cases", "transcribed", "accountability-full")]
    for family in [*extra, *(SHARED_EXTRA / "transcribed").iterdir()]:
        shutil.copytree(family, target / family.name, dirs_exist_ok=True)
    for path in (SHARED_EXTRA / "accountability-full").glob("*.csv"):
        (target / "accountability").mkdir(exist_ok=True)
        shutil.copyfile(path, target / "accountability" / path.name)
    for path in target.rglob("*"):  # shared/ is read-only; the copy is the tests' own
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def copy_of_refresh(refreshed: Refreshed, exports: Path, tmp_path_factory, label: str):
    """A private copy of a session refresh: its Parquet, reports, archive and Dagster instance, plus a copy of the
    exports it read, so a test can change files without touching what other tests read (and without a refresh of
    its own). Yields (Refreshed, the exports' copy, its definitions)."""
    root = tmp_path_factory.mktemp(label)
    for name in ("warehouse", "reports", "archive", "dagster_home"):
        if (refreshed.root / name).exists():
            shutil.copytree(refreshed.root / name, root / name, symlinks=True)
    source = root / "edsight"
    shutil.copytree(exports, source)
    with dg.DagsterInstance.from_config(str(root / "dagster_home")) as instance:
        defs = pipeline_defs(root, source)
        yield Refreshed(root, instance, refreshed.result, defs), source, defs


CLI = Path(sys.executable).parent / "alliance-pipeline"


def run_cli(args: list[str], tmp_path: Path, **extra_env) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env.update(DAGSTER_HOME=str(tmp_path / "home"), ALLIANCE_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
               ALLIANCE_REPORTS_DIR=str(tmp_path / "reports"))
    env.update(extra_env)
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, env=env, cwd=paths.PROJECT_ROOT, timeout=900)


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file under the roots (the latest symlink by its target) -> SHA-256."""
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")) if root.exists() else []:
            if path.is_symlink():
                found[str(path)] = "-> " + os.readlink(path)
            elif path.is_file():
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def warehouse_tables(root: Path) -> dict[str, pd.DataFrame]:
    """Every Parquet table under ``root``/warehouse, with ``root`` in its paths written as <root>."""
    tables = {}
    for path in sorted((root / "warehouse").rglob("*.parquet")):
        frame = read_parquet(path)
        for column in frame.columns:
            if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].map(lambda v: v.replace(str(root), "<root>") if isinstance(v, str) else v)
        tables[str(path.relative_to(root))] = frame
    return tables


def tick(defs, name: str, instance, cursor: str | None = None):
    with dg.build_sensor_context(instance=instance, resources=dict(defs.resources), definitions=defs,
                                 cursor=cursor) as context:
        return defs.resolve_sensor_def(name)(context)


def execute(defs, instance, request: dg.RunRequest, success: bool = True) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def(request.job_name)
    result = job.execute_in_process(partition_key=request.partition_key, instance=instance, tags=request.tags,
                                    asset_selection=request.asset_selection, raise_on_error=False)
    assert result.success == success
    return result


def new_years(defs, instance) -> dg.SensorResult:
    """new_school_year_sensor as the daemon ticks it: a tick that sees the registered years (its cursor), then the
    tick that loads them (a year is loaded from the second tick after it is registered); the second tick's result."""
    first = tick(defs, "new_school_year_sensor", instance)
    return tick(defs, "new_school_year_sensor", instance, first.cursor)


class ReportRun:
    """A session refresh (conftest) seen from the report: its page and the report asset's metadata."""

    def __init__(self, refreshed):
        self.warehouse, self.reports, self.table = refreshed.warehouse, refreshed.reports, refreshed.table
        self.html = refreshed.reports / LATEST / HTML_NAME
        self.report_metadata = refreshed.metadata("appendix_b_report")


def export_path(source: Path, family: str, year: str) -> Path:
    folder = source / FAMILIES[family].folder
    [path] = [p for p in folder.iterdir() if FAMILIES[family].match(p.name) == year]
    return path

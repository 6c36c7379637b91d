"""Shared fixtures: the public exports in ../shared/edsight, temporary instances and folders."""

from __future__ import annotations

import os
import shutil
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from alliance_pipeline import paths
from alliance_pipeline.defs.common.io_manager import read_parquet

SHARED_DIR = Path(os.environ.get("ALLIANCE_SHARED_DIR", paths.PROJECT_ROOT.parent / "shared")).resolve()
SHARED_EDSIGHT = SHARED_DIR / "edsight"
SHARED_EXTRA = SHARED_DIR / "edsight-extra"

# The session's shared refreshes (below): every test that uses one runs on the same pytest-xdist worker, so each is
# built once per suite, not once per worker.
SESSION_REFRESHES = {"sample_refresh", "real_refresh", "combined_refresh", "combined_edsight"}


# A test instance keeps no copy of each step's stdout and stderr (Dagster's local compute log manager starts two
# `tail` processes per run, and no test reads the captured logs); everything else is Dagster's test default.
QUIET_INSTANCE = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                                   "class": "NoOpComputeLogManager"}}


def quiet_instance(temp_dir: Path, **options):
    """``dg.instance_for_test`` in ``temp_dir``, without step-log capture (``QUIET_INSTANCE``)."""
    return dg.instance_for_test(overrides=QUIET_INSTANCE, temp_dir=str(temp_dir), **options)


def pytest_configure(config):
    """The tests' temporary folders (instances, warehouses, servers' data) on tmpfs where the machine has one: each
    Dagster event is an SQLite commit, and a commit on tmpfs costs no disk flush (PYTEST_DEBUG_TEMPROOT set by the
    caller wins; xdist's workers take their folders from here)."""
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access("/dev/shm", os.W_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = "/dev/shm"
    config.pluginmanager.register(GroupsApplied(), "alliance_groups_applied")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the marks
def pytest_collection_modifyitems(config, items):
    """How ``./scripts/test`` shares the machine's 2 cores (pytest-xdist, ``--dist loadgroup``): the tests using a
    session refresh form one group; every other module is a group of its own (its module-scoped fixtures, such as
    the one `dg dev` of test_dagster_ui, are built once). Without xdist the marks change nothing."""
    for item in items:
        uses_refresh = SESSION_REFRESHES & set(getattr(item, "fixturenames", ()))
        item.add_marker(pytest.mark.xdist_group("session_refreshes" if uses_refresh else item.module.__name__))


class GroupsApplied:
    """On an xdist worker, after xdist's hook: every test id must end in its group, or the groups were ignored
    (pytest 9.2's node ids with pytest-xdist 3.8.0, pytest-xdist#1386) and each worker would build the session
    refreshes again; said at once instead of a slow suite."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        if getattr(config.option, "loadgroup", False) and any("@" not in item.nodeid for item in items):
            raise pytest.UsageError("pytest-xdist ignored the tests' xdist_group marks (pytest-xdist#1386): "
                                    "use the pinned pytest (uv.lock), or run with -n 0")


@pytest.fixture(scope="session")
def shared_edsight() -> Path:
    """The real EdSight exports. Their absence is a failure, not a skip: CI always has them."""
    if not SHARED_EDSIGHT.is_dir():
        pytest.fail(f"the public EdSight exports are expected at {SHARED_EDSIGHT} (set ALLIANCE_SHARED_DIR)")
    return SHARED_EDSIGHT


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample exports."""
    target = tmp_path / "edsight"
    shutil.copytree(paths.SAMPLE_EDSIGHT_DIR, target)
    return target


@pytest.fixture
def instance(tmp_path: Path):
    """A real SQLite-backed Dagster instance in a temporary DAGSTER_HOME."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    with quiet_instance(home) as instance:
        yield instance


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


@pytest.fixture
def env(tmp_path: Path) -> PipelineEnv:
    return PipelineEnv(tmp_path)


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


@pytest.fixture(scope="session")
def sample_refresh(tmp_path_factory) -> Refreshed:
    """The bundled sample, refreshed once for the session (a copy: the tests never touch data/)."""
    source = tmp_path_factory.mktemp("sample-source") / "edsight"
    shutil.copytree(paths.SAMPLE_EDSIGHT_DIR, source)
    yield from refresh_of(tmp_path_factory, source, "sample-refresh")


@pytest.fixture(scope="session")
def real_refresh(tmp_path_factory, shared_edsight) -> Refreshed:
    """The public exports in ../shared/edsight, refreshed once for the session."""
    yield from refresh_of(tmp_path_factory, shared_edsight, "real-refresh")


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


@pytest.fixture(scope="session")
def combined_edsight(tmp_path_factory, shared_edsight) -> Path:
    if not SHARED_EXTRA.is_dir():
        pytest.fail(f"the later real EdSight exports are expected at {SHARED_EXTRA} (set ALLIANCE_SHARED_DIR)")
    return combine_exports(tmp_path_factory.mktemp("combined") / "edsight")


@pytest.fixture(scope="session")
def combined_refresh(tmp_path_factory, combined_edsight) -> Refreshed:
    """Every real export from 2007-08 to 2025-26 in one folder, refreshed once for the session."""
    yield from refresh_of(tmp_path_factory, combined_edsight, "combined-refresh")


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


@pytest.fixture
def loaded_sample(sample_refresh, tmp_path_factory):
    """What a refresh of the sample leaves, without a refresh of the test's own: a private copy of the session's
    (its instance, Parquet, reports, archive and exports), as (instance, env, exports) like the fixtures instance,
    env and sample_copy after a refresh."""
    for refreshed, source, _ in copy_of_refresh(sample_refresh, paths.SAMPLE_EDSIGHT_DIR, tmp_path_factory, "loaded"):
        yield refreshed.instance, PipelineEnv(refreshed.root), source

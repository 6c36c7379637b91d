"""Shared fixtures: the public exports in ../shared/edsight, temporary instances and folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from alliance_pipeline import paths
from alliance_pipeline_tests.helpers import (
    SHARED_EDSIGHT,
    SHARED_EXTRA,
    PipelineEnv,
    Refreshed,
    ReportRun,
    combine_exports,
    copy_of_refresh,
    quiet_instance,
    refresh_of,
)

# The session's shared refreshes (below): every test that uses one runs on the same pytest-xdist worker, so each is
# built once per suite, not once per worker.
SESSION_REFRESHES = {"sample_refresh", "real_refresh", "combined_refresh", "combined_edsight"}
# The modules that take longest on their own (the Dagster UI's daemon flows, the Celery topology, PostgreSQL).
LONGEST_MODULES = ("test_dagster_ui", "test_scale_out", "test_postgres")


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
    groups = {}
    for item in items:
        uses_refresh = SESSION_REFRESHES & set(getattr(item, "fixturenames", ()))
        groups[item] = "session_refreshes" if uses_refresh else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(groups[item]))
    # The longest groups first, so that each starts while the other worker still has work beside it and the short
    # modules fill the end (xdist hands the groups out in this order): the session refreshes, then the real
    # components' flows. Within a group, the order collected.
    first = ["session_refreshes", *(f"alliance_pipeline_tests.{name}" for name in LONGEST_MODULES)]
    items.sort(key=lambda item: first.index(groups[item]) if groups[item] in first else len(first))


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


@pytest.fixture
def env(tmp_path: Path) -> PipelineEnv:
    return PipelineEnv(tmp_path)


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


@pytest.fixture(scope="session")
def combined_edsight(tmp_path_factory, shared_edsight) -> Path:
    if not SHARED_EXTRA.is_dir():
        pytest.fail(f"the later real EdSight exports are expected at {SHARED_EXTRA} (set ALLIANCE_SHARED_DIR)")
    return combine_exports(tmp_path_factory.mktemp("combined") / "edsight")


@pytest.fixture(scope="session")
def combined_refresh(tmp_path_factory, combined_edsight) -> Refreshed:
    """Every real export from 2007-08 to 2025-26 in one folder, refreshed once for the session."""
    yield from refresh_of(tmp_path_factory, combined_edsight, "combined-refresh")


@pytest.fixture
def loaded_sample(sample_refresh, tmp_path_factory):
    """What a refresh of the sample leaves, without a refresh of the test's own: a private copy of the session's
    (its instance, Parquet, reports, archive and exports), as (instance, env, exports) like the fixtures instance,
    env and sample_copy after a refresh."""
    for refreshed, source, _ in copy_of_refresh(sample_refresh, paths.SAMPLE_EDSIGHT_DIR, tmp_path_factory, "loaded"):
        yield refreshed.instance, PipelineEnv(refreshed.root), source


@pytest.fixture(scope="session")
def sample_run(sample_refresh) -> ReportRun:
    return ReportRun(sample_refresh)


@pytest.fixture(scope="session")
def real_run(real_refresh) -> ReportRun:
    return ReportRun(real_refresh)


@pytest.fixture(scope="module")
def real_copy(tmp_path_factory, real_refresh, shared_edsight):
    """A private copy of the real exports' session refresh, for one module (copy_of_refresh): (Refreshed,
    its exports, its definitions)."""
    yield from copy_of_refresh(real_refresh, shared_edsight, tmp_path_factory, "bad-input")


@pytest.fixture(scope="module")
def sample_refresh_copy(tmp_path_factory, sample_refresh):
    """A private copy of the sample's session refresh, for one module (it has the CMT family the public exports
    lack)."""
    yield from copy_of_refresh(sample_refresh, paths.SAMPLE_EDSIGHT_DIR, tmp_path_factory, "bad-input-sample")

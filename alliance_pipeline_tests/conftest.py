"""Shared fixtures: the public exports in ../shared/edsight, temporary instances and folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from alliance_pipeline import paths

SHARED_DIR = Path(os.environ.get("ALLIANCE_SHARED_DIR", paths.PROJECT_ROOT.parent / "shared")).resolve()
SHARED_EDSIGHT = SHARED_DIR / "edsight"


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
    with dg.instance_for_test(temp_dir=str(home)) as test_instance:
        yield test_instance


@pytest.fixture
def env(monkeypatch, tmp_path: Path):
    """Point the pipeline's outputs at a temporary folder; returns a setter for the source."""
    warehouse = tmp_path / "warehouse"
    reports = tmp_path / "reports"
    monkeypatch.setenv(paths.ENV_WAREHOUSE_DIR, str(warehouse))
    monkeypatch.setenv(paths.ENV_REPORTS_DIR, str(reports))
    monkeypatch.delenv(paths.ENV_EDSIGHT_URL, raising=False)
    monkeypatch.delenv(paths.ENV_EDSIGHT_DIR, raising=False)

    class Env:
        warehouse_dir = warehouse
        reports_dir = reports

        @staticmethod
        def source(directory: Path) -> None:
            monkeypatch.setenv(paths.ENV_EDSIGHT_DIR, str(directory))

    return Env

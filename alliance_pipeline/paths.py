"""Where the project keeps its files, and the environment variables that move them."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_EDSIGHT_DIR = DATA_DIR / "sample" / "edsight"
COHORT_REFERENCE = DATA_DIR / "reference" / "alliance-districts__2012-13-to-2016-17.csv"
STUDY_REFERENCE = DATA_DIR / "reference" / "study-identified-districts__2014-15-to-2015-16.csv"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

ENV_EDSIGHT_DIR = "ALLIANCE_EDSIGHT_DIR"
ENV_EDSIGHT_URL = "ALLIANCE_EDSIGHT_URL"
ENV_WAREHOUSE_DIR = "ALLIANCE_WAREHOUSE_DIR"
ENV_REPORTS_DIR = "ALLIANCE_REPORTS_DIR"
ENV_ARCHIVE_DIR = "ALLIANCE_ARCHIVE_DIR"


def _from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def edsight_dir() -> Path:
    return _from_env(ENV_EDSIGHT_DIR, SAMPLE_EDSIGHT_DIR)


def warehouse_dir() -> Path:
    return _from_env(ENV_WAREHOUSE_DIR, DATA_DIR / "warehouse")


def reports_dir() -> Path:
    return _from_env(ENV_REPORTS_DIR, DATA_DIR / "reports")


def downloads_dir() -> Path:
    """Where exports fetched over HTTP are kept (beside the warehouse)."""
    return warehouse_dir().parent / "downloads"


def archive_dir() -> Path:
    """The immutable archive of every raw export version (beside the warehouse)."""
    return _from_env(ENV_ARCHIVE_DIR, warehouse_dir().parent / "archive")

"""Headless Chromium (Debian's package) driven by Playwright: no downloaded browser.

``scripts/test`` installs Debian's ``chromium``; its absence is a failure, not a skip.
Screenshots go to ``artifacts/screenshots/`` (the path the README names).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from alliance_pipeline import paths

SCREENSHOTS = Path(os.environ.get("ALLIANCE_SCREENSHOTS_DIR", paths.PROJECT_ROOT / "artifacts" / "screenshots"))

# As root in a container Chromium needs --no-sandbox; the network flags stop its
# background calls to Google, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("ALLIANCE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"Debian's chromium is expected at {path}; ./scripts/test installs it (apt-get install chromium)")
    return path


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 900):
    """A page in a fresh headless Chromium with an empty profile."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name

"""Resources: where exports come from."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from alliance_pipeline import paths
from alliance_pipeline.edsight.sources import HttpExports, LocalExports


class EdSightSource(dg.ConfigurableResource):
    """EdSight exports, from a folder (default: the bundled sample) or an HTTP(S) base URL.

    Unset fields fall back to ``ALLIANCE_EDSIGHT_URL`` / ``ALLIANCE_EDSIGHT_DIR`` at
    run time, then to the project's sample data.
    """

    directory: str | None = Field(default=None, description="Folder with one sub-folder per export family.")
    base_url: str | None = Field(default=None, description="HTTP(S) base URL laid out like the folder.")
    download_dir: str | None = Field(default=None, description="Where HTTP downloads are kept.")
    timeout_seconds: float = Field(default=30.0, description="HTTP timeout per request.")
    retries: int = Field(default=3, description="HTTP retries, with exponential backoff.")

    def exports(self) -> LocalExports | HttpExports:
        url = self.base_url or os.environ.get(paths.ENV_EDSIGHT_URL)
        if url:
            download = Path(self.download_dir) if self.download_dir else paths.downloads_dir()
            return HttpExports(url, download, timeout=self.timeout_seconds, retries=self.retries)
        return LocalExports(Path(self.directory) if self.directory else paths.edsight_dir())

    def discover(self, family: str) -> dict[str, str]:
        return self.exports().discover(family)

    def fetch(self, family: str, year: str) -> Path:
        return self.exports().fetch(family, year)

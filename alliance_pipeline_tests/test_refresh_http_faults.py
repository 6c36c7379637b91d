"""HTTP faults: a year of the real exports loaded from a local web server on 127.0.0.1 that misbehaves (errors, a
hang, a body cut short, a redirect loop, a login page, a folder listing that fails), each reported and changing
nothing."""

from __future__ import annotations

import pytest

from alliance_pipeline_tests.helpers import export_path, pipeline_defs, snapshot

SBAC = ("sbac_district", "2015-16")


HTTP_FAULTS = {
    "HTTP 500 on the export": ("500", ("kept answering with errors",)),
    "server hangs past the timeout": ("hang", ("timed out",)),
    "body cut short": ("truncate", ("stopped",)),
    "redirect loop": ("redirect", ("redirect",)),
    "login page with HTTP 200": ("login", ("web page",)),
    "folder listing answers 500": ("listing", ("cannot list",)),
}


@pytest.fixture(scope="module")
def fault_server(real_copy):
    """The copy of the exports on 127.0.0.1; ``server.fault`` makes the 2015-16 SBAC file (or its folder) misbehave."""
    import http.server
    import threading
    import time

    refreshed, source, _ = real_copy
    target = export_path(source, *SBAC).name

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(source), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            fault = self.server.fault
            if fault == "listing" and self.path.rstrip("/").endswith("sbac-district"):
                return self._answer(500, b"")
            if not self.path.endswith(target) or fault in (None, "listing"):
                return super().do_GET()
            if fault == "500":
                return self._answer(500, b"")
            if fault == "hang":
                time.sleep(4)
                return self._answer(200, b"too late")
            if fault == "truncate":
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b'"Smarter Balanced Assessments, 2015-16"\r\n')
                return
            if fault == "redirect":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if fault == "login":
                return self._answer(200, b"<!DOCTYPE html><html><body><form>Sign in</form></body></html>", "text/html")

        def _answer(self, status: int, body: bytes, content_type: str = "text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.fault = None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/", refreshed.root / "downloads"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", list(HTTP_FAULTS))
def test_http_fault_is_reported_and_changes_nothing(real_copy, fault_server, name):
    from alliance_pipeline.defs.common.resources import EdSightSource
    from alliance_pipeline.refresh import _failure_message

    refreshed, source, defs = real_copy
    server, url, downloads = fault_server
    fault, expected = HTTP_FAULTS[name]
    storage = defs.resources["storage"]
    http = EdSightSource(storage=storage, base_url=url, timeout_seconds=1.0, retries=1, step_retries=0)
    assert storage.downloads() == downloads
    family, year = SBAC
    job = pipeline_defs(refreshed.root, edsight=http).resolve_job_def(f"single_year_{family}")
    server.fault = None  # a good download first: the cached copy the fault must not replace
    assert job.execute_in_process(instance=refreshed.instance, partition_key=year).success
    roots = (refreshed.warehouse, refreshed.reports, refreshed.root / "archive", downloads)
    before = snapshot(*roots)
    server.fault = fault
    try:
        result = job.execute_in_process(instance=refreshed.instance, partition_key=year, raise_on_error=False)
    finally:
        server.fault = None
    assert not result.success
    message = _failure_message(result)
    assert url in message and all(text in message for text in expected), message
    assert "Traceback" not in message and len(message.splitlines()) <= 6
    assert snapshot(*roots) == before  # Parquet, report, archive and the cached download untouched

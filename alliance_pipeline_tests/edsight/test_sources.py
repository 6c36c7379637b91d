"""Finding exports in a folder and over HTTP (a real http.server on 127.0.0.1)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from alliance_pipeline.edsight.sources import HttpExports, LocalExports, SourceError


@pytest.fixture
def http_root(shared_edsight):
    """Serve ../shared/edsight read-only on 127.0.0.1; yields the base URL and a hit log."""
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            hits.append(self.path)

    handler = functools.partial(Handler, directory=str(shared_edsight))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", hits
    finally:
        server.shutdown()
        server.server_close()


def test_local_discovery_by_family_and_year(shared_edsight):
    source = LocalExports(shared_edsight)
    assert list(source.discover("sbac_district")) == ["2014-15", "2015-16", "2016-17"]
    assert list(source.discover("enrollment")) == ["2012-13", "2013-14", "2014-15", "2015-16"]
    assert list(source.discover("sbac_growth")) == ["2015-16"]  # not the by-grade or statewide files
    assert source.discover("cmt_district") == {}
    with pytest.raises(SourceError, match="no sbac_district export for 2020-21"):
        source.fetch("sbac_district", "2020-21")


def test_http_discovery_and_download_match_the_files(shared_edsight, http_root, tmp_path):
    base_url, hits = http_root
    source = HttpExports(base_url, tmp_path / "downloads", timeout=5)
    assert list(source.discover("sbac_district")) == ["2014-15", "2015-16", "2016-17"]
    assert source.discover("cmt_district") == {}  # 404 for the folder: no exports
    fetched = source.fetch("sbac_district", "2015-16")
    original = shared_edsight / "sbac-district" / fetched.name
    assert fetched.read_bytes() == original.read_bytes()
    assert not list(fetched.parent.glob("*.part"))  # nothing half-written left behind
    assert any(hit.endswith(fetched.name) for hit in hits)


def test_http_unreachable_server_is_a_clear_error(tmp_path):
    source = HttpExports("http://127.0.0.1:9/", tmp_path, timeout=0.5, retries=1)
    with pytest.raises(SourceError, match="cannot list http://127.0.0.1:9/sbac-district/"):
        source.discover("sbac_district")
    assert not any(Path(tmp_path).rglob("*"))


def test_a_link_out_of_the_export_folder_is_refused(tmp_path, shared_edsight):
    outside = tmp_path / "elsewhere.csv"
    outside.write_bytes(next((shared_edsight / "sbac-district").glob("*2015-16*")).read_bytes())
    folder = tmp_path / "exports" / "sbac-district"
    folder.mkdir(parents=True)
    (folder / "smarter-balanced__2015-16_ela-and-math_all-students_all-grades.csv").symlink_to(outside)
    with pytest.raises(SourceError, match="outside the export folder"):
        LocalExports(tmp_path / "exports").fetch("sbac_district", "2015-16")


@pytest.mark.parametrize("body, content_type, expected", [
    (b"<!DOCTYPE html><html><body><form>Sign in to EdSight</form></body></html>", "text/html", "web page"),
    (b"<html><head><title>Login</title></head></html>", "text/plain", "web page"),
    (b"\x1f\x8b\x08\x00binary", "application/octet-stream", "gzip archive"),
])
def test_a_download_that_is_not_a_csv_never_replaces_the_cached_copy(tmp_path, shared_edsight, body, content_type, expected):
    """EdSight's login page (HTTP 200), or binary bytes, served under the export's URL: refused before caching."""
    name = next((shared_edsight / "sbac-district").glob("*2015-16*")).name

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.endswith("/"):
                page = f'<html><body><a href="{name}">{name}</a></body></html>'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cached = tmp_path / "downloads" / "sbac-district" / name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"the good copy downloaded last year")
    try:
        source = HttpExports(f"http://127.0.0.1:{server.server_address[1]}/", tmp_path / "downloads", timeout=3, retries=0)
        with pytest.raises(SourceError, match=expected) as error:
            source.fetch("sbac_district", "2015-16")
    finally:
        server.shutdown()
        server.server_close()
    assert "left as it was" in str(error.value)
    assert cached.read_bytes() == b"the good copy downloaded last year"
    assert sorted(p.name for p in cached.parent.iterdir()) == [name]  # no partial file left

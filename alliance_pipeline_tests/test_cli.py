"""The main job as a user runs it: `alliance-pipeline refresh` in a fresh process."""

from __future__ import annotations

import html
import os
from pathlib import Path

import dagster as dg
import openpyxl
import pyarrow.parquet as pq

from alliance_pipeline import paths
from alliance_pipeline.defs.common.partitions import YEAR_PARTITIONS
from alliance_pipeline_tests.helpers import run_cli


def test_refresh_on_the_bundled_sample(tmp_path):
    """On a new, empty DAGSTER_HOME: the project's instance configuration is written first (no Dagster warning or
    telemetry banner among the progress lines), and the report says its data are the generated sample."""
    done = run_cli(["refresh"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "No dagster instance configuration file" not in output and "usage statistics" not in output, output
    config = (tmp_path / "home" / "dagster.yaml").read_text(encoding="utf-8")
    assert "max_concurrent_runs: 2" in config and "enabled: false" in config
    assert f"wrote the project's instance configuration (deploy/dagster-local.yaml) to {tmp_path / 'home' / 'dagster.yaml'}" in done.stdout
    assert "(the bundled sample: generated, not real coded plans)" in done.stdout
    assert "Done:" in done.stdout and str(tmp_path / "warehouse") in done.stdout
    assert f"exports:   {paths.SAMPLE_EDSIGHT_DIR}" in done.stdout
    table = pq.read_table(tmp_path / "warehouse" / "raw_sbac_district" / "2015-16.parquet")
    assert table.num_rows > 100
    assert (tmp_path / "warehouse" / "identified_districts.parquet").is_file()
    report = tmp_path / "reports" / "latest" / "appendix-b.html"
    assert report.is_file() and f"Report:         {report}" in done.stdout
    header = html.unescape(report.read_text(encoding="utf-8").split("</header>", 1)[0])
    assert "Generated data, not real results: every export this report was built from is from the project's bundled sample" in header
    readme = [row[0] for row in openpyxl.load_workbook(report.with_suffix(".xlsx"), read_only=True)["README"].iter_rows(values_only=True)]
    assert readme[2].startswith("Generated data, not real results")
    hint = next(line for line in done.stdout.splitlines() if "Run history:" in line).split("Run history:", 1)[1].strip()
    dg_path = hint.split(" && ", 1)[1].split()[1]  # (cd ROOT && DAGSTER_HOME=... /path/to/dg dev)
    assert Path(dg_path).is_file() and os.access(dg_path, os.X_OK), hint  # works as printed, in a plain shell
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        runs = instance.get_runs()
        assert runs and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)


def test_refresh_stops_on_a_failed_check_with_its_message(tmp_path, sample_copy):
    """One bad year of a family: the family's one run (all its years) is refused, then each year is loaded on its own,
    so the bad year alone fails, named with its file and column, and every other year of the family is stored."""
    path = next((sample_copy / "enrollment-district").glob("*2014-15*"))
    text = path.read_text().replace('"=""0640011""",', '"=""0640011""",-', 1)
    path.write_text(text)
    done = run_cli(["refresh", "--source", str(sample_copy)], tmp_path)
    assert done.returncode == 1
    assert "Refresh stopped: single_year_enrollment (2014-15) failed" in done.stderr
    assert "'student_count'" in done.stderr and str(path) in done.stderr
    assert done.stderr.count("validation failed") == 1 and "validation failed" not in done.stdout  # said once
    assert "single_year_enrollment (2011-12 to 2016-17, 6 years): FAILED" in done.stdout
    assert "loading each year on its own, so that only a refused year fails" in done.stdout
    stored = sorted(p.stem for p in (tmp_path / "warehouse" / "raw_enrollment").glob("*.parquet"))
    assert stored == ["2011-12", "2012-13", "2013-14", "2015-16", "2016-17"]  # the good years, not held back
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        status = instance.get_status_by_partition(dg.AssetKey("raw_enrollment"), ["2014-15", "2015-16"],
                                                  YEAR_PARTITIONS["enrollment"])
    assert status == {"2014-15": dg.AssetPartitionStatus.FAILED, "2015-16": dg.AssetPartitionStatus.MATERIALIZED}


def test_refresh_with_an_unlistable_http_source_says_so_without_a_traceback(tmp_path):
    """A listing that answers HTTP 500: a message, exit 2, nothing registered or written."""
    import http.server
    import threading

    class Failing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = run_cli(["refresh"], tmp_path, ALLIANCE_EDSIGHT_URL=f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Refresh not started: cannot list the exports" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "warehouse").exists()

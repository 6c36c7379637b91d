"""A full refresh on a real PostgreSQL server with the repo's deploy/dagster.yaml, of real exports trimmed to two
families of two school years each (every kind of run a refresh launches; the README's command on the bundled sample
is test_cli's, on SQLite).

The test starts Debian's PostgreSQL (installed by ./scripts/test) in a temporary
data directory on 127.0.0.1 and stops it afterwards. As root, the server runs
as the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from alliance_pipeline import paths
from alliance_pipeline.definitions import defs
from alliance_pipeline_tests.helpers import TRIMMED, trimmed_exports

pytestmark = pytest.mark.postgres

CLI = Path(sys.executable).parent / "alliance-pipeline"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail("Debian's postgresql is expected (/usr/lib/postgresql/*/bin); ./scripts/test installs it")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres_server():
    """host, port, user, database of a fresh server; stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="alliance-pg-"))
    data, log = root / "data", root / "server.log"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(_as_server_user([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)
    subprocess.run(
        _as_server_user([_pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start",
                         "-o", f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"]),
        check=True, capture_output=True,
    )
    try:
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        try:
            conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with conn.cursor() as cursor:
                cursor.execute("CREATE DATABASE dagster")
        finally:
            conn.close()
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "db": "dagster"}
    finally:
        subprocess.run(_as_server_user([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_full_refresh_on_a_postgres_backed_instance(postgres_server, tmp_path, shared_edsight):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(paths.PROJECT_ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env.update(
        DAGSTER_HOME=str(home), ALLIANCE_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
        ALLIANCE_REPORTS_DIR=str(tmp_path / "reports"),
        DAGSTER_PG_HOST=postgres_server["host"], DAGSTER_PG_PORT=str(postgres_server["port"]),
        DAGSTER_PG_USERNAME=postgres_server["user"], DAGSTER_PG_PASSWORD="", DAGSTER_PG_DB=postgres_server["db"],
    )
    source = trimmed_exports(tmp_path / "edsight")
    done = subprocess.run([str(CLI), "refresh", "--source", str(source)], capture_output=True, text=True, env=env, cwd=paths.PROJECT_ROOT,
                          timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PostgresRunStorage" in done.stdout  # the CLI names the storage it used

    # The run history, read back from PostgreSQL itself ...
    with psycopg2.connect(host=postgres_server["host"], port=postgres_server["port"], user=postgres_server["user"],
                          dbname=postgres_server["db"]) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM runs GROUP BY status")
        statuses = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")
        materializations = cursor.fetchone()[0]
    runs = int(done.stdout.split("Done: ")[1].split()[0])
    assert statuses == {"SUCCESS": runs} and runs >= len(TRIMMED) + 1  # a run per family (two years), the cross-year
    assert materializations > 0

    # ... and through Dagster with the same dagster.yaml.
    with pytest.MonkeyPatch.context() as patch:
        for key in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"):
            patch.setenv(key, env[key])
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert len(instance.get_runs()) == runs
            keys = defs.resolve_asset_graph().get_all_asset_keys()
            assert materializations == sum(
                len(instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1000).records) for key in keys
            )
            event = instance.get_latest_materialization_event(dg.AssetKey("appendix_b_report"))
            assert event is not None and event.asset_materialization.metadata["tables_available"].value > 0
            assert instance.get_dynamic_partitions("sbac_district_years") == ["2014-15", "2015-16"]

"""The project as `dg` sees it: `dg check defs`, `dg list defs` against a committed snapshot (asset keys, groups,
kinds, owners, tags, dependencies, checks, jobs, schedules, sensors, resources), and `dg launch` running the same
job the UI shows.

After an intended change to the definitions, regenerate the snapshot and review its diff:

    ALLIANCE_UPDATE_SNAPSHOT=1 ./scripts/test alliance_pipeline_tests/test_dg.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from alliance_pipeline import paths

DG = Path(sys.executable).parent / "dg"
SNAPSHOT = Path(__file__).parent / "snapshots" / "dg_list_defs.json"


def _dg(args: list[str], home: Path, **extra_env) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALLIANCE_")}
    env.update(DAGSTER_HOME=str(home), **extra_env)
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").touch()
    return subprocess.run([str(DG), *args], capture_output=True, text=True, cwd=paths.PROJECT_ROOT, env=env, timeout=600)


def _summary(listed: dict) -> dict:
    """What a reviewer should see change: everything but descriptions."""
    return {
        "assets": {a["asset_key"]: {"group": a["group_name"], "kinds": sorted(a["kinds"]),
                                    "owners": a["owners"], "tags": {t["key"]: t["value"] for t in a["tags"]},
                                    "deps": sorted(a["dependency_keys"])} for a in listed["assets"]},
        "asset_checks": sorted(c["key"] for c in listed["asset_checks"]),
        "jobs": sorted(j["name"] for j in listed["jobs"]),
        "schedules": {s["name"]: s["cron_schedule"] for s in listed["schedules"]},
        "sensors": sorted(s["name"] for s in listed["sensors"]),
        "resources": {r["name"]: r["type"] for r in listed["resources"]},
    }


def test_dg_check_and_list_defs_match_the_snapshot(tmp_path):
    checked = _dg(["check", "defs"], tmp_path / "home")
    assert checked.returncode == 0 and "All definitions loaded successfully" in checked.stdout + checked.stderr, \
        checked.stdout + checked.stderr
    listed = _dg(["list", "defs", "--json"], tmp_path / "home")
    assert listed.returncode == 0, listed.stderr
    summary = _summary(json.loads(listed.stdout))
    if os.environ.get("ALLIANCE_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert summary == json.loads(SNAPSHOT.read_text(encoding="utf-8")), \
        "the definitions changed: regenerate the snapshot (see this module's docstring) and review its diff"
    assert all(asset["owners"] == [{"team": "alliance-data"}] for asset in summary["assets"].values())


def test_dg_launch_runs_the_year_job_the_ui_shows(tmp_path):
    """`dg launch --job single_year_enrollment --partition 2015-16`: the same job, named and partitioned as from the
    UI, writing where the environment's storage settings say."""
    from alliance_pipeline.defs.operations.planner import register_years
    from alliance_pipeline_tests.helpers import pipeline_defs

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").touch()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        register_years(instance, pipeline_defs(tmp_path).resources["edsight"])
    done = _dg(["launch", "--job", "single_year_enrollment", "--partition", "2015-16"], home,
               ALLIANCE_WAREHOUSE_DIR=str(tmp_path / "warehouse"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        [run] = instance.get_runs()
        assert run.job_name == "single_year_enrollment" and run.tags["dagster/partition"] == "2015-16"
        assert run.status == dg.DagsterRunStatus.SUCCESS
    assert (tmp_path / "warehouse" / "raw_enrollment" / "2015-16.parquet").is_file()
    assert (tmp_path / "archive" / "enrollment" / "2015-16").is_dir()  # the archive follows the warehouse

"""The code location loads, its asset keys and jobs are what the docs say, without deprecated APIs."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg

from alliance_pipeline import paths

RAW = {"raw_sbac_district", "raw_sbac_state", "raw_sbac_growth", "raw_cmt_district", "raw_enrollment", "raw_accountability"}


def test_definitions_load_and_asset_keys():
    from alliance_pipeline.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert RAW | {"alliance_cohort"} <= keys
    graph = defs.resolve_asset_graph()
    for name in RAW:
        node = graph.get(dg.AssetKey(name))
        assert node.group_name == "ingest"
        assert isinstance(node.partitions_def, dg.DynamicPartitionsDefinition)
        assert node.partitions_def.name == name.removeprefix("raw_") + "_years"


def test_loading_the_code_location_raises_no_deprecation_warning():
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning);"
        "import dagster as dg;"
        "warnings.simplefilter('error', dg.DagsterDeprecationWarning) if hasattr(dg, 'DagsterDeprecationWarning') else None;"
        "from alliance_pipeline.definitions import defs; dg.Definitions.validate_loadable(defs); print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.PROJECT_ROOT)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_workspace_yaml_loads_with_the_dagster_cli(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True, text=True, cwd=paths.PROJECT_ROOT, env=env, timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "deprecat" not in output.lower(), output


def test_yearly_assets_take_a_range_per_run_and_plan_years_one_per_run():
    """Materialize all (a backfill) launches one run per family over its years: every school-year asset has
    BackfillPolicy.single_run; a plan year's sheets are refused together, so plan years stay one per run."""
    from alliance_pipeline.definitions import defs
    from alliance_pipeline.defs.common.partitions import YEAR_PARTITIONS

    graph = defs.resolve_asset_graph()
    yearly = [graph.get(key) for key in graph.get_all_asset_keys()
              if graph.get(key).partitions_def in YEAR_PARTITIONS.values()]
    assert len(yearly) >= len(YEAR_PARTITIONS) + 2  # the raw assets, sbac_district_scores, cmt_district_scores
    assert all(node.backfill_policy == dg.BackfillPolicy.single_run() for node in yearly)
    assert graph.get(dg.AssetKey("raw_plan_codes")).backfill_policy == dg.BackfillPolicy.multi_run(1)


def test_sensor_intervals_follow_the_refresh_policy(monkeypatch):
    """ALLIANCE_SENSOR_SECONDS (refresh_policy.sensor_seconds, read when the code location loads) sets how often the
    sensors tick, school_year_partitions at half of it; unset, the documented 60 s and 30 s."""
    from alliance_pipeline.code_location import build_defs

    def intervals():
        return {sensor.name: sensor.minimum_interval_seconds for sensor in build_defs().sensors}

    monkeypatch.delenv("ALLIANCE_SENSOR_SECONDS", raising=False)
    monkeypatch.delenv("ALLIANCE_REPUBLISH_CHECK_SECONDS", raising=False)
    default = intervals()
    assert default["school_year_partitions"] == 30 and default["republished_export_sensor"] == 300
    assert {default[name] for name in ("new_school_year_sensor", "cross_year_tables_sensor", "keep_tables_current",
                                       "coded_plan_sheets_sensor")} == {60}
    monkeypatch.setenv("ALLIANCE_SENSOR_SECONDS", "10")
    monkeypatch.setenv("ALLIANCE_REPUBLISH_CHECK_SECONDS", "20")
    fast = intervals()
    assert fast["school_year_partitions"] == 5 and fast["republished_export_sensor"] == 20
    assert {fast[name] for name in ("new_school_year_sensor", "cross_year_tables_sensor", "keep_tables_current",
                                    "coded_plan_sheets_sensor")} == {10}

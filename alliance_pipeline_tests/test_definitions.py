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

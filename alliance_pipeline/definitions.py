"""The code location (``dg dev``, ``workspace.yaml``, ``pyproject.toml``'s ``[tool.dagster]``): its one Definitions
object, built from the environment by ``code_location.build_defs``."""

from alliance_pipeline.code_location import build_defs

defs = build_defs()

"""The formulas of methodology.md, as plain functions of pandas frames (no Dagster)."""

"""Dagster wiring. Each domain folder only connects the pure modules to Dagster."""

"""Pure report building: tables from the stored assets, charts, templates (no Dagster here)."""

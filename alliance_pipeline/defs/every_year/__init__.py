"""Group every_year: its assets (assets.py)."""

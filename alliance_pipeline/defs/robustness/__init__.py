"""Group robustness: its assets (assets.py)."""

"""Group equity: its assets (assets.py)."""

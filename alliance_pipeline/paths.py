"""Where the project's own files are (the sample, the reference tables, the suites).

What the pipeline writes (warehouse, archive, downloads, reports) is set by the ``storage`` resource
(``defs/common/resources.py: Storage``), configured once in ``definitions.py``.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
SAMPLE_EDSIGHT_DIR = DATA_DIR / "sample" / "edsight"
SAMPLE_PLANS_DIR = DATA_DIR / "sample" / "plans"
COHORT_REFERENCE = DATA_DIR / "reference" / "alliance-districts__2012-13-to-2016-17.csv"
STUDY_REFERENCE = DATA_DIR / "reference" / "study-identified-districts__2014-15-to-2015-16.csv"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
EDSIGHT_GAPS = DATA_DIR / "reference" / "edsight-gaps.csv"
PLAN_CODEBOOK = DATA_DIR / "reference" / "plan-codebook__appendix-a.csv"

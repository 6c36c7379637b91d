"""The asset groups the UI shows. Each has one folder, ``defs/<group>/``, named as the group is."""

INGEST = "ingest"  # the raw exports, the reference tables, district names and coverage (methodology 1, 11)
INDICATORS = "indicators"  # the study's indicators (methodology 1-5)
IDENTIFICATION = "identification"  # Alliance and Opportunity Districts (methodology 6, 11, 13)
EVERY_YEAR = "every_year"  # the study's method on every later year (methodology 8, 11)
ROBUSTNESS = "robustness"  # how robust the identified list is (methodology 9)
EQUITY = "equity"  # subgroup gaps (methodology 10)
NOW = "now"  # how the Alliance Districts are doing now (methodology 13)
PLAN_CODING = "plan_coding"  # the coded district plans (methodology 12)
REPORTS = "reports"  # Appendix B (methodology 7)

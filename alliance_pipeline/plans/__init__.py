"""Coding district plans with the study's Appendix A codebook (methodology section 12): pure functions.

    codebook.py     the codebook as data: load_codebook, Codebook (topics, codes, the rules a sheet follows)
    sheets.py       coding sheets: file names, blank templates (CSV, XLSX), read_sheet (every problem, file/row/column)
    reliability.py  intercoder_reliability (Cohen's kappa, Krippendorff's alpha per code)
    indicators.py   plan_codes, plan_indicators, plan_indicators_compared (the study's four framework components)
    sample.py       the seeded sample coded plans
"""

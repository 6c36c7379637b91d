"""Intercoder reliability of the coded plans (methodology section 12).

Where two or more coders coded the same plan (district and plan year), their interventions are matched on
``intervention_id``. For every code of the codebook, each matched intervention is a unit whose value is whether the
coder gave it that code. Cohen's kappa (scikit-learn) is computed on the pairs of codings of the same plan, pooled
over plans and coder pairs; Krippendorff's alpha (nominal, the ``krippendorff`` package) on the same units with every
coder of the plan (an intervention a coder did not list is a missing value there, and is not a unit for kappa).
Codes under ``THRESHOLD`` (Hruschka et al. 2004) are flagged.

When the coders agree on every unit and the code's value does not vary (absent everywhere, or present everywhere),
both statistics are 0/0; agreement is perfect, so they are reported as 1, with the reason in ``note``; a code no
coder used in the double-coded plans is not assessable (blank, with the reason).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alliance_pipeline.plans.codebook import Codebook

THRESHOLD = 0.8
COLUMNS = ["topic", "code", "plans", "pairs", "units", "units_present", "agreement", "cohen_kappa",
           "krippendorff_alpha", "below_threshold", "unmatched_interventions", "note"]


def double_coded(codings: pd.DataFrame) -> pd.DataFrame:
    """The rows of the plans (district, plan year) coded by more than one coder."""
    coders = codings.groupby(["district_code", "plan_year"])["coder"].transform("nunique")
    return codings[coders > 1]


def presence(codings: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """One row per (plan, intervention, coder) with a boolean column per code: whether that coder gave it."""
    keys = codings[["district_code", "plan_year", "intervention_id", "coder"]].reset_index(drop=True)
    columns = {}
    for topic in codebook.coded_topics:
        cells = codings[topic].fillna("").astype(str).str.split(";")
        for code in codebook.codes(topic):
            columns[code] = cells.map(lambda codes, code=code: code in codes).to_numpy()
    return pd.concat([keys, pd.DataFrame(columns)], axis=1)


def cohen_kappa(first: np.ndarray, second: np.ndarray) -> float:
    """Cohen's kappa of two codings of the same units (scikit-learn); 1.0 when they agree and do not vary."""
    from sklearn.metrics import cohen_kappa_score

    if len(first) and (first == second).all() and len(set(first) | set(second)) == 1:
        return 1.0
    return float(cohen_kappa_score(first, second))


def krippendorff_alpha(matrix: np.ndarray) -> float:
    """Krippendorff's alpha, nominal, of a coders x units matrix (NaN: not coded); 1.0 when every pairable value
    agrees and does not vary."""
    import krippendorff

    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]  # a unit one coder listed pairs with nothing
    values = pairable[~np.isnan(pairable)]
    if not values.size:
        return float("nan")
    if (values == values[0]).all():
        return 1.0
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def intercoder_reliability(codings: pd.DataFrame, codebook: Codebook, threshold: float = THRESHOLD) -> pd.DataFrame:
    """One row per code of the codebook: the double-coded plans, pairs and units, the share of pairs agreeing,
    Cohen's kappa, Krippendorff's alpha, whether either is under ``threshold``."""
    shared = double_coded(codings)
    if shared.empty:
        return pd.DataFrame(columns=COLUMNS)
    marks = presence(shared, codebook)
    plan = ["district_code", "plan_year"]
    unit = [*plan, "intervention_id"]
    # Kappa's units: an intervention both coders of a pair listed (every pair of coders of the plan).
    pair_rows = marks.merge(marks, on=unit, suffixes=("_a", "_b"))
    pair_rows = pair_rows[pair_rows["coder_a"] < pair_rows["coder_b"]]
    coders = marks.groupby(plan)["coder"].nunique()
    pairs = int((coders * (coders - 1) // 2).sum())
    # Alpha's matrix: one column per (plan, intervention), one row per coder slot of its plan, NaN where not listed.
    column = marks.groupby(unit, sort=True).ngroup().to_numpy()
    slot = marks.groupby(plan)["coder"].rank(method="dense").astype(int).to_numpy() - 1
    listed = np.bincount(column)
    unmatched = int((listed < coders.reindex(pd.MultiIndex.from_frame(
        marks[unit].drop_duplicates().sort_values(unit)[plan])).to_numpy()).sum())
    rows = []
    for topic in codebook.coded_topics:
        for code in codebook.codes(topic):
            first = pair_rows[f"{code}_a"].to_numpy(dtype=bool)
            second = pair_rows[f"{code}_b"].to_numpy(dtype=bool)
            matrix = np.full((int(slot.max()) + 1, int(column.max()) + 1), np.nan)
            matrix[slot, column] = marks[code].to_numpy(dtype=float)
            present = int(first.sum() + second.sum())
            kappa = alpha = np.nan
            note = ""
            if not len(first):
                note = "no intervention was listed by two coders of the same plan"
            elif present == 0 and np.nansum(matrix) == 0:
                note = "never coded in the double-coded plans: reliability not assessable"
            else:
                kappa, alpha = cohen_kappa(first, second), krippendorff_alpha(matrix)
                if (first == second).all() and len(set(first)) == 1:
                    note = "the coders agree on every unit and the code never varies (0/0): reported as 1"
            below = bool(not np.isnan(kappa) and (kappa < threshold or alpha < threshold))
            rows.append({"topic": topic, "code": code, "plans": int(len(coders)), "pairs": pairs, "units": len(first),
                         "units_present": present, "agreement": float((first == second).mean()) if len(first) else np.nan,
                         "cohen_kappa": kappa, "krippendorff_alpha": alpha, "below_threshold": below,
                         "unmatched_interventions": unmatched, "note": note})
    return pd.DataFrame(rows, columns=COLUMNS)

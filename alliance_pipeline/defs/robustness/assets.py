"""Group robustness: how robust the identified list is (methodology section 9). Each asset calls the pure function
of the same name.

    identification_robustness  -> methods.robustness.identification_robustness
    identification_margins     -> methods.robustness.identification_margins
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, table_asset, unavailable
from alliance_pipeline.defs.common.groups import ROBUSTNESS
from alliance_pipeline.defs.common.metadata import preview, settings
from alliance_pipeline.defs.common.resources import MethodSettings
from alliance_pipeline.methods import robustness

CODE_VERSION = "beyond-1"


def _robustness_settings(method: MethodSettings) -> dict:
    return settings(
        grades=method.grades, suppression_scope=method.suppression_scope, moments_population=method.moments_population,
        top_n=method.top_n, change_years=f"{method.change_start_year} to {method.change_end_year}",
        growth_year=method.growth_year, t_years=f"{method.t_base_year} to {method.t_end_year}",
        cmt_reference_year=method.cmt_reference_year,
    )


def robustness_asset(compute, description: str, metadata, preview_columns: list[str]) -> dg.AssetsDefinition:
    """A section 9 table: ``compute`` (the pure function of the same name) on every stored year of the raw SBAC,
    CMT and growth exports, with the ``method`` resource's settings as the default; ``metadata(frame, default)``
    gives the asset's own metadata."""
    name = compute.__name__

    def asset(
        context: dg.AssetExecutionContext,
        raw_sbac_district: dict[str, pd.DataFrame],
        raw_cmt_district: dict[str, pd.DataFrame],
        raw_sbac_growth: dict[str, pd.DataFrame],
        alliance_cohort: pd.DataFrame,
        method: MethodSettings,
    ):
        inputs = robustness.Inputs(raw_sbac_district, raw_cmt_district, raw_sbac_growth, alliance_cohort,
                                   method.cmt_reference_year, method.t_base_year)
        default = robustness.Settings(
            tuple(sorted(method.grades)), method.suppression_scope, method.moments_population, method.top_n
        )
        study = robustness.study_analysis(
            method.change_start_year, method.change_end_year, method.growth_year, method.t_end_year
        )
        frame = compute(inputs, default, study)
        if frame.empty:
            frame = unavailable(frame, "no indicator could be ranked for any year (no SBAC pair and no growth report)")
        yield from finish(context, frame, {**_robustness_settings(method), **metadata(frame, default)},
                          preview_columns)

    asset.__name__ = name
    return table_asset(ROBUSTNESS, description, CODE_VERSION)(asset)


def _label_counts(frame: pd.DataFrame) -> dg.MetadataValue:
    identified = frame[frame["identified_default"]]
    return dg.MetadataValue.md(
        "\n".join(f"- **{label}**: {count}" for label, count in identified["label"].value_counts().items()) or "none"
    )


identification_robustness = robustness_asset(
    robustness.identification_robustness,
    "Section 9: how often each cohort district is identified across the variants of grade scope, suppression "
    "scope, moments population, top N and leave-one-grade-out (robust >= 0.8, fragile < 0.5), for the study's "
    "year pair and every end year.",
    lambda frame, default: {
        "variants": len(robustness.variants(default)),
        "variant_names": dg.MetadataValue.md("\n".join(f"- {v.name}" for v in robustness.variants(default))),
        "analyses": ", ".join(frame["analysis"].drop_duplicates()) or "none",
        "identified_by_label": _label_counts(frame),
    },
    ["analysis", "district_code", "district_name", "identified_default", "selection_frequency", "label"],
)


identification_margins = robustness_asset(
    robustness.identification_margins,
    "Section 9: each cohort district's distance to the cut-off of every indicator in the default setting, in the "
    "indicator's units and in cohort standard deviations, for the study's year pair and every end year.",
    lambda frame, default: {
        "indicators": ", ".join(frame["indicator"].drop_duplicates()) or "none",
        "study_selected_margins": preview(
            frame[frame["is_study"] & frame["selected"].astype(bool)], rows=30,
            columns=["indicator", "rank_cohort", "district_name", "value", "margin", "margin_sd"],
        ),
    },
    ["analysis", "indicator", "rank_cohort", "district_name", "value", "margin", "margin_sd"],
)


# --- section 10: equity --------------------------------------------------------------------------------

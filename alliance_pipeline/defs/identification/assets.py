"""Identification assets (methodology section 6). Each calls the pure function of the same name.

    alliance_identification -> methods.alliance_identification.alliance_identification (imported as section_6)
    opportunity_districts   -> methods.alliance_identification.opportunity_districts
"""

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import finish, reason_unavailable, table_asset, unavailable, validated
from alliance_pipeline.defs.common.groups import IDENTIFICATION
from alliance_pipeline.defs.common.metadata import preview, settings
from alliance_pipeline.defs.common.resources import IdentificationSettings
from alliance_pipeline.methods import alliance_identification as section_6

CODE_VERSION = "identification-2"


def _require(frames: dict[str, pd.DataFrame], year: str, what: str) -> pd.DataFrame:
    if year not in frames:
        raise dg.Failure(description=_missing(frames, year, what) + "; load it or change the identification settings")
    return frames[year]


def _missing(frames: dict[str, pd.DataFrame], year: str, what: str) -> str:
    return f"no {what} export for {year} (have: {', '.join(frames) or 'none'})"


def _lacking(settings: IdentificationSettings, setting: str, needs: dict[str, dict[str, pd.DataFrame]]) -> str | None:
    """Why the identification cannot be computed when ``setting`` is left at its default and the exports lack its
    year (the tables are then unavailable, and the report says why); None when they hold it. A year someone set
    and the exports lack fails the run, naming it (``_require``)."""
    year = getattr(settings, setting)
    if setting in settings.model_fields_set:
        return None
    missing = [_missing(frames, year, what) for what, frames in needs.items() if year not in frames]
    return "; ".join(missing) + f" (identification_settings.{setting} = {year})" if missing else None


@table_asset(IDENTIFICATION, "CSDE steps 1-4 for a new Alliance District designation, with every district's decision and reason.", CODE_VERSION)
def alliance_identification(
    context: dg.AssetExecutionContext,
    raw_enrollment: dict[str, pd.DataFrame],
    raw_accountability: dict[str, pd.DataFrame],
    alliance_cohort: pd.DataFrame,
    identification_settings: IdentificationSettings,
):
    s = identification_settings
    lacking = _lacking(s, "index_year", {"enrollment": raw_enrollment, "accountability": raw_accountability})
    if lacking:
        yield from finish(context, unavailable(section_6.empty_audit(), lacking),
                          {"designated": 0})
        return
    frame = section_6.alliance_identification(
        _require(raw_enrollment, s.index_year, "enrollment"),
        _require(raw_accountability, s.index_year, "accountability"),
        alliance_cohort,
        designation_year=s.designation_year,
        index_year=s.index_year,
        enrollment_threshold=s.enrollment_threshold,
        lowest_n=s.lowest_n,
        prior_first_year=s.prior_first_year,
        prior_last_year=s.prior_last_year,
    )
    yield from validated(context.asset_key, frame)
    designated = frame[frame["designated"]]
    yield dg.Output(
        frame,
        metadata={
            **settings(designation_year=s.designation_year, index_year=s.index_year,
                       enrollment_threshold=s.enrollment_threshold, lowest_n=s.lowest_n,
                       prior_years=f"{s.prior_first_year} to {s.prior_last_year}"),
            "districts_considered": len(frame),
            "designated": len(designated),
            "selected_by_steps_1_3": int(frame["step3_selected"].sum()),
            "added_by_step_4": int(frame["step4_added"].sum()),
            "enrollment_suppressed": dg.MetadataValue.md(
                preview(frame[frame["enrollment_suppressed"]], columns=["district_code", "district_name", "step2_reason"]).value
            ),
            "designated_list": preview(designated.sort_values("index_rank"), rows=60,
                                       columns=["district_code", "district_name", "accountability_index", "index_rank", "admitted_by"]),
        },
    )


@table_asset(IDENTIFICATION, "The designated Alliance Districts with the lowest Accountability Index (Opportunity Districts), "
             "ranked on the index of identification_settings.opportunity_index_year.", CODE_VERSION)
def opportunity_districts(
    context: dg.AssetExecutionContext,
    alliance_identification: pd.DataFrame,
    raw_accountability: dict[str, pd.DataFrame],
    identification_settings: IdentificationSettings,
):
    s = identification_settings
    year = s.opportunity_index_year
    reason = reason_unavailable(alliance_identification) or _lacking(s, "opportunity_index_year",
                                                                     {"accountability": raw_accountability})
    if reason:
        empty = section_6.opportunity_districts(section_6.empty_audit())
        yield from finish(context, unavailable(empty, reason), {"districts": 0})
        return
    index = None
    if year != s.index_year:  # another year's index ranks the designated districts
        index = section_6.accountability_index(_require(raw_accountability, year, "accountability"))
    frame = section_6.opportunity_districts(alliance_identification, s.opportunity_count, index, year)
    yield from validated(context.asset_key, frame)
    yield dg.Output(
        frame,
        metadata={**settings(opportunity_count=s.opportunity_count, opportunity_index_year=year,
                             designation_index_year=s.index_year),
                  "districts": len(frame), "preview": preview(frame, rows=20)},
    )

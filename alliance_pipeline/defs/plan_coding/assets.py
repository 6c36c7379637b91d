"""Coding district plans (methodology section 12). Each asset calls the pure function of the same name.

    group plan_coding
    plan_codebook              -> plans.codebook.plan_codebook (data/reference/plan-codebook__appendix-a.csv)
    raw_plan_codes             -> plans.sheets.read_plan_year (one partition per plan year: its coding sheets)
    plan_codes                 -> plans.indicators.plan_codes
    intercoder_reliability     -> plans.reliability.intercoder_reliability
    plan_indicators            -> plans.indicators.plan_indicators
    plan_indicators_compared   -> plans.indicators.plan_indicators_compared (beside identified_districts)
"""


import dagster as dg
import pandas as pd

from alliance_pipeline.archive import LOADED, REJECTED, archive_export
from alliance_pipeline.defs.common.checks import (
    finish,
    reason_unavailable,
    rejected,
    table_asset,
    unavailable,
    validated,
)
from alliance_pipeline.defs.common.groups import PLAN_CODING
from alliance_pipeline.defs.common.metadata import preview
from alliance_pipeline.defs.common.partitions import PLAN_YEARS
from alliance_pipeline.defs.common.resources import PlanSheets, is_sample_plans
from alliance_pipeline.edsight.reader import sha256_of
from alliance_pipeline.paths import PLAN_CODEBOOK
from alliance_pipeline.plans import codebook as codebook_module
from alliance_pipeline.plans import indicators, reliability, sheets
from alliance_pipeline.reference import load_cohort
from alliance_pipeline.school_year import sort_years

PLAN_SHEETS = "plan_sheets"  # the family name of coded sheets in the plans archive (Storage.plans_archive)
CODE_VERSION = "plans-1"
RAW = dg.AssetKey("raw_plan_codes")


@table_asset(
    PLAN_CODING,
    "The study's Appendix A codebook as data: every topic, code, definition and example, with the corrections made "
    "where the PDF's extracted text was garbled (data/reference/plan-codebook__appendix-a.csv).",
    CODE_VERSION,
)
def plan_codebook(context: dg.AssetExecutionContext):
    frame = codebook_module.plan_codebook(PLAN_CODEBOOK)
    sha = sha256_of(PLAN_CODEBOOK)
    frame.attrs["source"] = {"file": PLAN_CODEBOOK.name, "sha256": sha, "school_year": "2012-13 to 2015-16",
                             "title": "Appendix A codebook of the 2017 UConn/CCER study (project reference table)",
                             "rows": len(frame)}
    yield from validated(context.asset_key, frame, str(PLAN_CODEBOOK))
    corrected = frame[frame["correction"] != ""]
    yield dg.Output(frame, data_version=dg.DataVersion(sha[:16]), metadata={
        "source_file": dg.MetadataValue.path(str(PLAN_CODEBOOK)), "source_sha256": sha,
        "codebook_version": str(frame["codebook_version"].iloc[0]),
        "topics": int(frame["topic"].nunique()), "codes": len(frame), "corrections": len(corrected),
        "preview": preview(frame, rows=60, columns=["topic", "code", "code_label", "definition"]),
    })


@table_asset(
    PLAN_CODING,
    "Coded plan sheets of one plan year (the plans folder: one file per district, plan year and coder), checked "
    "against the codebook and the Alliance District roster; a bad sheet refuses the year with file, row and column.",
    CODE_VERSION, partitions_def=PLAN_YEARS,
    automation_condition=None,  # follows the sheets: coded_plan_sheets_sensor and the refresh request it
    backfill_policy=dg.BackfillPolicy.multi_run(1),  # one plan year per run: a year's sheets are refused together
)
def raw_plan_codes(context: dg.AssetExecutionContext, plans: PlanSheets):
    year = context.partition_key
    folder = plans.folder()
    archive = plans.edsight.storage.plans_archive()
    found, strays = sheets.find_sheets(folder)
    files = found.get(year, [])
    for name, why in strays.items():
        context.log.warning(f"{folder / name}: {why}")
    try:
        if folder is None:
            raise sheets.CodingSheetError("", f"no coded plan sheets were given (set ALLIANCE_PLANS_DIR or --plans), "
                                          f"so plan year {year} has none to read")
        if not files:
            raise sheets.CodingSheetError(folder, f"no coding sheet for plan year {year} (expected "
                                          f"{sheets.PREFIX}__<district>__{year}__<coder>.csv or .xlsx)")
        frame = sheets.read_plan_year(files, codebook_module.load_codebook(), load_cohort())
    except sheets.CodingSheetError as exc:
        bad = [path for path in files if path.name in f"{exc.path} {exc}"]
        for path in bad:  # kept, marked rejected with why, like a refused export
            archive_export(path, PLAN_SHEETS, year, archive, status=REJECTED, reason=str(exc))
        yield rejected(RAW, str(exc), exc.path, exc.row, exc.column, what="a coding sheet")
        raise dg.Failure(description=f"raw_plan_codes [{year}]: {exc}", allow_retries=False) from exc
    fingerprint = sheets.sheets_fingerprint(files)
    frame.attrs["source"] = {"file": f"{len(files)} coding sheets in {folder.name}/", "sha256": fingerprint,
                             "school_year": year, "title": f"Coded plans, plan year {year}", "rows": len(frame)}
    yield from validated(RAW, frame, str(folder))
    archived = [archive_export(path, PLAN_SHEETS, year, archive, status=LOADED) for path in files]
    context.log.info(f"read {len(frame)} interventions from {len(files)} coding sheets in {folder}; "
                     f"{sum(v.new for v in archived)} newly archived by SHA-256 under {archive}")
    yield dg.Output(frame, data_version=dg.DataVersion(fingerprint[:16]), metadata={
        "plans_folder": dg.MetadataValue.path(str(folder)),
        "sheets_fingerprint": fingerprint,  # coded_plan_sheets_sensor compares it with the folder's
        "sheets": len(files), "districts": int(frame["district_code"].nunique()),
        "coders": dg.MetadataValue.md(", ".join(sorted(frame["coder"].unique()))),
        "interventions": len(frame), "sample": is_sample_plans(folder),
        "archived_sheets": dg.MetadataValue.md("\n".join(
            f"- `{v.original_name}`: `{v.path}`" for v in archived)),
        "preview": preview(frame, columns=["district_code", "coder", "intervention_id", "substance", "support_provider"]),
    })


def _sheets(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every plan year's coded sheets in one table (plan years in order)."""
    frames = [raw[year] for year in sort_years(raw)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


NO_SHEETS = ("no coded plan sheets were given or loaded (no plans folder was set, it has none, or no plan year was "
             "materialized)")


@table_asset(
    PLAN_CODING, "Every code given in the coded plans: one row per plan year, district, coder, intervention and code, "
    "with the sheet and row it comes from.", CODE_VERSION, ins={"raw_plan_codes": dg.AssetIn()},
)
def plan_codes(context: dg.AssetExecutionContext, raw_plan_codes: dict[str, pd.DataFrame]):
    codes = indicators.plan_codes(_sheets(raw_plan_codes), codebook_module.load_codebook())
    if codes.empty:
        codes = unavailable(codes, NO_SHEETS)
    yield from finish(context, codes, {
        "codes_given": len(codes), "plan_years": dg.MetadataValue.md(", ".join(sort_years(raw_plan_codes)) or "none"),
    }, ["plan_year", "district_code", "coder", "intervention_id", "topic", "code"])


@table_asset(
    PLAN_CODING, "Intercoder reliability per code over the plans coded twice (interventions matched on intervention_id): "
    f"Cohen's kappa and Krippendorff's alpha (nominal); codes under {reliability.THRESHOLD} flagged.",
    CODE_VERSION, ins={"raw_plan_codes": dg.AssetIn()},
)
def intercoder_reliability(context: dg.AssetExecutionContext, raw_plan_codes: dict[str, pd.DataFrame]):
    coded = _sheets(raw_plan_codes)
    frame = reliability.intercoder_reliability(coded, codebook_module.load_codebook()) if len(coded) else \
        pd.DataFrame(columns=reliability.COLUMNS)
    if frame.empty:
        frame = unavailable(frame, NO_SHEETS if coded.empty else "no plan was coded by two coders")
    flagged = frame[frame["below_threshold"].astype(bool)] if len(frame) else frame
    yield from finish(context, frame, {
        "double_coded_plans": int(frame["plans"].max()) if len(frame) else 0,
        "codes_below_threshold": dg.MetadataValue.md(", ".join(flagged["code"]) or "none"),
    }, ["topic", "code", "units", "agreement", "cohen_kappa", "krippendorff_alpha", "below_threshold"])


@table_asset(
    PLAN_CODING, "Per district and plan year, the study's framework measured from the codes: coherence (distinct "
    "interventions, continuation share), equity focus, capacity building, logic modeling, the substance mix and the "
    "alignment with CSDE's defined choices (the mean over a plan's codings).",
    CODE_VERSION, ins={"raw_plan_codes": dg.AssetIn()},
)
def plan_indicators(context: dg.AssetExecutionContext, raw_plan_codes: dict[str, pd.DataFrame]):
    frame = indicators.plan_indicators(_sheets(raw_plan_codes), codebook_module.load_codebook())
    if frame.empty:
        frame = unavailable(frame, NO_SHEETS)
    yield from finish(context, frame, {
        "plans": len(frame), "districts": int(frame["district_code"].nunique()) if len(frame) else 0,
    }, ["district_code", "plan_year", "interventions", "continuation_share", "capacity_share", "logic_share"])


@table_asset(
    PLAN_CODING, "Each plan indicator's mean for the identified districts (section 5) beside the other cohort districts, "
    "per plan year and over all plan years: descriptive, not causal.", CODE_VERSION,
    ins={"plan_indicators": dg.AssetIn(), "identified_districts": dg.AssetIn(), "alliance_cohort": dg.AssetIn()},
)
def plan_indicators_compared(context: dg.AssetExecutionContext, plan_indicators: pd.DataFrame,
                             identified_districts: pd.DataFrame, alliance_cohort: pd.DataFrame):
    reason = reason_unavailable(plan_indicators) or (
        f"no identified districts: {reason_unavailable(identified_districts)}" if reason_unavailable(identified_districts) else None)
    identified = set(identified_districts["district_code"]) if reason is None else set()
    frame = indicators.plan_indicators_compared(plan_indicators, identified, set(alliance_cohort["district_code"])) \
        if reason is None else pd.DataFrame(columns=["indicator", "component", "plan_year", "identified_districts",
                                                       "other_districts", "identified_mean", "other_mean", "difference"])
    if reason:
        frame = unavailable(frame, reason)
    yield from finish(context, frame, {
        "identified": dg.MetadataValue.md(", ".join(sorted(identified)) or "none"),
    }, ["indicator", "plan_year", "identified_mean", "other_mean", "difference"])

"""Where the report's numbers come from: the exports and reference tables (file, rows, SHA-256), the settings the
method ran with, each table's exports in words, and the notice that opens a report built from generated data."""

from __future__ import annotations

import pandas as pd

from alliance_pipeline.edsight.families import FAMILIES
from alliance_pipeline.reporting.model import Column, ReportTable
from alliance_pipeline.sample_identity import is_generated_sha256


def sources_table(sources: list[dict]) -> ReportTable:
    rows = pd.DataFrame(sources, columns=["asset", "school_year", "file", "sha256", "rows", "title"])
    rows = rows.sort_values(["asset", "school_year"]).reset_index(drop=True)
    return ReportTable(
        "data_sources", "Data sources",
        "The exports (and the cohort reference table) behind every number above, as recorded when each was loaded: "
        "the file, its rows, and its SHA-256 fingerprint (which changes if a single byte of the file does).",
        "raw_* assets, alliance_cohort",
        [Column("asset", "Asset", "code"), Column("school_year", "School year"), Column("file", "File", "code"),
         Column("rows", "Rows", "int"), Column("sha256", "SHA-256", "code"), Column("title", "Report title")],
        rows,
    )


def settings_table(settings: list[tuple[str, str, str]]) -> ReportTable:
    rows = pd.DataFrame(settings, columns=["resource", "setting", "value"])
    return ReportTable(
        "settings", "Method settings",
        "The settings the method ran with (for engineers: the method and identification_settings resources).",
        "method and identification_settings resources",
        [Column("resource", "Resource", "code"), Column("setting", "Setting", "code"), Column("value", "Value")],
        rows,
    )


def exports_line(source: str, lineage: dict[str, list[str]], sources: list[dict]) -> str:
    """The files a table's rows come from, in words: each EdSight export family upstream of the stored tables named
    in ``source`` (``lineage``: asset -> the raw assets and reference tables it is computed from), with its years
    and files; the Data sources table lists each file with its SHA-256."""
    described = {family.asset_name: family.description for family in FAMILIES.values()}
    names = [name.strip() for name in source.replace(" and ", ", ").split(",") if name.strip()]
    upstream = sorted({raw for name in names for raw in lineage.get(name, [])} | {n for n in names if n in described},
                      key=lambda raw: (raw not in described, raw))  # EdSight's exports first, then reference tables
    parts = []
    for raw in upstream:
        files = sorted((str(s.get("school_year") or ""), str(s.get("file") or "")) for s in sources if s.get("asset") == raw)
        if raw in described and files:
            years = files[0][0] if len(files) == 1 else f"{files[0][0]} to {files[-1][0]}"
            shown = ", ".join(name for _, name in files[:2]) + (f" and {len(files) - 2} more" if len(files) > 2 else "")
            parts.append(f"EdSight's {described[raw]}, {years} ({shown})")
        elif files:  # a reference table kept in data/reference/
            parts.append(f"the project's reference table {files[0][1]}")
    return "; ".join(parts)


def generated_notice(sources: list[dict], plans_sample: bool) -> str | None:
    """What the report must say first when its data are the bundled sample's generated files (told by SHA-256:
    ``sample_identity``), or None when every export read is real."""
    exports = [source for source in sources if str(source.get("asset", "")).startswith("raw_")]
    generated = [source for source in exports if is_generated_sha256(str(source.get("sha256") or ""))]
    if not generated:
        return None
    which = ("every export this report was built from is" if len(generated) == len(exports)
             else f"{len(generated)} of the {len(exports)} exports this report was built from are")
    plans = " Its coded plans are the bundled sample's, also generated." if plans_sample else ""
    return (f"Generated data, not real results: {which} from the project's bundled sample, which pairs real "
            "Connecticut district names with numbers drawn from a seeded model, so no finding here is about a real "
            f"district.{plans} Set ALLIANCE_EDSIGHT_DIR to a folder of real EdSight exports for real results.")

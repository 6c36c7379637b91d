"""The report asset (methodology section 7). Calls the pure function of the same name.

    appendix_b_report -> reporting.appendix_b.appendix_b_report (tables), reporting.render (files)

It reads only its inputs (stored Parquet tables, through the IO manager; the sources it cites
from ``raw_export_versions``) and writes HTML, Markdown and CSV files to the
reports directory; the headline tables are attached as metadata for the UI.
"""

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import dagster as dg
import pandas as pd

from alliance_pipeline.defs.common.checks import POOL
from alliance_pipeline.defs.common.groups import REPORTS
from alliance_pipeline.defs.common.resources import (
    CodeLocationGraph,
    IdentificationSettings,
    MethodSettings,
    PlanSheets,
    Storage,
)
from alliance_pipeline.defs.operations.consistency import BUILT_FROM, yearly_state
from alliance_pipeline.edsight.families import FAMILIES

if TYPE_CHECKING:
    from alliance_pipeline.reporting.appendix_b import ReportTable

# reporting/ (matplotlib, Jinja2) is imported when the report is built, not when the code location loads.

CODE_VERSION = "report-4"
CHART_CACHE = "chart-cache"  # under the reports directory: the charts of the last report, by their inputs' hash


# The tables the report shows (reporting.appendix_b.appendix_b_report reads them by name), its inputs with the cohort
# and the sources it cites.
REPORT_TABLES = (
    "sbac_score_changes", "sbac_yearly_changes", "growth_rankings", "t_score_changes", "identified_districts",
    "alliance_identification", "opportunity_districts", "study_identified_districts", "identified_by_year",
    "sbac_score_trends", "identification_robustness", "identification_margins", "subgroup_gaps",
    "subgroup_gap_summary", "subgroup_gap_changes", "did_it_last", "alliance_designations", "cohort_by_year",
    "watch_list", "doing_now", "data_coverage", "statewide_moments", "plan_codebook", "plan_codes",
    "plan_indicators", "plan_indicators_compared", "intercoder_reliability",
)
REFERENCES = ("alliance_cohort", "study_identified_districts", "plan_codebook")  # reference tables it cites
INPUTS = {name: dg.AssetIn() for name in (*REPORT_TABLES, "alliance_cohort", "raw_export_versions")}


def export_sources(versions: pd.DataFrame, references: dict[str, pd.DataFrame]) -> list[dict]:
    """Provenance of every export the warehouse holds (``raw_export_versions``' latest rows: file, SHA-256, year,
    title, rows), and of the reference tables."""
    latest = versions[versions["is_latest"]]
    sources = [
        {"asset": FAMILIES[row.family].asset_name, "school_year": row.school_year, "file": row.original_name,
         "sha256": row.sha256, "title": "" if pd.isna(row.title) else row.title,
         "rows": None if pd.isna(row.rows) else int(row.rows)}
        for row in latest.itertuples(index=False)
    ]
    for name, reference in references.items():
        if reference.attrs.get("source"):
            sources.append({"asset": name, **reference.attrs["source"]})
    return sources


def lineage(graph) -> dict[str, list[str]]:
    """asset -> the root assets it is computed from (the raw exports and reference tables), for the report's
    "Source:" lines, which name EdSight's files rather than stored tables."""
    roots: dict[dg.AssetKey, set[str]] = {}

    def of(key: dg.AssetKey) -> set[str]:
        if key not in roots:
            parents = graph.get(key).parent_keys
            roots[key] = {key.to_user_string()} if not parents else set().union(*(of(parent) for parent in parents))
        return roots[key]

    return {key.to_user_string(): sorted(of(key)) for key in graph.materializable_asset_keys}


def settings_rows(method: MethodSettings, identification: IdentificationSettings) -> list[tuple[str, str, str]]:
    rows = [("method", name, str(value)) for name, value in method.model_dump().items()]
    rows += [("identification_settings", name, str(value)) for name, value in identification.model_dump().items()]
    return rows


def _headline(table: "ReportTable", rows: int = 10) -> dg.MetadataValue:
    from alliance_pipeline.reporting.render import markdown_table

    if table.unavailable:
        return dg.MetadataValue.md(f"_not computed: {table.unavailable_plain or table.unavailable}_ (`{table.unavailable}`)")
    return dg.MetadataValue.md(markdown_table(table, rows))


@dg.asset(
    group_name=REPORTS,
    code_version=CODE_VERSION,
    kinds={"html", "csv"},
    pool=POOL,
    ins=INPUTS,
    description="Section 7: the report for policy analysts: a plain-language summary with the study's findings beside "
    "this run's, caveats and citations, the study's Appendix B tables, every later year, robustness, equity, the "
    "identification audit, settings and sources, as HTML (with charts), Markdown and CSV under the reports directory.",
)
def appendix_b_report(
    context: dg.AssetExecutionContext,
    plans: PlanSheets,
    method: MethodSettings,
    identification_settings: IdentificationSettings,
    storage: Storage,
    asset_graph: dg.ResourceParam[CodeLocationGraph],
    **inputs: pd.DataFrame,
) -> dg.MaterializeResult:
    from alliance_pipeline.reporting.appendix_b import appendix_b_report as build_report
    from alliance_pipeline.reporting.charts import reusing
    from alliance_pipeline.reporting.render import write_report

    graph = asset_graph.get()
    state = yearly_state(context.instance, graph)
    waiting = state.unsettled()
    if waiting:
        raise dg.Failure(
            description=f"appendix_b_report was not rendered, so it is not built from a mix of export versions: {waiting}. "
            "The last complete report stays in place; cross_year_tables_sensor rebuilds it once every school year is settled.",
            allow_retries=False)
    tables = {name: inputs[name] for name in REPORT_TABLES}
    alliance_cohort = inputs["alliance_cohort"]
    with reusing(storage.reports() / CHART_CACHE):  # a chart whose inputs are unchanged is not drawn again
        report = build_report(
            tables,
            alliance_cohort,
            export_sources(inputs["raw_export_versions"], {name: inputs[name] for name in REFERENCES}),
            settings_rows(method, identification_settings),
            method.top_n,
            generated_at=datetime.now(timezone.utc),
            run_id=context.run.run_id,
            plans_sample=plans.is_sample(),
            lineage=lineage(graph),
        )
    files = write_report(report, storage.reports())
    context.log.info(f"report written to {files.html} (latest: {files.latest})")
    unavailable = {t.title: t.unavailable for t in report.appendix_b if t.unavailable}
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(files.html)),
            "report_url": dg.MetadataValue.url(files.html.as_uri()),
            "latest": dg.MetadataValue.path(str(files.latest / files.html.name)),
            "markdown": dg.MetadataValue.path(str(files.markdown)),
            "summary": dg.MetadataValue.md("\n\n".join(report.section("summary").paragraphs)),
            "tables_available": len(report.appendix_b) - len(unavailable),
            "tables_unavailable": dg.MetadataValue.md(
                "\n".join(f"- **{title}**: {why}" for title, why in unavailable.items()) or "none"
            ),
            **{f"table/{t.key}": _headline(t) for t in report.appendix_b},
            "identified_districts": _headline(report.identified, rows=30),
            "opportunity_districts": _headline(report.opportunity),
            "designated": int(inputs["alliance_identification"]["designated"].sum()),
            "sources": len(next(t for t in report.tables() if t.key == "data_sources").rows),
            # The yearly partitions (asset[year] -> data version) this report and its tables were built from.
            BUILT_FROM: dg.MetadataValue.json(state.versions),
            "built_from_fingerprint": state.fingerprint()[:16],
        }
    )

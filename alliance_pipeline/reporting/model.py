"""What a report is made of: tables (with the rows shown and where they come from), sections and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from alliance_pipeline.reporting.charts import Figure

EXCLUDED = "excluded"
RANKED = "ranked"


@dataclass(frozen=True)
class Column:
    name: str  # column of the display table
    label: str
    kind: str = "text"  # text | code | rank | int | float1 | float2 | percent | list


@dataclass
class ReportTable:
    key: str  # file stem and HTML id, e.g. "sbac_change_math"
    title: str
    description: str
    source: str  # the Parquet asset(s) the rows come from
    columns: list[Column]
    rows: pd.DataFrame  # the display rows; may carry "status", "reason" and "flag"
    unavailable: str | None = None  # the pipeline's own reason (shown as technical detail)
    unavailable_plain: str | None = None  # the same in an analyst's words
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the rows the page shows when they are a summary of ``rows`` (the CSV and the workbook keep every row)
    page_rows: pd.DataFrame | None = None
    exports: str = ""  # the EdSight files the rows come from, in words (``appendix_b.exports_line``)

    def shown(self, page: bool) -> pd.DataFrame:
        return self.page_rows if page and self.page_rows is not None else self.rows

    def records(self) -> list[dict]:
        """The rows the page shows."""
        return self.shown(True).to_dict(orient="records")

    def csv_frame(self, page: bool = False) -> pd.DataFrame:
        """The table as written to CSV (every row; ``page``: the rows the page shows); a table that could not be
        computed says so in its one row, so its file never reads as a table with no districts."""
        if self.unavailable:
            return pd.DataFrame({"not_computed": [self.unavailable_plain or self.unavailable],
                                 "pipeline_reason": [self.unavailable]})
        rows = self.shown(page)
        names = [c.name for c in self.columns] + [c for c in ("status", "reason") if c in rows.columns]
        frame = rows[[n for n in dict.fromkeys(names) if n in rows.columns]].copy()
        for column in frame.columns:
            if frame[column].dtype == object:
                frame[column] = frame[column].map(lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
        return frame


@dataclass
class Section:
    """One part of the page: a heading, plain-language paragraphs and bullets, figures and tables."""

    key: str
    title: str
    nav: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    multiples: list[Figure] = field(default_factory=list)  # small multiples, laid out in a grid
    tables: list[ReportTable] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, url): citations


@dataclass
class Report:
    title: str
    subtitle: str
    generated_at: datetime
    run_id: str
    sections: list[Section]
    appendix_b: list[ReportTable]  # handles for the asset's metadata; the same objects as in sections
    identified: ReportTable
    opportunity: ReportTable
    notice: str | None = None  # shown in the title area: e.g. that the data are the bundled sample's, generated

    def tables(self) -> list[ReportTable]:
        return [table for section in self.sections for table in section.tables]

    def section(self, key: str) -> Section:
        return next(section for section in self.sections if section.key == key)


def column_name(*parts: str) -> str:
    return "_".join(parts).lower().replace("-", "_").replace(" ", "_")


def unavailable_table(key: str, title: str, source: str, why: str, plain: str) -> ReportTable:
    return ReportTable(key, title, "", source, [], pd.DataFrame(), unavailable=why, unavailable_plain=plain)


def said_missing(section: Section, frame: pd.DataFrame, key: str, title: str, plain: str) -> bool:
    """When the stored table ``key`` has no rows, add a table saying so (in plain words and the pipeline's own)."""
    if not frame.empty:
        return False
    section.tables.append(unavailable_table(key, title, key, frame.attrs.get("unavailable", "no rows"), plain))
    return True


def first_value(frame: pd.DataFrame, column: str, default: str) -> str:
    """The column's first value that is not blank, as text (``default`` when there is none)."""
    values = frame[column].dropna() if column in frame.columns else []
    return str(values.iloc[0]) if len(values) else default

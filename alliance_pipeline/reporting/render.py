"""Render a Report as one self-contained HTML page, Markdown and CSV files, written atomically.

Layout under the reports directory::

    <reports>/<UTC time>_<run id>/appendix-b.html   the page (styles and charts inline)
                                  appendix-b.md     the same tables as Markdown
                                  appendix-b.xlsx   every table, one sheet each (for spreadsheets)
                                  tables/<key>.csv  one CSV per table
    <reports>/latest -> <UTC time>_<run id>         always the newest complete report

The folder is written under a temporary name and renamed when complete, then
``latest`` is switched by renaming a new symlink over it, so a reader never
sees a half-written report and a failed run leaves the previous one in place.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markupsafe
import pandas as pd

from alliance_pipeline.atomic import StorageError, readable_mode, remove_leftovers, storage_error
from alliance_pipeline.reporting.model import Report
from alliance_pipeline.reporting.workbook import write_workbook

HTML_NAME = "appendix-b.html"
MARKDOWN_NAME = "appendix-b.md"
WORKBOOK_NAME = "appendix-b.xlsx"
LATEST = "latest"

def md_escape(value) -> str:
    """Text for Markdown: ``&``, ``<`` and ``>`` as entities, so a name carrying HTML (``<script>``) is shown as
    text by any Markdown renderer, never run (Markdown passes raw HTML through)."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def inert(value):
    """A cell a spreadsheet shows as text: text starting like a formula gets a leading apostrophe (OWASP's
    guidance); numbers, including negative ones, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            float(value)
            return value  # "-12.5" written as text is still a number, not a formula
        except ValueError:
            return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell made inert (``inert``)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(inert, na_action="ignore")
    return out


_OPTIONS = dict(loader=jinja2.PackageLoader("alliance_pipeline.reporting", "templates"),
                undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_ENV = jinja2.Environment(autoescape=True, **_OPTIONS)
# Markdown: every value written escapes HTML (md_escape); the template's own syntax is untouched.
_MD_ENV = jinja2.Environment(autoescape=False, finalize=md_escape, **_OPTIONS)


def _missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt(value, kind: str = "text") -> str:
    """A cell as shown: numbers rounded for reading (the exact value goes in data-value)."""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if _missing(value):
        return "—"
    if kind in ("rank", "int"):
        return f"{int(value):,}"
    if kind in ("float1", "float2"):  # a value that rounds to zero is shown as 0, never -0
        text = f"{float(value):.{kind[-1]}f}"
        return text[1:] if text.strip("-0.") == "" and text.startswith("-") else text
    if kind == "percent":
        return f"{float(value) * 100:.0f}%"
    return str(value)


def raw(value) -> str:
    """The exact stored value, for data-value attributes (round-trips floats)."""
    if isinstance(value, (list, tuple)) or _missing(value):
        return ""
    if isinstance(value, float) and not math.isnan(value):
        return repr(value)
    return str(value)


def css_string(value) -> markupsafe.Markup:
    """``value`` as a quoted CSS string for a <style> block: quotes, backslashes, and anything that could end the
    block or a rule, written as CSS escapes."""
    text = "".join(ch if ch.isalnum() or ch in " -_:.,()%/'+" else f"\\{ord(ch):x} " for ch in str(value))
    return markupsafe.Markup(f'"{text}"')


for _env in (_ENV, _MD_ENV):
    _env.filters["fmt"] = fmt
    _env.filters["raw"] = raw
    _env.filters["css_string"] = css_string


def markdown_table(table, rows: int | None = None) -> str:
    """A report table as Markdown, the rows and cells as on the page (first ``rows`` rows if given)."""
    frame = table.csv_frame(page=True)
    if rows is not None:
        frame = frame.head(rows)
    if frame.empty:
        return "_no rows_"
    shown = frame.copy()
    kinds = {c.name: c.kind for c in table.columns}
    for column in shown.columns:
        shown[column] = shown[column].map(lambda v, k=kinds.get(column, "text"): fmt(v, k).replace("|", "\\|"))
    labels = {"status": "Status", "reason": "Excluded because"} | {c.name: c.label for c in table.columns}
    return shown.rename(columns=labels).to_markdown(index=False, disable_numparse=True)  # keep codes' zeros


_MD_ENV.filters["markdown_table"] = markdown_table


def render_html(report: Report) -> str:
    return _ENV.get_template("appendix_b.html.j2").render(report=report)


def render_markdown(report: Report) -> str:
    return _MD_ENV.get_template("appendix_b.md.j2").render(report=report)


@dataclass(frozen=True)
class ReportFiles:
    folder: Path
    html: Path
    markdown: Path
    csvs: dict[str, Path]
    latest: Path


def folder_name(report: Report) -> str:
    stamp = report.generated_at.strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}_{report.run_id[:8]}" if report.run_id else stamp


def _has_room(folder: Path, size: int = 1 << 20) -> bool:
    """Whether ``size`` bytes can be written in ``folder`` now (a file written there, then removed)."""
    try:
        with tempfile.TemporaryFile(dir=folder) as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        return True
    except OSError:
        return False


def report_storage_error(exc: OSError, root: Path) -> StorageError:
    """A write of the report refused: the temporary folder (TMPDIR, where the workbook writer stages each sheet)
    when it is the one without room, else the reports folder; the last complete report stays in place."""
    temp = Path(tempfile.gettempdir())
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM) and not _has_room(temp):
        return StorageError(exc.errno, f"the temporary folder {temp} (TMPDIR: the workbook writer stages each sheet "
                            f"there) refused the report's files ({os.strerror(exc.errno)}): free space there, or set "
                            "TMPDIR to a folder with room, and run again; the last complete report stays in place")
    return storage_error(exc, root / WORKBOOK_NAME)


def write_report(report: Report, root: Path) -> ReportFiles:
    """Write the report folder atomically and point ``latest`` at it."""
    root.mkdir(parents=True, exist_ok=True)
    remove_leftovers(root)  # what a killed write left (its process is gone): never read, removed now
    name = folder_name(report)
    final = root / name
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}.{os.getpid()}-", suffix=".tmp"))
    try:
        (staging / HTML_NAME).write_text(render_html(report), encoding="utf-8")
        (staging / MARKDOWN_NAME).write_text(render_markdown(report), encoding="utf-8")
        write_workbook(report, staging / WORKBOOK_NAME)  # the file a spreadsheet user opens
        (staging / "tables").mkdir()
        for table in report.tables():
            inert_frame(table.csv_frame()).to_csv(staging / "tables" / f"{table.key}.csv", index=False)
        if final.exists():
            shutil.rmtree(final)  # re-running the same run id replaces its own report whole
        staging.chmod(readable_mode(0o755))  # mkdtemp makes it private; the report is for readers the umask allows
        os.replace(staging, final)
    except StorageError:
        raise
    except OSError as exc:  # said with the folder to free or fix, as the warehouse's errors are
        raise report_storage_error(exc, root) from exc
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    latest = root / LATEST
    link = root / f".{LATEST}.{os.getpid()}-{name}.tmp"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(name, target_is_directory=True)
    os.replace(link, latest)
    csvs = {table.key: final / "tables" / f"{table.key}.csv" for table in report.tables()}
    return ReportFiles(final, final / HTML_NAME, final / MARKDOWN_NAME, csvs, latest)

"""Writing files the way EdSight does: quoting, ="code" cells, CRLF lines, the family's folder and name."""

from __future__ import annotations

from pathlib import Path

from alliance_pipeline.edsight.families import FAMILIES


class Raw(str):
    """A cell written without quotes (EdSight leaves numbers unquoted)."""


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        raise TypeError("booleans are not EdSight cells")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value).replace('"', '""')
    return f'"{text}"'


def quoted_code(code: str) -> str:
    return f'="{code}"'


def write_rows(path: Path, rows: list[list[object]], newline: str = "\r\n", trailing_blank: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(cell(value) for value in row) if row else "" for row in rows]
    text = newline.join(lines) + newline
    if trailing_blank:
        text += newline
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))
    tmp.replace(path)


def write_target(out: Path, family: str, year: str, rows: list[list[object]], **kwargs) -> Path:
    spec = FAMILIES[family]
    path = Path(out) / spec.folder / spec.filename_for(year)
    write_rows(path, rows, **kwargs)
    return path

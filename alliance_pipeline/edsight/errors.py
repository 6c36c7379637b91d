"""The one error type the reader raises, so callers can show file, row and column."""

from __future__ import annotations


class EdSightFormatError(ValueError):
    """An export that cannot be read as EdSight writes it.

    ``row`` is the 1-based line number in the file as a spreadsheet shows it;
    ``column`` is the header text (or the clean column name) of the offending cell.
    """

    def __init__(self, path: str, message: str, *, row: int | None = None, column: str | None = None):
        self.path = str(path)
        self.row = row
        self.column = column
        self.reason = message
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")

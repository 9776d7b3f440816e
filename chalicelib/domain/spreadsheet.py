"""Text for a spreadsheet cell: what a CSV export writes, for every CSV Steward makes."""

from __future__ import annotations

from typing import Any

# A cell starting with one of these runs as a formula in Excel, LibreOffice or Google Sheets
# (CSV injection); the full-width forms are folded to them by some of those programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def cell(value: Any) -> str:
    """The value as text; a leading formula character is neutralized with a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text

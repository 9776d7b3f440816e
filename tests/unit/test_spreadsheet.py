from __future__ import annotations

import pytest

from chalicelib.domain.spreadsheet import cell


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\uff1d1", "\uff0b1", "\uff0d1", "\uff20x"]
)
def test_a_cell_that_would_run_as_a_formula_is_neutralized(text: str) -> None:
    assert cell(text) == "'" + text


@pytest.mark.parametrize(
    "value, text", [("Ada", "Ada"), ("a=b", "a=b"), (None, ""), (2500, "2500"), (True, "true")]
)
def test_other_cells_are_left_as_they_are(value: object, text: str) -> None:
    assert cell(value) == text

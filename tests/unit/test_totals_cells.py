"""A totals report reads an aggregate cell from its sort key and its six figures alone (a
projection): the cell it reads back is the cell that was written, whatever its value holds."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.adapters.dynamo_base import to_item
from chalicelib.adapters.dynamo_totals import REPORT_ATTRIBUTES, cell_from, cell_from_key, cell_values
from chalicelib.domain.totals import DIMENSIONS, FIGURES, Cell, Figures

CURRENCIES = st.sampled_from(["usd", "eur", "gbp"])
DAYS = st.integers(0, 365 * 900).map(lambda n: (date(2000, 1, 1) + timedelta(days=n)).isoformat())
VALUES = st.one_of(st.none(), st.text(min_size=1, max_size=40), st.just("gala #2#"), st.just("#"))
AMOUNTS = st.integers(-(10**12), 10**12)


@given(
    dimension=st.sampled_from(DIMENSIONS),
    day=DAYS,
    value=VALUES,
    currency=CURRENCIES,
    settlement=st.one_of(st.none(), CURRENCIES),
    figures=st.builds(Figures, *[AMOUNTS] * len(FIGURES)),
)
def test_a_cell_read_from_its_key_is_the_cell_written(
    dimension: str, day: str, value: str | None, currency: str, settlement: str | None, figures: Figures
) -> None:
    cell = Cell(dimension, day, value, currency, settlement)
    item = {k: v for k, v in to_item(cell_values(cell, figures)).items() if v != {"NULL": True}}
    projected = {name: item[name] for name in REPORT_ATTRIBUTES}
    assert cell_from_key(dimension, projected) == (cell, figures) == cell_from(item)

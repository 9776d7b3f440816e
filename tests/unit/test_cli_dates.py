"""The operator commands refuse a start date before 2000 (a mistyped year) at once, as the staff
routes and `steward reindex` do, instead of reading every month since: 17 Queries a month, an
hour of empty reads from year 0202."""

from __future__ import annotations

import pytest

from devstack import cli


@pytest.mark.parametrize(
    "argv",
    [
        ["totals", "--since", "0202-01-01"],
        ["totals", "--since", "1999-12-31"],
        ["reconcile", "--since", "0202-01-01"],
        ["totals", "--since", "yesterday"],
    ],
)
def test_a_start_before_2000_is_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    assert stopped.value.code == 2
    assert "from 2000" in capsys.readouterr().err

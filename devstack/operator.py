"""Operator commands that act on a deployment's data: against AWS when STEWARD_TABLE_NAME and
the other settings are in the environment, else against the local stack `make run` started."""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from devstack.stack import ROOT, Stack, StackConfig


def _environment(config: StackConfig) -> None:
    """Settings for the local stack unless the environment names a deployment; the app's code
    importable (the installed `steward` script has only devstack on its path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if "STEWARD_TABLE_NAME" not in os.environ:
        local = Stack(config).app_env()
        os.environ.update(local)


def statements(config: StackConfig, year: int, email: str | None) -> int:
    _environment(config)
    from chalicelib.bootstrap import get_gift_mail, get_repository
    from chalicelib.services.statements import send_statements

    console = Console()
    columns = (
        TextColumn("Statements {task.fields[year]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("statements", total=None, year=year)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        run = send_statements(
            year, repo=get_repository(), mail=get_gift_mail(), email=email, progress=advance
        )
        progress.update(task, completed=run.donors, total=run.donors)
    table = Table(title=f"Giving statements {year}")
    for name in ("Donors", "Queued", "Already sent", "Failed"):
        table.add_column(name, justify="right")
    table.add_row(str(run.donors), str(run.sent), str(run.already_sent), str(len(run.failed)))
    console.print(table)
    return 1 if run.failed else 0


def reindex(config: StackConfig, first: str, last: str) -> int:
    """Give every gift created in the months [first, last] its finding index keys."""
    _environment(config)
    from chalicelib.adapters.dynamo_find import next_month
    from chalicelib.adapters.dynamo_reindex import Reindexed, reindex_month
    from chalicelib.bootstrap import get_repository

    repo: Any = get_repository()
    run, month = Reindexed(), first
    console = Console()
    with console.status("Reindexing") as status:
        while month <= last:
            status.update(f"Reindexing {month}: {run.gifts} gifts read, {run.updated} updated")
            reindex_month(repo.client, repo.table, month, run)
            month = next_month(month)
    table = Table(title=f"Finding index keys {first} to {last}")
    for name in ("Gifts read", "Updated"):
        table.add_column(name, justify="right")
    table.add_row(str(run.gifts), str(run.updated))
    console.print(table)
    return 0

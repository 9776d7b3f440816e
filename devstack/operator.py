"""Operator commands that act on a deployment's data: against AWS when STEWARD_TABLE_NAME and
the other settings are in the environment, else against the local stack `make run` started."""

from __future__ import annotations

import os
import sys
from datetime import date

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


def totals_backfill(config: StackConfig, since: date) -> int:
    """Bring the finance totals up to date with every gift created since `since`."""
    _environment(config)
    from chalicelib.bootstrap import get_repository, get_totals_store
    from chalicelib.services.clock import utc_now
    from chalicelib.services.totals import backfill

    console = Console()
    columns = (TextColumn("Totals backfill"), BarColumn(), TextColumn("{task.completed} gifts"))
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("backfill", total=None)
        run = backfill(
            since,
            utc_now(),
            repo=get_repository(),
            store=get_totals_store(),
            progress=lambda done: progress.update(task, completed=done),
        )
    table = Table(title=f"Totals backfill since {since.isoformat()}")
    for name in ("Gifts read", "Brought up to date"):
        table.add_column(name, justify="right")
    table.add_row(str(run.gifts), str(run.applied))
    console.print(table)
    return 0

"""Operator commands that act on a deployment's data: against AWS when STEWARD_TABLE_NAME and
the other settings are in the environment, else against the local stack `make run` started."""

from __future__ import annotations

import os
import sys
from datetime import date
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


def _columns(label: str) -> tuple[Any, ...]:
    return (TextColumn(label.replace("[", "\\[")), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())


def statements(config: StackConfig, year: int, email: str | None) -> int:
    _environment(config)
    from chalicelib.bootstrap import get_gift_mail, get_repository
    from chalicelib.services.statements import send_statements

    console = Console()
    with Progress(*_columns(f"Statements {year}"), console=console, transient=False) as progress:
        task = progress.add_task("statements", total=None)

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
    """Give every gift created in the months [first, last] its index keys as written today
    (finding indexes, month-key shards)."""
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


def reconcile(config: StackConfig, since: str) -> int:
    """Apply every Stripe event since the day (as the webhook would; applying one twice changes
    nothing), then match every payout since then against our records."""
    _environment(config)
    from chalicelib.bootstrap import get_gift_mail, get_ledger, get_payments, get_repository
    from chalicelib.services.clock import utc_now
    from chalicelib.services.donations import Money
    from chalicelib.services.reconcile import reconcile_payouts, replay_events

    console = Console()
    money = Money(get_repository(), get_payments(), get_gift_mail())
    with Progress(*_columns("Stripe events"), console=console) as progress:
        task = progress.add_task("events", total=None)
        replay = replay_events(
            f"{since}T00:00:00.000Z", money, get_ledger(), lambda n: progress.update(task, completed=n)
        )
        progress.update(task, total=replay.events, completed=replay.events)
    with Progress(*_columns("Payouts"), console=console) as progress:
        task = progress.add_task("payouts", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = reconcile_payouts(
            f"{since}T00:00:00.000Z", utc_now(), repo=get_repository(), ledger=get_ledger(), progress=advance
        )
    events = Table(title=f"Stripe events since {since}")
    for name in ("Events", "Applied now", "Already applied", "Failed"):
        events.add_column(name, justify="right")
    events.add_row(str(replay.events), str(replay.applied), str(replay.already), str(len(replay.failed)))
    console.print(events)
    payouts = Table(title="Payouts")
    for name in ("Payout", "Created", "Currency", "Gross", "Fees", "Net", "Lines", "Unmatched"):
        payouts.add_column(name, justify="right" if name not in ("Payout", "Created", "Currency") else "left")
    for p in report.payouts:
        payouts.add_row(
            p.payout.id, p.payout.created[:10], p.payout.currency, f"{p.gross / 100:,.2f}",
            f"{p.fees / 100:,.2f}", f"{p.net / 100:,.2f}", str(len(p.lines)), str(len(p.unmatched)),
        )  # fmt: skip
    console.print(payouts)
    for p in report.payouts:
        for m in p.unmatched:
            console.print(
                f"[red]unmatched[/red] {p.payout.id} {m.line.id} {m.line.type} {m.line.source}: {m.problem}"
            )
    console.print(f"Paid gifts of the period in no payout yet: {len(report.not_paid_out)}")
    for failure in replay.failed:
        console.print(f"[red]event not applied[/red] {failure}")
    for kept in replay.still_failed:
        console.print(
            f"[red]event stored failed[/red] {kept.id} {kept.type}: {kept.failure} "
            f"(last {kept.failed_at}, {kept.attempts} attempts)"
        )
    failed = replay.failed or replay.still_failed
    return 1 if failed or any(p.unmatched for p in report.payouts) else 0


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

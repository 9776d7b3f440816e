"""Year-end giving statements: for each donor, every gift and installment of the calendar
year, with refunds netted out. Sent once per donor and year (a rerun skips who has one);
sent again on demand for one address."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import ConflictError, StewardError
from chalicelib.domain.receipts import StatementLine
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import Repository
from chalicelib.services.receipts import GiftMail

PAGE = 200
# How long after its creation a gift may still be paid: Stripe retries an installment for up
# to two months; a gift paid later than this is missing from its year's statement.
LATE_PAYMENT_DAYS = 92
log = logging.getLogger("steward")


@dataclass
class StatementRun:
    year: int
    donors: int = 0
    sent: int = 0
    already_sent: int = 0
    left: int = 0
    failed: list[str] = field(default_factory=list)


def gifts_by_donor(repo: Repository, year: int, email: str | None = None) -> dict[str, list[Donation]]:
    """The gifts paid in the year, grouped by donor address. The index holds gifts by the month
    they were made, and a gift made late in December may be paid in January (a card that asked
    for 3-D Secure, a payment recorded after the sweep), so the read starts a quarter early
    and each gift counts in the year it was paid."""
    start, end = f"{year - 1}-10-01T00:00:00.000Z", f"{year}-12-31T23:59:59.999Z~"
    donors: dict[str, list[Donation]] = {}
    cursor = None
    while True:
        page = repo.list_donations(start, end, PAGE, cursor)
        for gift in page.items:
            paid_in_year = (gift.succeeded_at or gift.created_at).startswith(f"{year}-")
            mine = email is None or gift.email.lower() == email.lower()
            if gift.status == "succeeded" and paid_in_year and mine:
                donors.setdefault(gift.email.lower(), []).append(gift)
        cursor = page.cursor
        if not cursor:
            return donors


def statement_lines(gifts: list[Donation], mail: GiftMail) -> list[StatementLine]:
    """One line per gift, oldest first; a lost dispute counts as refunded in full."""
    lines = []
    for gift in sorted(gifts, key=lambda g: g.succeeded_at or g.created_at):
        refunded = gift.amount if gift.dispute == "lost" else min(gift.refunded, gift.amount)
        lines.append(
            StatementLine(
                paid_at=gift.succeeded_at or gift.created_at,
                amount=gift.amount,
                refunded=refunded,
                currency=gift.currency,
                fund_name=mail.fund_names.get(gift.fund, gift.fund),
                receipt_number=gift.receipt_number or "",
                frequency=gift.frequency,
            )
        )
    return lines


def send_statements(
    year: int,
    *,
    repo: Repository,
    mail: GiftMail,
    email: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
    now: Clock = utc_now,
) -> StatementRun:
    """Queue each donor's statement. The yearly run sends one per donor and year; asked for
    one address, it sends that donor's statement again."""
    donors = gifts_by_donor(repo, year, email)
    run = StatementRun(year, donors=len(donors))
    for done, (address, gifts) in enumerate(sorted(donors.items()), start=1):
        if not keep_going():
            run.left = len(donors) - done + 1
            break
        latest = max(gifts, key=lambda g: g.succeeded_at or g.created_at)
        name = f"{latest.first_name} {latest.last_name}"
        work = repo.unit_of_work()
        if email is None:
            work.claim(f"STATEMENT#{year}#{hashlib.sha256(address.encode()).hexdigest()}")
        try:
            work.send(mail.statement(year, name, latest.email, statement_lines(gifts, mail), now()))
            work.commit()
            run.sent += 1
        except ConflictError:
            run.already_sent += 1
        except StewardError as exc:  # one donor's trouble never stops the others; a rerun retries
            log.warning("statement %s for one donor not queued: %s", year, exc.message)
            run.failed.append(latest.id)
        if progress:
            progress(done, len(donors))
    return run

"""Reconciliation with Stripe: each payout's balance transactions matched to our gift, refund
and dispute records (gross, fee and net), and what is unmatched on either side; and the events
of a period replayed, so any the webhook missed is applied (once)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import StewardError
from chalicelib.services.donations import Money
from chalicelib.services.ports import BalanceLine, FailedEvent, GiftRecord, Ledger, PayoutInfo, Repository

log = logging.getLogger("steward")
KINDS = {"charge": "gift", "payment": "gift", "refund": "refund", "payment_refund": "refund"}
DISPUTE_TYPES = {"adjustment", "dispute", "dispute_reversal"}


@dataclass(frozen=True)
class LineMatch:
    """One balance transaction and what it matched here."""

    line: BalanceLine
    kind: str  # gift | refund | dispute | other
    record_id: str | None  # our gift (or the gift of the refund or dispute)
    expected_amount: int | None  # what our record says the line should be
    expected_fee: int | None
    problem: str | None  # None when it matches

    @property
    def matched(self) -> bool:
        return self.problem is None


@dataclass
class PayoutReport:
    payout: PayoutInfo
    lines: list[LineMatch] = field(default_factory=list)

    @property
    def gross(self) -> int:
        return sum(m.line.amount for m in self.lines)

    @property
    def fees(self) -> int:
        return sum(m.line.fee for m in self.lines)

    @property
    def net(self) -> int:
        return sum(m.line.net for m in self.lines)

    @property
    def unmatched(self) -> list[LineMatch]:
        return [m for m in self.lines if not m.matched]


@dataclass
class Reconciliation:
    payouts: list[PayoutReport]
    not_paid_out: list[Donation]  # our paid gifts of the period in no payout of the period

    @property
    def unmatched(self) -> int:
        return sum(len(p.unmatched) for p in self.payouts) + len(self.not_paid_out)


def _epoch(moment: str) -> int:
    return int(datetime.strptime(moment[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())


def reconcile_payouts(
    start: str,
    end: str,
    *,
    repo: Repository,
    ledger: Ledger,
    progress: Callable[[int, int], None] | None = None,
) -> Reconciliation:
    """Every payout created in [start, end], line by line against our records; then the gifts
    paid in the period whose charge is in none of them (not paid out yet, or missing)."""
    payouts = ledger.payouts(_epoch(start), _epoch(end))
    reports, charges = [], set()
    for done, payout in enumerate(payouts, start=1):
        report = PayoutReport(payout, [match_line(line, repo) for line in ledger.payout_lines(payout.id)])
        charges |= {m.line.source for m in report.lines if m.kind == "gift"}
        reports.append(report)
        if progress:
            progress(done, len(payouts))
    return Reconciliation(reports, _not_paid_out(repo, start, end, charges))


def match_line(line: BalanceLine, repo: Repository) -> LineMatch:
    kind = KINDS.get(line.type, "dispute" if line.type in DISPUTE_TYPES else "other")
    if kind == "other" or line.source is None:
        return LineMatch(line, kind, None, None, None, None if kind == "other" else "no source named")
    target = repo.stripe_target(line.source)
    gift_id = target.donation_id
    record = repo.get_gift(gift_id) if gift_id else None
    if kind == "dispute" and record is None:
        record = _gift_of_dispute(repo, line.source)
    if record is None:
        return LineMatch(line, kind, None, None, None, f"no {kind} of ours has {line.source}")
    if kind == "gift":
        return _charge(line, record)
    if kind == "refund":
        return _refund(line, record, target.refund_id)
    return _dispute(line, record)


def _charge(line: BalanceLine, record: GiftRecord) -> LineMatch:
    gift = record.donation
    problems = []
    if gift.status != "succeeded":
        problems.append(f"our gift is {gift.status}")
    if gift.amount != line.amount or gift.currency != line.currency:
        problems.append(f"gross: ours {gift.amount} {gift.currency}, Stripe's {line.amount} {line.currency}")
    if gift.fee is not None and gift.fee != line.fee:
        problems.append(f"fee: ours {gift.fee}, Stripe's {line.fee}")
    if gift.net is not None and gift.net != line.net:
        problems.append(f"net: ours {gift.net}, Stripe's {line.net}")
    if gift.fee is None:
        problems.append("our gift has no fee yet")
    return LineMatch(line, "gift", gift.id, gift.amount, gift.fee, "; ".join(problems) or None)


def _refund(line: BalanceLine, record: GiftRecord, refund_id: str | None) -> LineMatch:
    refund = next((r for r in record.refunds if r.id == refund_id or r.stripe_refund_id == line.source), None)
    gift_id = record.donation.id
    if refund is None:
        return LineMatch(line, "refund", gift_id, None, None, f"no refund of ours has {line.source}")
    problem = None
    if -line.amount != refund.amount:
        problem = f"amount: ours {refund.amount}, Stripe's {-line.amount}"
    elif refund.status not in ("pending", "succeeded"):
        problem = f"our refund is {refund.status}"
    return LineMatch(line, "refund", gift_id, -refund.amount, None, problem)


def _dispute(line: BalanceLine, record: GiftRecord) -> LineMatch:
    dispute = next((d for d in record.disputes if d.id == line.source), None)
    if dispute is None and len(record.disputes) == 1:
        dispute = record.disputes[0]  # an adjustment names its dispute; one dispute is that one
    gift_id = record.donation.id
    if dispute is None:
        return LineMatch(line, "dispute", gift_id, None, None, "no dispute of ours on this gift")
    return LineMatch(line, "dispute", gift_id, None, None, None)


def _gift_of_dispute(repo: Repository, dispute_id: str) -> GiftRecord | None:
    found = repo.stripe_target(dispute_id).donation_id
    return repo.get_gift(found) if found else None


def _not_paid_out(repo: Repository, start: str, end: str, charges: set[str | None]) -> list[Donation]:
    missing, cursor = [], None
    while True:
        page = repo.list_donations(start, end, 200, cursor)
        missing += [g for g in page.items if g.status == "succeeded" and g.charge_id not in charges]
        cursor = page.cursor
        if not cursor:
            return missing


# How many events stored failed a reconciliation names (the oldest failures first).
FAILED_LISTED = 100


@dataclass
class Replay:
    events: int = 0
    applied: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)
    # Stored failed and still not processed after this run, whatever their age: Stripe stops
    # retrying after 3 days and lists events for 30, so these may be applied by no one else.
    still_failed: list[FailedEvent] = field(default_factory=list)


def replay_events(
    since: str, money: Money, ledger: Ledger, progress: Callable[[int], None] | None = None
) -> Replay:
    """Apply every event Stripe lists since then, as the webhook would: an event already
    applied changes nothing (stored once by its id), one that fails is left for the next run.
    An event stored processed is skipped after one read, without its gift or Stripe."""
    from chalicelib.services.webhooks import apply_event

    run = Replay()
    for event in ledger.events(_epoch(since)):
        run.events += 1
        try:
            processed = money.repo.event_processed_before(event.id)
            answer = {"duplicate": True} if processed else apply_event(event, money)
        except StewardError as exc:
            run.failed.append(f"{event.id}: {exc.message}")
        except Exception as exc:  # e.g. its gift stored in another shape: stored failed, the rest go on
            log.exception("stripe event %s (%s) not applied in the replay", event.id, event.type)
            run.failed.append(f"{event.id}: {type(exc).__name__}")
        else:
            if answer.get("duplicate"):
                run.already += 1
            elif answer.get("applied"):
                run.applied += 1
        if progress:
            progress(run.events)
    run.still_failed = money.repo.failed_events(FAILED_LISTED)
    return run

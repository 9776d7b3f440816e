"""Changing a gift: read it with its refunds and disputes, decide, and commit the change with
its audit entry, its emails, its plan and the webhook's "processed" mark in one transaction.
Optimistic: when another writer got there first, read again and decide again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chalicelib.domain.aftermath import Dispute, Refund, summarize
from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import ConcurrentUpdateError, NotFoundError, UpstreamError
from chalicelib.domain.recurring import RecurringPlan
from chalicelib.services import gift_events
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.ports import AuditEntry, GiftRecord, OutboxMessage, Repository

if TYPE_CHECKING:
    from chalicelib.services.facts import StripeEvent

SAVE_ATTEMPTS = 5
ACTORS = {"api": "donor", "confirm": "donor", "donor_link": "donor", "sweep": "system"}


def actor_of(source: str) -> str:
    """Who a change comes from when no staff member made it: the donor's own requests and
    links, the system's sweep, or Stripe (every other source is a Stripe event type)."""
    return ACTORS.get(source, "stripe")


@dataclass(frozen=True)
class Decision:
    """What a use case writes: the gift as it should be, and what goes with it."""

    donation: Donation
    refunds: tuple[Refund, ...] = ()
    disputes: tuple[Dispute, ...] = ()
    messages: tuple[OutboxMessage, ...] = ()
    plan: RecurringPlan | None = None
    plan_version: int | None = None  # the plan's version as read (None: a new plan)
    installment: str | None = None  # an invoice id: link this gift to its plan as that invoice's
    details: dict[str, str] = field(default_factory=dict)


Decide = Callable[[GiftRecord], Decision | None]


def load_gift(repo: Repository, donation_id: str, with_history: bool = False) -> GiftRecord:
    record = repo.get_gift(donation_id, with_history)
    if record is None:
        raise NotFoundError("no gift with this id", fields=[{"field": "id", "message": "not found"}])
    return record


def change_gift(
    repo: Repository,
    donation_id: str,
    decide: Decide,
    *,
    source: str,
    actor: str | None = None,
    event: StripeEvent | None = None,
    record: GiftRecord | None = None,
    now: Clock = utc_now,
) -> tuple[GiftRecord, bool]:
    """Apply `decide` to the gift as stored until it commits; returns the gift as stored after
    and whether this call changed it. A decision of None changes nothing (the webhook event is
    still stored processed). A webhook event processed before raises DuplicateEventError."""
    current = record
    for _ in range(SAVE_ATTEMPTS):
        if current is None:
            current = load_gift(repo, donation_id)
        decision = decide(current)
        if decision is None:
            if event:
                repo.mark_event_processed(event, now())
            return current, False
        try:
            return commit(repo, current, decision, source=source, actor=actor, event=event, now=now), True
        except ConcurrentUpdateError:
            current = None
    raise UpstreamError("the gift kept changing underneath; retry")


def commit(
    repo: Repository,
    before: GiftRecord,
    decision: Decision,
    *,
    source: str,
    actor: str | None = None,
    event: StripeEvent | None = None,
    now: Clock = utc_now,
    new: bool = False,
) -> GiftRecord:
    """One transaction: the gift (conditional on its version as read), with its totals derived
    again from its refunds and disputes, the records that changed, the plan, the audit entry,
    the emails, and the webhook event stored processed (DuplicateEventError, nothing written, when
    it was processed before)."""
    old = before.donation
    refunds = _merged(before.refunds, decision.refunds)
    disputes = _merged(before.disputes, decision.disputes)
    after = summarize(decision.donation, refunds, disputes)
    timestamp = now()
    stored = after.model_copy(update={"version": old.version + 1, "updated_at": timestamp})
    work = repo.unit_of_work()
    work.save_donation(stored, None if new else old.version)
    for refund in decision.refunds:
        work.save_refund(refund)
    for dispute in decision.disputes:
        work.save_dispute(dispute)
    if decision.plan is not None:
        work.save_plan(decision.plan, decision.plan_version)
    if decision.installment and stored.recurring_id:
        work.add_installment(stored.recurring_id, stored, decision.installment)
    details = {
        "from_status": old.display_status,
        "to_status": stored.display_status,
        "version": str(stored.version),
        **decision.details,
    }
    entry = AuditEntry(actor or actor_of(source), source, timestamp, details)
    work.audit("donation", stored.id, entry, event.id if event else f"v{stored.version}")
    for message in decision.messages:
        work.send(message)
    if event:
        work.event_processed(event, timestamp)
    work.commit()
    record = GiftRecord(stored, refunds, disputes)
    gift_events.tell(before, record, decision.refunds, decision.disputes, source)
    return record


def _merged(stored: list[Refund] | list[Dispute], changed: tuple[Refund, ...] | tuple[Dispute, ...]) -> list:  # type: ignore[type-arg]
    by_id = {item.id: item for item in stored}
    by_id.update({item.id: item for item in changed})
    return list(by_id.values())

"""What happens to a gift's money after it is paid: each refund and each dispute is its own
record under the gift, and the gift's refunded total and dispute flag are derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.domain.donation import DisputeState, Donation
from chalicelib.domain.errors import ConflictError
from chalicelib.domain.records import Record

RefundReason = Literal["duplicate", "fraudulent", "requested_by_customer", "other"]
# requested: reserved here, not yet answered by Stripe; pending/succeeded: Stripe took it;
# failed/canceled: the money stayed with us, so the refund no longer counts.
RefundStatus = Literal["requested", "pending", "succeeded", "failed", "canceled"]
REFUND_RANK: dict[str, int] = {"requested": 0, "pending": 1, "succeeded": 2, "failed": 3, "canceled": 3}
COUNTED = frozenset({"requested", "pending", "succeeded"})
DISPUTE_RANK: dict[str, int] = {"open": 0, "won": 1, "lost": 1}


@dataclass(frozen=True, kw_only=True)
class Refund(Record):
    """One refund of a gift: made by staff here (id is ours), or at Stripe (id is Stripe's)."""

    id: str
    donation_id: str
    amount: int
    currency: str
    reason: str
    note: str = ""
    actor: str
    status: RefundStatus
    stripe_refund_id: str | None = None
    failure_reason: str | None = None
    sending_at: str | None = None  # when a request took the sending of it to Stripe
    created_at: str
    updated_at: str


@dataclass(frozen=True, kw_only=True)
class Dispute(Record):
    """A dispute (chargeback) of a gift's charge, by Stripe's dispute id."""

    id: str
    donation_id: str
    amount: int
    currency: str
    reason: str
    status: DisputeState
    evidence_due_by: str | None = None
    created_at: str
    updated_at: str


def summarize(donation: Donation, refunds: list[Refund], disputes: list[Dispute]) -> Donation:
    """The gift with its derived totals: refunded (every refund that still counts), the
    dispute flag (open while any dispute is, else lost if any was lost, else won) and disputed
    (the amount of the disputes open or lost)."""
    refunded = sum(r.amount for r in refunds if r.status in COUNTED)
    states = {d.status for d in disputes}
    dispute: DisputeState | None = next((s for s in ("open", "lost", "won") if s in states), None)
    disputed = sum(d.amount for d in disputes if d.status in ("open", "lost"))
    if (refunded, dispute, disputed) == (donation.refunded, donation.dispute, donation.disputed):
        return donation
    return donation.model_copy(update={"refunded": refunded, "dispute": dispute, "disputed": disputed})


def refundable(donation: Donation, refunds: list[Refund]) -> int:
    """How much can still be refunded: what was paid, less every refund that counts."""
    if donation.status != "succeeded":
        return 0
    return donation.amount - sum(r.amount for r in refunds if r.status in COUNTED)


def check_refund(donation: Donation, refunds: list[Refund], amount: int | None) -> int:
    """The amount a new refund may take; ConflictError when it would exceed what is left."""
    left = refundable(donation, refunds)
    if donation.status != "succeeded":
        raise ConflictError(f"this gift is {donation.status}: nothing was paid to refund")
    if donation.dispute == "open":  # Stripe refuses it too; a refund now could return it twice
        raise ConflictError("this gift is under dispute with the donor's bank: answer the dispute instead")
    if donation.dispute == "lost":
        raise ConflictError("the donor's bank returned this gift in a dispute already")
    if left <= 0:
        raise ConflictError("this gift is refunded in full already")
    wanted = left if amount is None else amount
    if wanted > left:
        raise ConflictError(
            f"only {left} is left to refund",
            fields=[{"field": "amount", "message": f"must be at most {left}"}],
        )
    return wanted


def merge_refund(current: Refund | None, update: Refund) -> Refund | None:
    """A refund as Stripe states it now, merged into the stored one; None when nothing changes.
    Its status only moves forward; the first note, actor and reason stay."""
    if current is None:
        return update
    changes: dict[str, object] = {}
    if REFUND_RANK[update.status] > REFUND_RANK[current.status]:
        changes["status"] = update.status
        if update.failure_reason:
            changes["failure_reason"] = update.failure_reason
    if current.stripe_refund_id is None and update.stripe_refund_id:
        changes["stripe_refund_id"] = update.stripe_refund_id
    if not changes:
        return None
    return current.model_copy(update={**changes, "updated_at": update.updated_at})


def merge_dispute(current: Dispute | None, update: Dispute) -> Dispute | None:
    """A dispute as Stripe states it now; once won or lost it stays so. None: no change."""
    if current is None:
        return update
    changes: dict[str, object] = {}
    if DISPUTE_RANK[update.status] > DISPUTE_RANK[current.status]:
        changes["status"] = update.status
    for name in ("evidence_due_by", "reason", "amount"):
        if getattr(update, name) != getattr(current, name) and getattr(update, name) is not None:
            changes[name] = getattr(update, name)
    if not changes:
        return None
    return current.model_copy(update={**changes, "updated_at": update.updated_at})

"""The emails money writes: a receipt when a gift is paid (and the tribute notice), the
corrected notice after a refund, the finance alert on a dispute, and a plan's cancellation.
Each is an outbox item, committed in the same transaction as the change that causes it."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.aftermath import Dispute, Refund
from chalicelib.domain.donation import Donation
from chalicelib.domain.ids import new_id
from chalicelib.domain.receipts import (
    Organization,
    Receipt,
    ReceiptLinks,
    StatementLine,
    dispute_alert_email,
    receipt_email,
    recurring_canceled_email,
    refund_failed_email,
    refund_notice_email,
    statement_email,
    tribute_email,
)
from chalicelib.domain.recurring import RecurringPlan
from chalicelib.domain.tokens import DonorAction, Keyring, donor_link_token
from chalicelib.services.clock import epoch_seconds
from chalicelib.services.ports import OutboxMessage

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class DonorLinks:
    """Signed, expiring links a donor gets by email: no account, no password."""

    keys: Keyring
    public_url: str
    days: int = 400

    def token(self, action: DonorAction, record_id: str, now: str) -> str:
        expires = epoch_seconds(now) * 1000 + self.days * DAY_MS
        return donor_link_token(self.keys, action, record_id, expires)

    def for_gift(self, gift: Donation, now: str) -> ReceiptLinks:
        base = f"{self.public_url}/donor/gifts/{gift.id}"
        query = f"?token={self.token('gift', gift.id, now)}"
        cancel = update = None
        if gift.recurring_id:
            plan_query = f"?token={self.token('plan', gift.recurring_id, now)}"
            plan_base = f"{self.public_url}/donor/recurring/{gift.recurring_id}"
            cancel, update = f"{plan_base}/cancel{plan_query}", f"{plan_base}/card{plan_query}"
        return ReceiptLinks(
            gift_url=base + query,
            receipt_url=f"{base}/receipt{query}",
            pdf_url=f"{base}/receipt.pdf{query}",
            cancel_url=cancel,
            update_card_url=update,
        )


@dataclass(frozen=True)
class GiftMail:
    """What the gift emails need: the issuer, fund names, the finance inbox and links."""

    org: Organization
    fund_names: dict[str, str]
    finance_inbox: str
    links: DonorLinks | None = None

    def receipt(self, gift: Donation, refunded: int = 0) -> Receipt:
        tribute = None
        if gift.tribute_kind and gift.tribute_name:
            words = "In honor of" if gift.tribute_kind == "honor" else "In memory of"
            tribute = f"{words} {gift.tribute_name}"
        return Receipt(
            number=gift.receipt_number or "",
            donor_name=f"{gift.first_name} {gift.last_name}",
            email=gift.email,
            paid_at=gift.succeeded_at or gift.created_at,
            amount=gift.amount,
            currency=gift.currency,
            fund_name=self.fund_names.get(gift.fund, gift.fund),
            frequency=gift.frequency,
            premium_name=gift.premium_name,
            premium_value=gift.premium_value,
            covered_fee=gift.covered_fee,
            tribute=tribute,
            refunded=refunded,
        )

    def paid(self, gift: Donation, now: str) -> tuple[OutboxMessage, ...]:
        """The receipt, and for a tribute with someone to tell, the notice (never the amount)."""
        links = self.links.for_gift(gift, now) if self.links else None
        messages = [_message(gift.email, receipt_email(self.receipt(gift), self.org, links), now)]
        if gift.tribute_notify_email and gift.tribute_kind and gift.tribute_name:
            notice = tribute_email(
                f"{gift.first_name} {gift.last_name}",
                gift.tribute_name,
                gift.tribute_kind,
                self.fund_names.get(gift.fund, gift.fund),
                self.org,
            )
            messages.append(_message(gift.tribute_notify_email, notice, now))
        return tuple(messages)

    def refunded(self, gift: Donation, refund: Refund, now: str) -> OutboxMessage:
        """The corrected notice; `gift` carries the refunded total with this refund in it."""
        notice = refund_notice_email(
            self.receipt(gift, gift.refunded), refund.amount, gift.refunded, refund.updated_at, self.org
        )
        return _message(gift.email, notice, now)

    def dispute(self, gift: Donation, dispute: Dispute, now: str) -> OutboxMessage:
        alert = dispute_alert_email(
            gift.id, dispute.amount, dispute.currency, dispute.reason, dispute.evidence_due_by, dispute.status
        )
        return _message(self.finance_inbox, alert, now)

    def statement(
        self, year: int, name: str, email: str, lines: list[StatementLine], now: str
    ) -> OutboxMessage:
        return _message(email, statement_email(year, name, email, lines, self.org), now)

    def refund_failed(self, refund: Refund, now: str) -> OutboxMessage:
        alert = refund_failed_email(
            refund.donation_id, refund.id, refund.amount, refund.currency, refund.failure_reason
        )
        return _message(self.finance_inbox, alert, now)

    def canceled(self, plan: RecurringPlan, now: str) -> OutboxMessage:
        notice = recurring_canceled_email(
            f"{plan.first_name} {plan.last_name}",
            plan.amount,
            plan.currency,
            plan.frequency,
            self.fund_names.get(plan.fund, plan.fund),
            plan.canceled_at or now,
            self.org,
        )
        return _message(plan.email, notice, now)


def _message(to: str, email: tuple[str, dict[str, str]], now: str) -> OutboxMessage:
    template, context = email
    return OutboxMessage(id=new_id(), template=template, to=to, context=context, created_at=now)

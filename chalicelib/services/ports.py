"""The ports services depend on. Adapters implement them; unit tests fake them."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.services import outreach_ports

if TYPE_CHECKING:  # annotations only: a route loads the models it uses, not all of them
    from chalicelib.domain.aftermath import Dispute, Refund
    from chalicelib.domain.donation import Donation
    from chalicelib.domain.finding import GiftFilter
    from chalicelib.domain.recurring import RecurringPlan
    from chalicelib.services.facts import StripeEvent  # the facts module builds on PaymentIntentInfo below

# The form routes' ports live in outreach_ports, so that a form route's cold start builds only
# those; they keep their names here.
ConfirmTarget = outreach_ports.ConfirmTarget
Mailer = outreach_ports.Mailer
OutboxMessage = outreach_ports.OutboxMessage
OutreachRepository = outreach_ports.OutreachRepository
Page = outreach_ports.Page
RateHit = outreach_ports.RateHit
SignupMove = outreach_ports.SignupMove


@dataclass(frozen=True)
class IdempotencyRecord:
    key_hash: str
    request_hash: str
    donation_id: str


@dataclass(frozen=True)
class FailedEvent:
    """A webhook event stored failed and not processed since: its last failure and how many."""

    id: str
    type: str
    failure: str
    failed_at: str
    attempts: int


@dataclass(frozen=True)
class DonationPage:
    items: list[Donation]
    cursor: str | None


@dataclass(frozen=True)
class SetupIntentInfo:
    """What the gateway reports of a SetupIntent."""

    id: str
    client_secret: str
    status: str
    payment_method: str | None
    customer: str | None = None


@dataclass(frozen=True)
class PaymentIntentInfo:
    """What the gateway reports of a PaymentIntent."""

    id: str
    status: str
    client_secret: str
    charge_id: str | None
    failure_reason: str | None
    donation_id: str | None = None


@dataclass(frozen=True)
class Settlement:
    """A charge's balance transaction: fee and net in the settlement currency."""

    fee: int
    net: int
    currency: str


@dataclass(frozen=True)
class SubscriptionInfo:
    """What the gateway reports of a Subscription and its latest invoice."""

    id: str
    customer_id: str
    status: str  # Stripe's status word (active, incomplete, past_due, canceled, ...)
    current_period_end: str | None  # ISO-8601 UTC
    latest_invoice_id: str | None
    invoice_paid: bool  # the latest invoice is paid
    payment_id: str | None  # the latest invoice's PaymentIntent, when Stripe names it
    charge_id: str | None
    failure_reason: str | None  # the first installment's decline message, if it failed
    client_secret: str | None  # the latest invoice PaymentIntent's secret when it needs 3-D Secure


@dataclass(frozen=True)
class RefundInfo:
    """What the gateway reports of a Refund."""

    id: str  # re_
    amount: int
    currency: str
    status: str  # pending | succeeded | failed | canceled | requires_action
    failure_reason: str | None


@dataclass(frozen=True)
class StripeLink:
    """What a Stripe id points at here."""

    donation_id: str | None = None
    refund_id: str | None = None
    recurring_id: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """Who changed a record, from where, and what changed. actor: a staff subject, `stripe`,
    `donor` (the donor's own request or link) or `system`."""

    actor: str
    source: str
    at: str
    details: dict[str, str]


@dataclass(frozen=True)
class GiftRecord:
    """A gift with the refund and dispute records under it (and, when asked, its audit
    trail, oldest first)."""

    donation: Donation
    refunds: list[Refund]
    disputes: list[Dispute]
    history: tuple[AuditEntry, ...] = ()


@dataclass(frozen=True)
class PlanRecord:
    """A recurring plan with its installments, oldest first."""

    plan: RecurringPlan
    installments: list[Donation]


class UnitOfWork(abc.ABC):
    """One use case's writes, committed together in one transaction or not at all."""

    @abc.abstractmethod
    def save_donation(self, donation: Donation, expected_version: int | None) -> None:
        """A gift at `version`, conditional on the stored one being `expected_version` (None:
        new); also the lookups from its Stripe ids to it."""

    @abc.abstractmethod
    def save_refund(self, refund: Refund) -> None:
        """Guarded by the gift's version, which every refund change also saves."""

    @abc.abstractmethod
    def save_dispute(self, dispute: Dispute) -> None: ...

    @abc.abstractmethod
    def save_plan(self, plan: RecurringPlan, expected_version: int | None) -> None: ...

    @abc.abstractmethod
    def add_installment(self, plan_id: str, donation: Donation, invoice_id: str) -> None:
        """Link a new installment to its plan, once: a second gift for the same invoice makes
        the commit fail with ConflictError."""

    @abc.abstractmethod
    def audit(self, kind: str, record_id: str, entry: AuditEntry, suffix: str) -> None:
        """An audit entry for a `donation` or `recurring` record."""

    @abc.abstractmethod
    def send(self, message: OutboxMessage) -> None:
        """An email for the outbox."""

    @abc.abstractmethod
    def claim(self, marker: str) -> None:
        """A marker written once: when it exists already the commit fails with ConflictError."""

    @abc.abstractmethod
    def event_processed(self, event: StripeEvent, now: str) -> None:
        """The webhook event stored processed, with this change; the commit fails with
        DuplicateEventError (and writes nothing) when it was processed before."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Raises ConcurrentUpdateError when a record changed since it was read, ConflictError
        when a once-only item exists already, UpstreamError when the table is busy or down."""


class Repository(abc.ABC):
    @abc.abstractmethod
    def ping(self) -> None:
        """Raise UpstreamError unless the table answers."""

    @abc.abstractmethod
    def create_donation(self, donation: Donation, idempotency: IdempotencyRecord | None) -> None:
        """Write a new gift; raises ConflictError when the idempotency key is taken."""

    @abc.abstractmethod
    def get_idempotency(self, key_hash: str) -> IdempotencyRecord | None: ...

    @abc.abstractmethod
    def get_donation(self, donation_id: str) -> Donation | None: ...

    @abc.abstractmethod
    def get_gift(self, donation_id: str, with_history: bool = False) -> GiftRecord | None:
        """The gift with its refunds and disputes (and its audit trail when asked), read
        consistently in one query."""

    @abc.abstractmethod
    def unit_of_work(self) -> UnitOfWork: ...

    @abc.abstractmethod
    def get_plan(self, recurring_id: str) -> RecurringPlan | None: ...

    @abc.abstractmethod
    def get_plan_record(self, recurring_id: str) -> PlanRecord | None: ...

    @abc.abstractmethod
    def list_plans(self, status: str, limit: int, cursor: str | None) -> Page: ...

    @abc.abstractmethod
    def stripe_target(self, stripe_id: str) -> StripeLink:
        """What a Stripe id (PaymentIntent, Charge, invoice, refund, dispute, subscription)
        points at here: donation_id, refund_id, recurring_id."""

    @abc.abstractmethod
    def mark_event_processed(self, event: StripeEvent, now: str, note: str | None = None) -> None:
        """Store a webhook event that changes nothing, processed (`note`: why); raises
        DuplicateEventError when it was processed before."""

    @abc.abstractmethod
    def event_processed_before(self, event_id: str) -> bool:
        """Whether a webhook event is stored processed (one consistent read)."""

    @abc.abstractmethod
    def failed_events(self, limit: int) -> list[FailedEvent]:
        """Up to `limit` webhook events stored failed and not processed since, oldest failure
        first (a Query of their index, whatever their age)."""

    @abc.abstractmethod
    def keep_failed_event(self, event: StripeEvent, reason: str, now: str) -> bool:
        """Store a webhook event whose processing failed, unprocessed, with the reason;
        False when another delivery processed it meanwhile (nothing written)."""

    @abc.abstractmethod
    def list_donations(
        self,
        start: str,
        end: str,
        limit: int,
        cursor: str | None,
        *,
        include_abandoned: bool = False,
        filters: GiftFilter | None = None,
    ) -> DonationPage: ...

    def period_donations(
        self,
        start: str,
        end: str,
        page_size: int,
        *,
        include_abandoned: bool = False,
        filters: GiftFilter | None = None,
    ) -> Iterator[tuple[list[Donation], bool]]:
        """Every gift list_donations gives for the period, in its order, in pages of at most
        `page_size` with whether more may follow: for a reader of the whole period."""
        return paged_donations(
            self, start, end, page_size, include_abandoned=include_abandoned, filters=filters
        )

    def donor_page(self, email: str, limit: int, cursor: str | None) -> DonationPage:
        """A donor's gifts by email (any case), newest first."""
        raise NotImplementedError

    def donor_gifts(self, email: str) -> list[Donation]:
        """Every gift of a donor by email (any case)."""
        raise NotImplementedError

    @abc.abstractmethod
    def pending_donations(self, has_setup: bool, created_before: str, limit: int) -> list[Donation]:
        """Up to `limit` pending gifts created before the time, oldest first (eventually
        consistent: re-check each one before changing it)."""


class Payments(abc.ABC):
    publishable_key: str

    @abc.abstractmethod
    def create_setup_intent(self, donation: Donation, customer_id: str | None = None) -> SetupIntentInfo:
        """With a customer (a recurring gift) it is usage=off_session and the saved card
        attaches to the customer."""

    @abc.abstractmethod
    def create_customer(self, recurring_id: str, email: str, name: str) -> str:
        """A Stripe Customer for a recurring gift; idempotency key steward-customer-<recurring_id>
        (and one customer per recurring_id, found again by its metadata)."""

    @abc.abstractmethod
    def create_card_update_intent(
        self, recurring_id: str, customer_id: str, update_id: str | None = None
    ) -> SetupIntentInfo:
        """A SetupIntent (off_session, for the customer) the donor confirms on the update-card
        page; with update_id, retries of one update make one SetupIntent."""

    @abc.abstractmethod
    def create_subscription(
        self,
        recurring_id: str,
        customer_id: str,
        payment_method: str,
        amount: int,
        currency: str,
        interval: Literal["month", "year"],
        metadata: dict[str, str],
    ) -> SubscriptionInfo:
        """Idempotency key steward-subscription-<recurring_id>, and one subscription per
        recurring_id (found again by its metadata); the card becomes the customer's default
        for invoices; metadata carries recurring_id."""

    @abc.abstractmethod
    def find_subscription(self, customer_id: str, recurring_id: str) -> SubscriptionInfo | None:
        """The customer's subscription for this recurring_id (by its metadata), if any."""

    @abc.abstractmethod
    def retrieve_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """NotFoundError when Stripe has no such subscription."""

    @abc.abstractmethod
    def cancel_subscription(self, subscription_id: str) -> SubscriptionInfo:
        """Cancel now; one already canceled answers as it stands (no error)."""

    @abc.abstractmethod
    def set_default_payment_method(self, subscription_id: str, customer_id: str, payment_method: str) -> None:
        """The card the subscription's next invoices charge."""

    @abc.abstractmethod
    def invoice_payment(self, invoice_id: str) -> tuple[str | None, str | None]:
        """The PaymentIntent and Charge ids that paid an invoice (basil: the invoice_payments
        list; older shapes: invoice.payment_intent / invoice.charge)."""

    @abc.abstractmethod
    def create_refund(
        self, refund_id: str, payment_intent_id: str, amount: int, reason: str, metadata: dict[str, str]
    ) -> RefundInfo:
        """Idempotency key steward-refund-<refund_id> (and one refund per refund_id, found again
        by its metadata). reason as Stripe takes it (duplicate, fraudulent,
        requested_by_customer; "other" is sent without a reason). Raises ConflictError when
        Stripe refuses (e.g. more than the charge has left)."""

    @abc.abstractmethod
    def retrieve_setup_intent(self, setup_intent_id: str) -> SetupIntentInfo: ...

    @abc.abstractmethod
    def create_payment_intent(self, donation: Donation, payment_method: str) -> PaymentIntentInfo:
        """Create unconfirmed, with the card set: it charges nothing until confirmed."""

    @abc.abstractmethod
    def confirm_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Confirm (charge); raises PaymentDeclinedError when the card is declined. When it was
        confirmed already, answers the PaymentIntent as it stands."""

    @abc.abstractmethod
    def cancel_payment_intent(self, payment_intent_id: str) -> None:
        """Cancel a PaymentIntent that was never confirmed."""

    @abc.abstractmethod
    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        """Raises NotFoundError when Stripe has no such PaymentIntent."""

    @abc.abstractmethod
    def settlement(self, charge_id: str) -> Settlement | None:
        """The charge's balance transaction (None while Stripe has none yet)."""

    @abc.abstractmethod
    def verify_event(self, payload: bytes, signature: str | None) -> StripeEvent:
        """Verify Stripe-Signature on the raw body and read what the event states;
        raises InvalidSignatureError."""


@dataclass(frozen=True)
class StaffRead:
    """One staff request: who, what (the route, its record ids and filter), and when."""

    id: str
    at: str
    actor: str
    roles: list[str]
    method: str
    route: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: str | None = None


class StaffLog(abc.ABC):
    @abc.abstractmethod
    def record(self, read: StaffRead) -> None:
        """Kept before the data is answered: a request that cannot be logged gets no data."""

    @abc.abstractmethod
    def list(self, start: str, end: str, limit: int, cursor: str | None, actor: str | None) -> Page:
        """Staff requests in [start, end], newest first (StaffRead items)."""


@dataclass(frozen=True)
class PayoutInfo:
    """What the ledger reports of a payout."""

    id: str
    amount: int
    currency: str
    status: str
    created: str
    arrival_date: str | None


@dataclass(frozen=True)
class BalanceLine:
    """One balance transaction a payout pays out: a charge, a refund, a dispute's adjustment."""

    id: str
    type: str
    source: str | None  # ch_, re_, dp_ / du_
    amount: int
    fee: int
    net: int
    currency: str


class Ledger(abc.ABC):
    """Stripe's books, read-only."""

    @abc.abstractmethod
    def payouts(self, start: int, end: int) -> list[PayoutInfo]:
        """Payouts created in [start, end] (Unix seconds), oldest first."""

    @abc.abstractmethod
    def payout_lines(self, payout_id: str) -> list[BalanceLine]: ...

    @abc.abstractmethod
    def events(self, since: int) -> Iterator[StripeEvent]:
        """Stripe's events created since then (Stripe keeps 30 days), read into facts."""


def paged_donations(
    gifts: Any,
    start: str,
    end: str,
    page_size: int,
    *,
    include_abandoned: bool = False,
    filters: GiftFilter | None = None,
) -> Iterator[tuple[list[Donation], bool]]:
    """period_donations from list_donations, page after page by its cursor."""
    cursor: str | None = None
    while True:
        page = gifts.list_donations(
            start, end, page_size, cursor, include_abandoned=include_abandoned, filters=filters
        )
        yield page.items, page.cursor is not None
        if page.cursor is None:
            return
        cursor = page.cursor

"""Gifts: the request a donor sends, the stored record, and its payment lifecycle.

What happens to the money afterwards (refunds, disputes) is kept in its own records under
the gift (chalicelib/domain/aftermath.py); the gift carries their derived totals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    computed_field,
    field_validator,
)

from chalicelib.domain.addresses import EmailAddress
from chalicelib.domain.model import HeaderText, Model
from chalicelib.domain.terms import Frequency, Premium
from chalicelib.domain.text import NO_CONTROL_CHARS, ascii_address, has_line_break, header_text

Status = Literal["pending", "abandoned", "succeeded", "failed"]
DisputeState = Literal["open", "won", "lost"]
# What staff see: the payment's own status, or what happened to the money afterwards.
DisplayStatus = Literal[
    "pending",
    "abandoned",
    "failed",
    "succeeded",
    "partially_refunded",
    "refunded",
    "disputed",
    "dispute_lost",
]

# The payment lifecycle only moves forward: pending -> succeeded | failed | abandoned. An event
# may raise the rank, never lower it. Abandoned (left pending too long) ranks lowest after
# pending, so any late fact from Stripe still lands; a card declined then paid (a retried
# installment) ends succeeded.
STATUS_RANK: dict[str, int] = {"pending": 0, "abandoned": 1, "failed": 2, "succeeded": 3}

# A donor's name may reach an email header (a receipt's To), so it is header-safe text.
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL_CHARS), HeaderText]


@dataclass(frozen=True)
class DonationRules:
    """What config allows a donor to give: currencies, limits, funds, premiums, and the
    cover-the-fee formula (percent of the total plus a fixed amount, in minor units)."""

    currencies: tuple[str, ...]
    min_amount: int
    max_amount: int
    fund_ids: tuple[str, ...]
    premiums: tuple[Premium, ...] = ()
    fee_percent: Decimal = Decimal("2.2")
    fee_fixed: int = 30

    def premium(self, premium_id: str | None) -> Premium | None:
        return next((p for p in self.premiums if p.id == premium_id), None)

    def covered_fee(self, amount: int) -> int:
        """What to add so that, after the processor's fee on the total, the gift arrives whole:
        total = (amount + fixed) / (1 - percent), rounded up to the cent."""
        rate = self.fee_percent / 100
        total = ((amount + self.fee_fixed) / (1 - rate)).to_integral_value(rounding=ROUND_CEILING)
        return int(total) - amount


def _one_line(value: str) -> str:
    if has_line_break(value):  # U+2028, U+2029 and the like pass NO_CONTROL_CHARS
        raise ValueError("must be one line: no line break of any kind")
    return value


OneLine = Annotated[str, Field(max_length=100, pattern=NO_CONTROL_CHARS), AfterValidator(_one_line)]


class Tribute(Model):
    """A gift in honor or in memory of someone, and who (if anyone) is told of it."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    kind: Literal["honor", "memory"]
    name: Name = Field(description="The honoree's name.")
    notify_name: Name | None = Field(default=None, description="Who is told of the gift (never its amount).")
    notify_email: EmailAddress | None = Field(default=None, max_length=254)

    @field_validator("notify_email")
    @classmethod
    def _mailable(cls, value: str | None) -> str | None:
        return None if value is None else header_text(ascii_address(value))


class DonationRequest(Model):
    """The body of POST /donations: an allow-list, strict types, no extra keys."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    amount: StrictInt = Field(description="The gift in minor units (cents), before any covered fee.")
    currency: str = Field(pattern=r"^[a-z]{3}$", description="Lower-case ISO 4217 code.")
    frequency: Frequency = Field(default="one_time", description="one_time, monthly or annual.")
    email: EmailAddress = Field(max_length=254)
    first_name: Name
    last_name: Name
    fund: str = Field(max_length=64, description="A fund id from GET /config.")
    campaign: OneLine | None = Field(
        default=None,
        description="Campaign or source, e.g. a utm_campaign value; one line of text.",
    )
    anonymous: StrictBool = False
    cover_fee: StrictBool = Field(default=False, description="Add the processing fee to the gift.")
    tribute: Tribute | None = None
    premium: str | None = Field(default=None, max_length=64, description="A premium id from GET /config.")
    utm_source: OneLine | None = None
    utm_medium: OneLine | None = None
    utm_campaign: OneLine | None = None
    form_token: str = Field(max_length=100, description="The form_token from GET /config.")
    honeypot: str = Field(
        default="",
        max_length=200,
        description="The form's hidden 'Please leave this field empty' field.",
    )

    @field_validator("amount")
    @classmethod
    def _amount_in_range(cls, value: int, info: ValidationInfo) -> int:
        rules = _rules(info)
        if rules and not rules.min_amount <= value <= rules.max_amount:
            raise ValueError(f"must be between {rules.min_amount} and {rules.max_amount}")
        return value

    @field_validator("currency")
    @classmethod
    def _currency_allowed(cls, value: str, info: ValidationInfo) -> str:
        rules = _rules(info)
        if rules and value not in rules.currencies:
            raise ValueError(f"must be one of {', '.join(rules.currencies)}")
        return value

    @field_validator("email")
    @classmethod
    def _mailable(cls, value: str) -> str:
        return header_text(ascii_address(value))  # the receipt's To

    @field_validator("fund")
    @classmethod
    def _fund_allowed(cls, value: str, info: ValidationInfo) -> str:
        rules = _rules(info)
        if rules and value not in rules.fund_ids:
            raise ValueError("is not a fund listed by GET /config")
        return value

    @field_validator("premium")
    @classmethod
    def _premium_offered(cls, value: str | None, info: ValidationInfo) -> str | None:
        rules = _rules(info)
        if value is not None and rules and rules.premium(value) is None:
            raise ValueError("is not a premium listed by GET /config")
        return value


def _rules(info: ValidationInfo) -> DonationRules | None:
    context = info.context or {}
    rules = context.get("rules")
    return rules if isinstance(rules, DonationRules) else None


class Donation(Model):
    """A stored gift, as finance staff see it. `amount` is what was charged (a covered fee
    included); refunded, dispute and display_status are derived from the refund and dispute
    records under the gift (chalicelib/domain/aftermath.py), kept here so lists need no joins."""

    id: str
    status: Status = "pending"
    amount: int
    currency: str
    fund: str
    campaign: str | None = None
    anonymous: bool = False
    email: str
    first_name: str
    last_name: str
    created_at: str
    updated_at: str
    frequency: Frequency = "one_time"
    recurring_id: str | None = None
    invoice_id: str | None = None
    setup_intent_id: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    fee: int | None = None
    net: int | None = None
    settlement_currency: str | None = None
    failure_reason: str | None = None
    succeeded_at: str | None = None
    receipt_number: str | None = None
    covered_fee: int = 0
    tribute_kind: Literal["honor", "memory"] | None = None
    tribute_name: str | None = None
    tribute_notify_name: str | None = None
    tribute_notify_email: str | None = None
    premium_id: str | None = None
    premium_name: str | None = None
    premium_value: int = 0
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    refunded: int = 0
    dispute: DisputeState | None = None
    disputed: int = 0  # the amount of its disputes that are open or lost
    version: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def display_status(self) -> DisplayStatus:
        """The payment's status, or once paid what happened to the money afterwards: an open
        dispute first, then a lost one, then refunds."""
        if self.status != "succeeded":
            return self.status
        if self.dispute == "open":
            return "disputed"
        if self.dispute == "lost":
            return "dispute_lost"
        if self.refunded >= self.amount:
            return "refunded"
        return "partially_refunded" if self.refunded else "succeeded"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def net_after_refunds(self) -> int | None:
        """Net minus refunds, where both are in the same currency (else None: converted
        refund amounts are in the refund records' balance transactions)."""
        if self.net is None or self.settlement_currency not in (None, self.currency):
            return None
        return self.net - self.refunded

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deductible_amount(self) -> int:
        return max(0, self.amount - self.premium_value)


@dataclass(frozen=True)
class PaymentUpdate:
    """What one payment fact says about a gift's charge; every field is optional."""

    status: Status | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    failure_reason: str | None = None
    invoice_id: str | None = None
    paid_at: str | None = None


@dataclass(frozen=True)
class AbandonRules:
    """When a gift left pending is given up: after pending_hours, or after no_setup_minutes
    when it never got its SetupIntent (its create request failed half-way)."""

    pending_hours: int = 24
    no_setup_minutes: int = 60


def should_abandon(donation: Donation, pending_before: str, no_setup_before: str) -> bool:
    """Whether the sweep marks this gift abandoned, given the two cut-off times."""
    if donation.status != "pending":
        return False
    if donation.setup_intent_id is None and donation.created_at < no_setup_before:
        return True
    return donation.created_at < pending_before


def receipt_number(donation_id: str, paid_at: str) -> str:
    """The receipt number: the year it was paid and the gift's id (unique, never reused)."""
    return f"{paid_at[:4]}-{donation_id}"


def apply_update(donation: Donation, update: PaymentUpdate, now: str) -> Donation:
    """Merge a payment fact into a gift. Order-independent and idempotent: the status only
    moves forward, and every field ends fitting the resulting state (a reason only on a
    failed gift; a payment time and a receipt number on every paid gift)."""
    changes: dict[str, object] = {}
    status = donation.status
    if update.status and STATUS_RANK[update.status] > STATUS_RANK[status]:
        status = changes["status"] = update.status
    for name in ("payment_intent_id", "charge_id", "invoice_id"):
        value = getattr(update, name)
        if name == "charge_id" and update.status == "failed":
            continue  # a declined charge; the gift's charge is the one that takes the money
        if value is not None and getattr(donation, name) is None:
            changes[name] = value
    if status != "failed":
        if donation.failure_reason is not None:
            changes["failure_reason"] = None
    elif donation.failure_reason is None and update.failure_reason is not None:
        changes["failure_reason"] = update.failure_reason
    if status == "succeeded" and donation.succeeded_at is None:
        paid_at = update.paid_at or now
        changes["succeeded_at"] = paid_at
        changes["receipt_number"] = receipt_number(donation.id, paid_at)
    if not changes:
        return donation
    changes["updated_at"] = now
    return donation.model_copy(update=changes)


def apply_settlement(donation: Donation, fee: int, net: int, currency: str, now: str) -> Donation:
    """Fee and net as the balance transaction states them now; Stripe may change them."""
    if (donation.fee, donation.net, donation.settlement_currency) == (fee, net, currency):
        return donation
    return donation.model_copy(
        update={"fee": fee, "net": net, "settlement_currency": currency, "updated_at": now}
    )

"""One-time gifts: the request a donor sends, the stored record, and its state machine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from chalicelib.domain.text import HeaderText, ascii_address, header_text

Status = Literal["pending", "abandoned", "succeeded", "failed", "refunded", "partially_refunded", "disputed"]
DisputeStatus = Literal["open", "won", "lost"]

# States only move forward: an event may raise the rank, never lower it. Abandoned (left
# pending too long) ranks lowest after pending, so any late fact from Stripe still lands.
STATUS_RANK: dict[str, int] = {
    "pending": 0,
    "abandoned": 1,
    "failed": 2,
    "succeeded": 3,
    "partially_refunded": 4,
    "refunded": 5,
    "disputed": 6,
}
DISPUTE_RANK: dict[str, int] = {"open": 0, "won": 1, "lost": 1}
# The states in which the money was taken (whatever happened to it afterwards).
PAID_STATUSES = frozenset({"succeeded", "partially_refunded", "refunded", "disputed"})

NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f-\x9f]*$"
# A donor's name may reach an email header (a receipt's To), so it is header-safe text.
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL_CHARS), HeaderText]


@dataclass(frozen=True)
class DonationRules:
    """What config allows a donor to give: currencies, limits and funds."""

    currencies: tuple[str, ...]
    min_amount: int
    max_amount: int
    fund_ids: tuple[str, ...]


class DonationRequest(BaseModel):
    """The body of POST /donations: an allow-list, strict types, no extra keys."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    amount: StrictInt = Field(description="Amount in minor units (cents).")
    currency: str = Field(pattern=r"^[a-z]{3}$", description="Lower-case ISO 4217 code.")
    email: EmailStr = Field(max_length=254)
    first_name: Name
    last_name: Name
    fund: str = Field(max_length=64, description="A fund id from GET /config.")
    campaign: str | None = Field(
        default=None,
        max_length=100,
        pattern=NO_CONTROL_CHARS,
        description="Campaign or source, e.g. a utm_campaign value; one line of text.",
    )
    anonymous: StrictBool = False
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


def _rules(info: ValidationInfo) -> DonationRules | None:
    context = info.context or {}
    rules = context.get("rules")
    return rules if isinstance(rules, DonationRules) else None


class Donation(BaseModel):
    """A stored gift, as finance staff see it."""

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
    setup_intent_id: str | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    fee: int | None = None
    net: int | None = None
    amount_refunded: int = 0
    failure_reason: str | None = None
    dispute_status: DisputeStatus | None = None
    succeeded_at: str | None = None
    version: int = 0


@dataclass(frozen=True)
class PaymentUpdate:
    """What one Stripe fact says about a gift; every field is optional."""

    status: Status | None = None
    payment_intent_id: str | None = None
    charge_id: str | None = None
    fee: int | None = None
    net: int | None = None
    amount_refunded: int | None = None
    failure_reason: str | None = None
    dispute_status: DisputeStatus | None = None


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


def refund_status(amount: int, amount_refunded: int) -> Status:
    return "refunded" if amount_refunded >= amount else "partially_refunded"


def apply_update(donation: Donation, update: PaymentUpdate, now: str) -> Donation:
    """Merge a fact into a gift. Order-independent and idempotent: states only move forward,
    and every field ends fitting the resulting state (a reason only on a failed gift, a
    payment time on every gift whose money was taken)."""
    changes: dict[str, object] = {}
    status = donation.status
    if update.status and STATUS_RANK[update.status] > STATUS_RANK[status]:
        status = changes["status"] = update.status
    for name in ("payment_intent_id", "charge_id", "fee", "net"):
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
    if status in PAID_STATUSES and donation.succeeded_at is None:
        changes["succeeded_at"] = now
    if update.amount_refunded is not None and update.amount_refunded > donation.amount_refunded:
        changes["amount_refunded"] = update.amount_refunded
    if update.dispute_status and (
        donation.dispute_status is None
        or DISPUTE_RANK[update.dispute_status] > DISPUTE_RANK[donation.dispute_status]
    ):
        changes["dispute_status"] = update.dispute_status
    if not changes:
        return donation
    changes["updated_at"] = now
    return donation.model_copy(update=changes)

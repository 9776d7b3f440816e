"""Request and response shapes that only the HTTP layer uses; they feed /openapi.json."""

from __future__ import annotations

from dataclasses import MISSING
from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_type_hints

from pydantic import ConfigDict, Field, create_model, model_validator

from chalicelib.domain.aftermath import Dispute, Refund
from chalicelib.domain.donation import Donation
from chalicelib.domain.model import Model
from chalicelib.domain.outreach import OutboxRecord
from chalicelib.domain.outreach_records import ContactMessage, ContactStatus
from chalicelib.domain.records import Record
from chalicelib.domain.recurring import RecurringPlan


def shape_of(record: type[Record]) -> type[Model]:
    """The response shape of a plain record, under the record's name: its fields, and the
    values it derives (`SHOWN`) as fields every answer carries."""
    hints = get_type_hints(record)
    shape: dict[str, Any] = {}
    for spec in dataclass_fields(record):  # type: ignore[arg-type]
        default: Any = spec.default
        if spec.default_factory is not MISSING:
            default = Field(default_factory=spec.default_factory)
        shape[spec.name] = (hints[spec.name], ... if default is MISSING else default)
    for name in record.SHOWN:
        shape[name] = (get_type_hints(getattr(record, name).fget)["return"], ...)
    written = record.__doc__ or ""
    doc = None if written.startswith(f"{record.__name__}(") else written  # not a generated signature
    return create_model(record.__name__, __base__=Model, __doc__=doc, __module__=__name__, **shape)


if TYPE_CHECKING:
    DonationOut: TypeAlias = Model
    RefundOut: TypeAlias = Model
    DisputeOut: TypeAlias = Model
    RecurringPlanOut: TypeAlias = Model
else:
    DonationOut = shape_of(Donation)
    RefundOut = shape_of(Refund)
    DisputeOut = shape_of(Dispute)
    RecurringPlanOut = shape_of(RecurringPlan)

MAX_RANGE_DAYS = 366
FIRST_YEAR, LAST_YEAR = 2000, 2999


class ErrorField(Model):
    field: str
    message: str


class ErrorDetail(Model):
    code: str
    message: str
    fields: list[ErrorField]


class ErrorOut(Model):
    error: ErrorDetail


class HealthOut(Model):
    status: str


class DocumentOut(Model):
    model_config = ConfigDict(extra="allow")

    openapi: str


class FundOut(Model):
    id: str
    name: str


class PremiumOut(Model):
    id: str
    name: str
    value: int = Field(description="Its good-faith fair-market value, in minor units.")


class ConfigOut(Model):
    publishable_key: str
    stripe_js_url: str
    currencies: list[str]
    min_amount: int
    max_amount: int
    suggested_amounts: list[int]
    funds: list[FundOut]
    frequencies: list[str]
    premiums: list[PremiumOut]
    fee_percent: float = Field(
        description="Cover the fee: charged = ceil((amount + fee_fixed) / (1 - fee_percent / 100))."
    )
    fee_fixed: int = Field(description="The fixed part of the processing fee, in minor units.")
    form_token: str
    form_token_ready_seconds: int = Field(
        description="How old form_token must be when a form is sent; sooner is taken for a bot."
    )
    topics: list[FundOut]
    interests: list[FundOut]


class DonationCreatedOut(Model):
    donation_id: str
    client_secret: str = Field(description="SetupIntent client secret (seti_…) for confirmCardSetup.")
    publishable_key: str


class CampaignOut(Model):
    id: str
    title: str
    goal: int = Field(description="Minor units of `currency`.")
    currency: str
    raised: int = Field(description="Paid in `currency`, less refunds and lost disputes; minor units.")
    donors: int = Field(description="Distinct donors with a gift that counts (paid, not refunded in full).")


class ConfirmIn(Model):
    model_config = ConfigDict(extra="forbid", strict=True)


class ConfirmOut(Model):
    donation_id: str
    status: str = Field(description="The gift's status, or requires_action for 3-D Secure.")
    client_secret: str | None = Field(
        default=None,
        description="PaymentIntent secret for confirmCardPayment when status is requires_action.",
    )
    failure_reason: str | None = Field(
        default=None, description="Why the card was declined, when status is failed."
    )


class WebhookOut(Model):
    received: bool
    duplicate: bool = False
    applied: bool = Field(default=False, description="Whether the event changed a gift.")


class RangeQuery(Model):
    """A staff list over [from, to], paged with a cursor."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date | datetime = Field(alias="from", description="Date or UTC time, inclusive.")
    end: date | datetime = Field(alias="to", description="Date (whole day) or UTC time, inclusive.")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _range(self) -> RangeQuery:
        for value in (self.start, self.end):
            if not FIRST_YEAR <= value.year <= LAST_YEAR:
                raise ValueError(f"dates must fall in the years {FIRST_YEAR} to {LAST_YEAR}")
        if self.bounds[1] < self.bounds[0]:
            raise ValueError("to must not be before from")
        if _as_time(self.end, True) - _as_time(self.start, False) > timedelta(days=MAX_RANGE_DAYS):
            raise ValueError(f"the range is over {MAX_RANGE_DAYS} days")
        return self

    @property
    def bounds(self) -> tuple[str, str]:
        """Inclusive ISO bounds comparable with stored created_at values."""
        start = _as_time(self.start, False).isoformat(timespec="seconds")[:19] + ".000Z"
        end = _as_time(self.end, True).isoformat(timespec="seconds")[:19] + ".999Z~"
        return start, end


class DonationListQuery(RangeQuery):
    """GET /staff/donations: gifts created in [from, to], oldest first."""

    include_abandoned: bool = Field(
        default=False, description="Also list gifts abandoned while pending (true or false)."
    )


def _as_time(value: date | datetime, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    clock = datetime.max.time() if end else datetime.min.time()
    return datetime.combine(value, clock, tzinfo=UTC)


class PayoutQuery(RangeQuery):
    """GET /staff/reports/payouts: payouts created in [from, to]."""

    format: Literal["json", "csv"] = Field(default="json", description="json, or csv for a spreadsheet.")


class DonationListOut(Model):
    items: list[DonationOut]
    cursor: str | None = Field(
        description=(
            "Pass back as cursor, with the same query, for the next page; null at the end. A page"
            " past many abandoned gifts may hold fewer items than limit, even none, and a cursor."
        )
    )


class PlanListQuery(Model):
    """GET /staff/recurring: monthly and annual plans in one status, newest first."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "past_due", "canceled", "incomplete"] = "active"
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class HistoryEntryOut(Model):
    """One change to a gift: who made it (a staff subject, `donor`, `stripe` or `system`),
    from where, when, and what changed (`from_status`, `to_status`, the Stripe event...)."""

    actor: str
    source: str
    at: str
    details: dict[str, str]


class GiftOut(DonationOut):
    """A gift with each of its refunds and disputes, and its history, oldest first."""

    refunds: list[RefundOut]
    disputes: list[DisputeOut]
    history: list[HistoryEntryOut]


class PlanOut(RecurringPlanOut):
    """A monthly or annual plan with its installments, oldest first."""

    installments: list[DonationOut]


class PlanListOut(Model):
    items: list[RecurringPlanOut]
    cursor: str | None


class CardIntentOut(Model):
    client_secret: str = Field(description="SetupIntent secret for Stripe.js confirmCardSetup.")


class AuditListQuery(RangeQuery):
    """GET /staff/audit: staff requests in [from, to], newest first, optionally one actor's."""

    actor: str | None = Field(default=None, max_length=200, description="A staff subject.")


class AuditListOut(Model):
    items: list[dict[str, object]]
    cursor: str | None


class ContactListQuery(Model):
    model_config = ConfigDict(extra="forbid")

    program: str | None = Field(default=None, max_length=64, description="A topic id; defaults to your own.")
    status: ContactStatus = "new"
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class ContactListOut(Model):
    items: list[ContactMessage]
    cursor: str | None


class OutboxListQuery(Model):
    """GET /staff/outbox: failed emails newest first, or pending ones in the order they are due."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["failed", "pending"] = "failed"
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class OutboxListOut(Model):
    items: list[OutboxRecord]
    cursor: str | None


class AcceptedOut(Model):
    status: str


MAX_TOTALS_DAYS = 3660  # ten years: one Query per year of the range


class TotalsQuery(Model):
    """GET /staff/reports/totals: gifts paid within [from, to] (UTC days), per group."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date = Field(alias="from", description="First day (UTC), inclusive.")
    end: date = Field(alias="to", description="Last day (UTC), inclusive.")
    group_by: Literal["day", "month", "fund", "campaign", "frequency"] = "day"

    @model_validator(mode="after")
    def _range(self) -> TotalsQuery:
        for value in (self.start, self.end):
            if not FIRST_YEAR <= value.year <= LAST_YEAR:
                raise ValueError(f"dates must fall in the years {FIRST_YEAR} to {LAST_YEAR}")
        if self.end < self.start:
            raise ValueError("to must not be before from")
        if (self.end - self.start).days >= MAX_TOTALS_DAYS:
            raise ValueError(f"the range is over {MAX_TOTALS_DAYS} days")
        return self


class TotalsRow(Model):
    group: str | None = Field(
        description="The day (YYYY-MM-DD), month (YYYY-MM), fund, campaign (null: none) or frequency."
    )
    currency: str = Field(description="The gifts' currency: gross, refunded and disputed are in it.")
    settlement_currency: str | None = Field(
        description="The currency Stripe settled them in: fees and net are in it (null: not settled yet)."
    )
    count: int
    gross: int
    fees: int
    net: int
    refunded: int
    disputed: int = Field(description="Under an open dispute, or lost to one.")


class TotalsOut(Model):
    group_by: str
    rows: list[TotalsRow]


class ExportCreatedOut(Model):
    export_id: str


class ExportOut(Model):
    export_id: str
    status: Literal["running", "done", "failed"]
    rows: int = Field(description="Gifts in the file (the header aside); 0 until done.")
    url: str | None = Field(description="A presigned GET link to the CSV, valid 5 minutes; once done.")
    reason: str | None = Field(default=None, description="Why the export failed.")
    created_at: str
    finished_at: str | None = None

"""What finance staff may ask of the gift list (and of an export), and a donor's giving
totals (pure functions)."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator

from chalicelib.domain.donation import DisplayStatus, Donation
from chalicelib.domain.model import Model
from chalicelib.domain.text import has_line_break

FrequencyFilter = Literal["one_time", "installment", "monthly", "annual"]
StatusFilter = Literal[DisplayStatus, "paid"]
STATUSES: tuple[str, ...] = get_args(StatusFilter)
MAX_AMOUNT = 10**12 - 1
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
GROSS = "Gross, minor units, inclusive."


def _printable_lower(value: str) -> str:
    """Any case matches: a donor's email is kept lower-cased."""
    if not plain_text(value):
        raise ValueError("must be printable text")
    return value.lower()


DonorEmail = Annotated[
    str,
    Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"),
    AfterValidator(_printable_lower),
]


class GiftFilter(Model):
    """The filters of GET /staff/donations beside its date range, which an export takes too;
    None means any. Any other key is refused. `fund` must be a configured fund when the
    caller passes the allowed ids as validation context "funds" (both routes do; a stored
    export's filters are read back without it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: StatusFilter | None = Field(
        default=None, description="A display status, or paid (every gift whose money was taken)."
    )
    fund: str | None = Field(default=None, max_length=100)
    campaign: str | None = Field(default=None, min_length=1, max_length=200)
    frequency: FrequencyFilter | None = None  # installment: monthly or annual
    email: DonorEmail | None = None
    min_amount: Amount | None = Field(default=None, description=GROSS)
    max_amount: Amount | None = Field(default=None, description=GROSS)

    @field_validator("fund")
    @classmethod
    def _known_fund(cls, value: str | None, info: ValidationInfo) -> str | None:
        funds = (info.context or {}).get("funds")
        if value is not None and funds is not None and value not in funds:
            raise ValueError(f"not a fund; one of: {', '.join(funds)}")
        return value

    @field_validator("campaign")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return one_line(value)

    @field_validator("max_amount")
    @classmethod
    def _amounts(cls, value: int | None, info: ValidationInfo) -> int | None:
        return amounts_in_order(info.data.get("min_amount"), value)

    def gift_filter(self) -> GiftFilter:
        """The filters alone, without what a route adds beside them (dates, cursor, ...)."""
        return GiftFilter.model_construct(**{name: getattr(self, name) for name in GiftFilter.model_fields})

    def scope(self) -> dict[str, str]:
        """The filters that are set, as text: part of a cursor's scope (cursors.py)."""
        values = {name: getattr(self, name) for name in GiftFilter.model_fields}
        return {name: str(value) for name, value in values.items() if value is not None}


def plain_text(value: str) -> bool:
    """Printable text that was valid UTF-8: a decoder puts U+FFFD where it was not."""
    return value.isprintable() and "\ufffd" not in value


def one_line(value: str | None) -> str | None:
    """A filter's free text (a campaign): one line of printable text; ValueError otherwise."""
    if value is not None and (has_line_break(value) or not plain_text(value)):
        raise ValueError("must be one line of printable text")
    return value


def amounts_in_order(low: int | None, high: int | None) -> int | None:
    """The upper bound of an amount range, refused when under the lower one."""
    if high is not None and low is not None and low > high:
        raise ValueError("must not be under min_amount")
    return high


class Totals(Model):
    gross: int = 0
    refunded: int = 0
    net: int = 0  # gross less refunds
    count: int = 0


class CurrencyTotals(Model):
    currency: str
    lifetime: Totals
    year_to_date: Totals


def year_paid(gift: Donation) -> str:
    return (gift.succeeded_at or gift.created_at)[:4]


def donor_totals(gifts: list[Donation], year: str) -> list[CurrencyTotals]:
    """Lifetime and year-to-date totals per currency over the paid gifts (status succeeded,
    whatever happened afterwards); a gift counts in the year it was paid."""
    found: dict[str, CurrencyTotals] = {}
    for gift in gifts:
        if gift.status != "succeeded":
            continue
        entry = found.setdefault(
            gift.currency, CurrencyTotals(currency=gift.currency, lifetime=Totals(), year_to_date=Totals())
        )
        spans = [entry.lifetime] + ([entry.year_to_date] if year_paid(gift) == year else [])
        for totals in spans:
            totals.gross += gift.amount
            totals.refunded += gift.refunded
            totals.net = totals.gross - totals.refunded
            totals.count += 1
    return [found[currency] for currency in sorted(found)]

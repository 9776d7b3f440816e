"""Query and answer shapes of the finance finding routes: the filtered gift list and a
donor's giving history."""

from __future__ import annotations

from typing import Annotated, Literal, get_args
from urllib.parse import unquote

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from chalicelib.api.errors import validation_error
from chalicelib.api.schemas import DonationListQuery
from chalicelib.domain.donation import DisplayStatus, Donation
from chalicelib.domain.finding import (
    CurrencyTotals,
    FrequencyFilter,
    GiftFilter,
    amounts_in_order,
    one_line,
    plain_text,
)
from chalicelib.domain.model import Model

STATUSES: tuple[str, ...] = (*get_args(DisplayStatus), "paid")
StatusFilter = Literal[DisplayStatus, "paid"]
MAX_AMOUNT = 10**12 - 1
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="Minor units, inclusive.")]
EMAIL = Field(default=None, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value is not None else None


class DonationFindQuery(DonationListQuery):
    """GET /staff/donations: gifts created in [from, to] that pass every filter given.
    `fund` must be a configured fund: pass the allowed ids as validation context "funds"."""

    status: StatusFilter | None = Field(
        default=None, description="A display status, or paid (payment status succeeded, whatever came after)."
    )
    fund: str | None = Field(default=None, max_length=100)
    campaign: str | None = Field(default=None, min_length=1, max_length=200)
    frequency: FrequencyFilter | None = Field(
        default=None, description="one_time, installment (monthly or annual), monthly or annual."
    )
    email: str | None = EMAIL
    min_amount: Amount | None = None
    max_amount: Amount | None = None

    @field_validator("fund")
    @classmethod
    def _known_fund(cls, value: str | None, info: ValidationInfo) -> str | None:
        funds = (info.context or {}).get("funds", ())
        if value is not None and value not in funds:
            raise ValueError(f"not a fund; one of: {', '.join(funds)}")
        return value

    @field_validator("campaign")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return one_line(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not plain_text(value):
            raise ValueError("must be printable text")
        return _lower(value)

    @field_validator("max_amount")
    @classmethod
    def _amounts(cls, value: int | None, info: ValidationInfo) -> int | None:
        return amounts_in_order(info.data.get("min_amount"), value)

    def filters(self) -> GiftFilter:
        return GiftFilter(
            status=self.status,
            fund=self.fund,
            campaign=self.campaign,
            frequency=self.frequency,
            email=self.email,
            min_amount=self.min_amount,
            max_amount=self.max_amount,
        )


class DonorQuery(Model):
    """GET /staff/donors/{email}: a page of the donor's gifts, newest first."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class DonorEmail(Model):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not plain_text(value):
            raise ValueError("must be printable text")
        return value.strip().lower()


def parse_donor(raw: str) -> str:
    """The {email} of a donor route (URL-decoded), lower-cased; 422 naming `email` otherwise."""
    try:
        return DonorEmail(email=unquote(raw)).email
    except ValidationError as exc:
        raise validation_error(exc) from None


class DonorHistoryOut(Model):
    email: str
    totals: list[CurrencyTotals] = Field(
        description="Per currency, over paid gifts: gross, refunded and net of refunds, for the"
        " donor's lifetime and for the current year (by the date paid)."
    )
    items: list[Donation]
    cursor: str | None = Field(description="Pass back as cursor for the next page; null at the end.")

"""Query and answer shapes of the finance finding routes: the filtered gift list and a
donor's giving history."""

from __future__ import annotations

from urllib.parse import unquote

from pydantic import ConfigDict, Field, ValidationError

from chalicelib.api.errors import validation_error
from chalicelib.api.schemas import DonationListQuery, DonationOut
from chalicelib.domain.finding import CurrencyTotals, DonorEmail, GiftFilter
from chalicelib.domain.model import Model


class DonationFindQuery(DonationListQuery, GiftFilter):
    """GET /staff/donations: gifts created in [from, to] that pass every filter given (the
    filters are domain/finding's GiftFilter, which an export takes too)."""


class DonorQuery(Model):
    """GET /staff/donors/{email}: a page of the donor's gifts, newest first."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class DonorPath(Model):
    email: DonorEmail


def parse_donor(raw: str) -> str:
    """The {email} of a donor route (URL-decoded), lower-cased; 422 naming `email` otherwise."""
    try:
        return DonorPath(email=unquote(raw)).email
    except ValidationError as exc:
        raise validation_error(exc) from None


class DonorHistoryOut(Model):
    email: str
    totals: list[CurrencyTotals] = Field(
        description="Per currency, over paid gifts: gross, refunded and net of refunds, for the"
        " donor's lifetime and for the current year (by the date paid)."
    )
    items: list[DonationOut]
    cursor: str | None = Field(description="Pass back as cursor for the next page; null at the end.")

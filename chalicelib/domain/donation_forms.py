"""The body of POST /donations read without pydantic, as the visitor forms are
(domain/outreach_forms.py): importing it and building DonationRequest is a large part of the
route's cold start. The reading takes only a body it is sure DonationRequest
(domain/gift_requests.py) would take with the same values: strict types, an amount, currency,
fund and premium the rules allow, names and one-line fields of the model's lengths and
characters, a plain address, a tribute of its own names. Anything else raises Unsure and goes
to the model, which decides and words the 422; the route then makes the same form from the
model's values (donation_form). tests/unit/test_donation_forms.py checks on many bodies that
whatever is read here, the model reads the same, with the same content()."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from chalicelib.domain.donation import DonationRules
from chalicelib.domain.form_reading import (
    Unsure,
    address,
    fields,
    flag,
    header_line,
    model_json,
    one_line,
    read_object,
    text,
)
from chalicelib.domain.records import field_names
from chalicelib.domain.terms import Frequency

__all__ = ["DonationForm", "TributeForm", "Unsure", "donation_form", "read_donation"]
TributeKind = Literal["honor", "memory"]
CURRENCY = re.compile(r"^[a-z]{3}$")


@dataclass(frozen=True, kw_only=True)
class TributeForm:
    """A gift in honor or in memory of someone, and who (if anyone) is told of it."""

    kind: TributeKind
    name: str
    notify_name: str | None = None
    notify_email: str | None = None


@dataclass(frozen=True, kw_only=True)
class DonationForm:
    """What a donor asked for, checked; its fields in DonationRequest's order."""

    amount: int
    currency: str
    frequency: Frequency = "one_time"
    email: str
    first_name: str
    last_name: str
    fund: str
    campaign: str | None = None
    anonymous: bool = False
    cover_fee: bool = False
    tribute: TributeForm | None = None
    premium: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    form_token: str
    honeypot: str = ""

    def content(self) -> str:
        """The request as its idempotency hash reads it: the JSON that DonationRequest writes
        without the form token and honeypot (names in order, no spaces, non-ASCII as it is)."""
        return model_json(self, {"form_token", "honeypot"})


TRIBUTE_NAMES = set(field_names(TributeForm))
DONATION_NAMES = set(field_names(DonationForm))


def read_donation(raw: bytes | str, rules: DonationRules) -> DonationForm:
    """A donation body this reading is sure of, or Unsure."""
    data = read_object(raw, DONATION_NAMES)
    amount = data.get("amount")
    if type(amount) is not int or not rules.min_amount <= amount <= rules.max_amount:
        raise Unsure
    currency = text(data, "currency", None, pattern=CURRENCY)
    fund = text(data, "fund", 64)
    premium = text(data, "premium", 64, default=None)
    if (
        currency not in rules.currencies
        or fund not in rules.fund_ids
        or (premium is not None and rules.premium(premium) is None)
    ):
        raise Unsure
    tribute = data.get("tribute")
    return DonationForm(
        amount=amount,
        currency=currency,
        frequency=_choice(data.get("frequency", "one_time"), Frequency),
        email=address(data, "email"),
        first_name=header_line(data, "first_name", 100, min_length=1),
        last_name=header_line(data, "last_name", 100, min_length=1),
        fund=fund,
        campaign=one_line(data, "campaign", 100, default=None),
        anonymous=flag(data, "anonymous"),
        cover_fee=flag(data, "cover_fee"),
        tribute=None if tribute is None else _tribute(fields(tribute, TRIBUTE_NAMES)),
        premium=premium,
        utm_source=one_line(data, "utm_source", 100, default=None),
        utm_medium=one_line(data, "utm_medium", 100, default=None),
        utm_campaign=one_line(data, "utm_campaign", 100, default=None),
        form_token=text(data, "form_token", 100),
        honeypot=text(data, "honeypot", 200, default=""),
    )


def _tribute(data: dict[str, Any]) -> TributeForm:
    return TributeForm(
        kind=_choice(data.get("kind"), TributeKind),
        name=header_line(data, "name", 100, min_length=1),
        notify_name=header_line(data, "notify_name", 100, min_length=1, default=None),
        notify_email=address(data, "notify_email", default=None),
    )


def _choice(value: Any, literal: Any) -> Any:
    """A Literal's value as it is: the model strips no space from it."""
    if type(value) is not str or value not in get_args(literal):
        raise Unsure
    return value


def donation_form(values: dict[str, Any]) -> DonationForm:
    """The form made from DonationRequest's values (its model_dump()), when the model read it."""
    tribute = values.get("tribute")
    return DonationForm(**{**values, "tribute": TributeForm(**tribute) if tribute else None})

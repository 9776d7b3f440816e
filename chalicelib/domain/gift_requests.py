"""The bodies donors and staff send about gifts: a donation (POST /donations) and a refund
(POST /staff/donations/{id}/refunds). Pydantic allow-lists, built on first use."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from chalicelib.domain.addresses import EmailAddress
from chalicelib.domain.aftermath import RefundReason
from chalicelib.domain.donation import DonationRules
from chalicelib.domain.model import HeaderText, Model
from chalicelib.domain.terms import Frequency
from chalicelib.domain.text import NO_CONTROL_CHARS, ascii_address, has_line_break, header_text

# A donor's name may reach an email header (a receipt's To), so it is header-safe text.
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL_CHARS), HeaderText]


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


NOTE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"  # text with line breaks and tabs


class RefundRequest(Model):
    """The body of POST /staff/donations/{id}/refunds."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    amount: StrictInt | None = Field(
        default=None, gt=0, description="Minor units; default: all that is left to refund."
    )
    reason: RefundReason
    note: str = Field(
        default="", max_length=500, pattern=NOTE_TEXT, description="For the audit; lines allowed."
    )

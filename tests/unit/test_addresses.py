"""The email check: a plain address is accepted without loading email-validator, and every
address gets exactly the answer pydantic's EmailStr with email-validator gives it: the same
normalized address, or the same 422 (type, field, message)."""

from __future__ import annotations

import string
from typing import Any

import email_validator
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import EmailStr, Field, ValidationError
from pydantic.networks import validate_email

from chalicelib.domain import addresses
from chalicelib.domain.gift_requests import DonationRequest, Tribute
from chalicelib.domain.outreach import ContactRequest, SignupRequest
from chalicelib.domain.text import ascii_address

EDGES = [
    "ada@example.org",
    "Ada.Lovelace+gifts@Example.ORG",
    "a_b-c@sub.example.co.uk",
    "x@a.io",
    "1@2.museum",
    "user@123.example.com",
    "a" * 64 + "@example.org",
    "a" * 65 + "@example.org",
    "a@" + "b" * 63 + ".org",
    "a@" + "b" * 64 + ".org",
    "a@" + ".".join(["b" * 60] * 4) + ".org",  # 254 characters long and more
    "a@" + ".".join(["b" * 61] * 4) + ".org",
    "a" * 64 + "@" + ".".join(["b" * 58] * 3) + ".org",
    "a..b@example.org",
    ".a@example.org",
    "a.@example.org",
    "a@example",
    "a@localhost",
    "a@example.test",
    "a@foo.local",
    "a@onion",
    "a@x.onion",
    "a@1.in-addr.arpa",
    "a@xtest.org",
    "a@test.org",
    "a@example.invalid",
    "a@example.123",
    "a@example.c",
    "a@-example.org",
    "a@example-.org",
    "a@ab--cd.org",
    "a@xn--bcher-kva.org",
    "a@xn--bcher-kva.example",
    "a@b\u00fccher.org",
    "\u00fc@example.org",
    "a@example.org.",
    "a@.example.org",
    "a@@example.org",
    "a b@example.org",
    " a@example.org",
    "a@example.org\n",
    "<a@example.org>",
    "Ada <a@example.org>",
    '"a"@example.org',
    "a@[192.0.2.1]",
    "=?utf-8?q?x?=@example.org",
    "a!#$%&'*+/=?^_`{|}~-@example.org",
    "a@example.org\u2028",
    "A@EXAMPLE.ORG",
    "a@ex_ample.org",
    "",
    "@",
    "a@",
    "@example.org",
    "a@example.org@example.org",
]
ADDRESS_CHARS = string.ascii_letters + string.digits + "._+-@!#%'=?~ <>\"[]\u00fc\n"


def _reference(value: str) -> str | None:
    """What EmailStr and the models' own check make of an address, or None if either refuses it."""
    try:
        return ascii_address(validate_email(value)[1])
    except ValueError:  # PydanticCustomError and ValueError alike
        return None


@pytest.mark.parametrize("value", EDGES)
def test_a_plain_address_is_accepted_only_as_email_validator_accepts_it(value: str) -> None:
    plain = addresses.plain_address(value)
    if plain is not None:
        assert plain == _reference(value)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.emails(), st.text(ADDRESS_CHARS, max_size=80)))
@example("Ada@Example.Org")
def test_the_fast_path_never_disagrees_with_email_validator(value: str) -> None:
    plain = addresses.plain_address(value)
    if plain is not None:
        assert plain == _reference(value)
        assert addresses.plain_address(plain) == plain  # normalized once, unchanged after


def test_the_special_use_domains_are_email_validator_s() -> None:
    assert set(addresses.SPECIAL_USE_DOMAINS) == set(email_validator.SPECIAL_USE_DOMAIN_NAMES)


def test_common_addresses_take_the_fast_path() -> None:
    for value in ("ada@example.org", "Ada.Lovelace+gifts@Example.ORG", "a_b-c@sub.example.co.uk"):
        assert addresses.plain_address(value) is not None


class _ContactWithEmailStr(ContactRequest):
    email: EmailStr = Field(max_length=254)


class _SignupWithEmailStr(SignupRequest):
    email: EmailStr = Field(max_length=254)


class _TributeWithEmailStr(Tribute):
    notify_email: EmailStr | None = Field(default=None, max_length=254)


class _DonationWithEmailStr(DonationRequest):
    email: EmailStr = Field(max_length=254)
    tribute: _TributeWithEmailStr | None = None


def _outcome(model: Any, body: dict[str, Any]) -> Any:
    try:
        return ("ok", model.model_validate(body).model_dump())
    except ValidationError as exc:
        return ("422", [(e["type"], e["loc"], e["msg"]) for e in exc.errors()])


CONTACT = {"form_token": "t", "name": "Ada", "topic": "other", "subject": "Hi", "message": "Hello"}
SIGNUP = {"form_token": "t", "name": "Ada"}
DONATION = {
    "amount": 2500,
    "currency": "usd",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "fund": "peace-programs",
    "form_token": "t",
}
MORE = [*EDGES, "  ada@example.org  ", "a" * 300 + "@example.org", 42, None, ["a@example.org"]]


@pytest.mark.parametrize("value", MORE)
def test_the_forms_answer_every_address_as_email_str_did(value: Any) -> None:
    for model, reference, body in (
        (ContactRequest, _ContactWithEmailStr, CONTACT),
        (SignupRequest, _SignupWithEmailStr, SIGNUP),
        (DonationRequest, _DonationWithEmailStr, DONATION),
    ):
        assert _outcome(model, {**body, "email": value}) == _outcome(reference, {**body, "email": value})
    tribute = {
        **DONATION,
        "email": "ada@example.org",
        "tribute": {"kind": "honor", "name": "G", "notify_email": value},
    }
    assert _outcome(DonationRequest, tribute) == _outcome(_DonationWithEmailStr, tribute)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.emails(), st.text(ADDRESS_CHARS, max_size=80)))
def test_the_contact_form_answers_generated_addresses_as_email_str_did(value: str) -> None:
    body = {**CONTACT, "email": value}
    assert _outcome(ContactRequest, body) == _outcome(_ContactWithEmailStr, body)


def test_the_json_schema_still_says_email() -> None:
    assert (
        ContactRequest.model_json_schema()["properties"]["email"]
        == (_ContactWithEmailStr.model_json_schema()["properties"]["email"])
    )

"""The plain reading of the contact and signup forms (chalicelib/domain/outreach_forms.py):
whatever body it takes, the pydantic models take too, with the same values and, for a contact
form, the same digest; and it takes the bodies that visitors send, so that their requests
load no pydantic."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain import outreach_forms as forms
from chalicelib.domain.outreach import ContactRequest, SignupRequest

TOPICS = ["media", "volunteer", "other"]
INTERESTS = ["news", "events", "volunteering"]
CONTACT = {
    "email": "ada@example.org",
    "form_token": "t" * 40,
    "name": "Ada Lovelace",
    "topic": "media",
    "subject": "A question",
    "message": "Hello,\r\nhow do I volunteer?\n\tThanks",
}
SIGNUP = {
    "email": "Grace.Hopper+news@Example.ORG",
    "form_token": "t" * 40,
    "name": "Grace",
    "postal_code": "02139",
    "interests": ["news", "events", "news"],
    "source_page": "https://example.org/news?from=footer",
    "consent_version": "2026-01.v2",
}
# Spaces and near-spaces that the two sides might strip differently, control and format
# characters, a lone surrogate, and characters outside the Basic Multilingual Plane.
ODD = [
    " ",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1f",
    "\x85",
    "\xa0",
    "\u1680",
    "\u180e",
    "\u2000",
    "\u200b",
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
    "\ufeff",
    "\x00",
    "\x7f",
    "\x9f",
    "\ud800",
    "\U0001f600",
    "=?",
    "é",
    "-",
    ".",
    "@",
    "/",
    '"',
    "\\",
]


def as_json(body: Any) -> str:
    return json.dumps(body, ensure_ascii=True)  # ASCII: a lone surrogate travels as \ud800


def _model(model: Any, raw: str, context: dict[str, Any]) -> Any:
    try:
        return model.model_validate_json(raw, context=context)
    except ValidationError:
        return None


def _agrees(raw: str) -> tuple[bool, bool]:
    """Whether the plain reading took the body, for each form. Where it did, the model takes
    it too, with the same values; wherever the model takes a contact form, its digest is the
    one the model's JSON gave."""
    taken = []
    for read, model, form, allowed, key in (
        (forms.read_contact, ContactRequest, forms.ContactForm, TOPICS, "topics"),
        (forms.read_signup, SignupRequest, forms.SignupForm, INTERESTS, "interests"),
    ):
        checked = _model(model, raw, {key: allowed})
        if isinstance(checked, ContactRequest):  # the digest of a form the models read, too
            digest = checked.model_dump_json(exclude={"honeypot"})
            assert forms.ContactForm(**checked.model_dump()).content() == digest, raw
        try:
            plain = read(raw.encode("utf-8", "surrogatepass"), allowed)
        except forms.Unsure:
            taken.append(False)
            continue
        assert checked is not None, f"{model.__name__} refuses what the plain reading took: {raw!r}"
        assert plain == form(**checked.model_dump()), raw
        taken.append(True)
    return taken[0], taken[1]


def test_the_bodies_visitors_send_are_read_without_pydantic() -> None:
    assert _agrees(as_json(CONTACT)) == (True, False)
    assert _agrees(as_json(SIGNUP)) == (False, True)
    assert _agrees(as_json({"email": "a@example.org", "form_token": "x"})) == (False, True)
    assert _agrees(as_json({**CONTACT, "name": "  Zoë \u00d8stergaard  ", "honeypot": ""})) == (True, False)
    assert _agrees(as_json({**SIGNUP, "name": None, "postal_code": None, "interests": []})) == (False, True)


@pytest.mark.parametrize(
    "change",
    [
        {"email": "not an address"},
        {"email": "ü@example.org"},
        {"email": "a@b\u00fccher.org"},
        {"email": 5},
        {"name": None},
        {"name": ""},
        {"name": "a" * 101},
        {"name": "two\u2028lines"},
        {"name": "=?utf-8?b?QQ==?="},
        {"name": "\u3000Ada"},
        {"topic": "taxes"},
        {"subject": "\x85"},
        {"message": "bell\x07"},
        {"message": "x" * 5001},
        {"message": "\ud800"},
        {"honeypot": None},
        {"extra": "x"},
    ],
)
def test_a_contact_form_the_plain_reading_is_unsure_of_goes_to_the_model(change: dict[str, Any]) -> None:
    with pytest.raises(forms.Unsure):
        forms.read_contact(as_json({**CONTACT, **change}).encode(), TOPICS)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b"null",
        b'{"email": "a@example.org", "form_token": "x", "email": "b@example.org"}',
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",
        b'{"email": "a@example.org", "form_token": NaN}',
        b"[" * 100_000,
        b'{"email": "a@example.org", "form_token": "x", "interests": "news"}',
        b'{"email": "a@example.org", "form_token": "x", "interests": ["sports"]}',
        b'{"email": "a@example.org", "form_token": "x", "interests": [' + b'"news",' * 20 + b'"news"]}',
        b'{"email": "a@example.org", "form_token": "x", "source_page": "https://example.org/\xc3\xa9"}',
        b'{"email": "a@example.org", "form_token": "x", "postal_code": "02139 \\u00a0"}',
    ],
)
def test_a_signup_body_the_plain_reading_is_unsure_of_goes_to_the_model(raw: bytes) -> None:
    with pytest.raises(forms.Unsure):
        forms.read_signup(raw, INTERESTS)


def odd_text(max_size: int) -> st.SearchStrategy[str]:
    pieces = st.one_of(st.sampled_from(ODD), st.text(max_size=8), st.sampled_from(["a", "Z", "0", " "]))
    return st.lists(pieces, max_size=max_size).map("".join)


VALUES: st.SearchStrategy[Any] = st.one_of(
    odd_text(12),
    st.sampled_from(
        [None, 0, 1.5, True, [], {}, "", "a" * 100, "a" * 101, "b" * 200, "b" * 201, "c" * 254, "n" * 5000]
    ),
    st.sampled_from(TOPICS + INTERESTS + ["taxes", " media ", "news\n"]),
    st.lists(st.sampled_from([*INTERESTS, "sports", " news", 3, None]), max_size=22),
    st.builds(
        "{}{}@{}{}".format,
        st.sampled_from(["", " ", "\u3000"]),
        st.sampled_from(["ada", "A.b+c", "a..b", "ü", "x" * 65]),
        st.sampled_from(["example.org", "Example.ORG", "bücher.org", "localhost", "a.test"]),
        st.sampled_from(["", " ", "\n", "\xa0"]),
    ),
    st.builds("https://example.org/{}".format, odd_text(6)),
    st.sampled_from(["02139", "SW1A 1AA", "1234567890123", "2026-01.v2", "v 2"]),
)
NAMES = sorted({*CONTACT, *SIGNUP, "honeypot", "extra"})


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from([CONTACT, SIGNUP, {}]),
    changes=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4),
    dropped=st.sets(st.sampled_from(NAMES), max_size=2),
)
@example(base=CONTACT, changes={"name": "\x1cAda"}, dropped=set())
@example(base=CONTACT, changes={"message": "\u2028hi\u2029"}, dropped=set())
@example(base=SIGNUP, changes={"interests": [" news ", "news"]}, dropped=set())
@example(base=SIGNUP, changes={"name": ""}, dropped={"postal_code"})
def test_whatever_the_plain_reading_takes_the_model_takes_the_same(
    base: dict[str, Any], changes: dict[str, Any], dropped: set[str]
) -> None:
    body = {k: v for k, v in {**base, **changes}.items() if k not in dropped}
    _agrees(as_json(body))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list('{}[]":, 0aen\\u') + ODD), max_size=40).map("".join))
def test_any_text_as_a_body_is_read_the_same_or_left_to_the_model(raw: str) -> None:
    _agrees(raw)


MESSAGE = {
    "id": {"S": "01JD000000000000000000000A"},
    "name": {"S": "Ada"},
    "email": {"S": "ada@example.org"},
    "topic": {"S": "media"},
    "subject": {"S": "Hi"},
    "message": {"S": "Hello"},
    "status": {"S": "new"},
    "created_at": {"S": "2026-11-28T10:00:00.000000Z"},
    "updated_at": {"S": "2026-11-28T10:00:00.000000Z"},
    "updated_by": {"NULL": True},
    "pk": {"S": "CONTACT#01JD000000000000000000000A"},
}


@pytest.mark.parametrize(
    "change",
    [
        {"name": {"N": "42"}},
        {"updated_by": {"N": "7"}},
        {"status": {"S": "weird"}},
        {"message": {"NULL": True}},
    ],
)
def test_a_stored_record_of_another_shape_is_refused_where_it_is_read(change: dict[str, Any]) -> None:
    from chalicelib.adapters.dynamo_base import model_from
    from chalicelib.domain.outreach_records import ContactMessage, PendingSignup

    assert model_from(ContactMessage, MESSAGE).name == "Ada"
    with pytest.raises(TypeError):
        model_from(ContactMessage, {**MESSAGE, **change})
    signup = {"id": {"S": "s"}, "subscriber_id": {"S": "x"}, "email": {"S": "a@example.org"}}
    signup |= {"ip_hmac": {"S": "h"}, "created_at": {"S": "t"}, "interests": {"L": [{"S": "news"}]}}
    assert model_from(PendingSignup, signup).interests == ["news"]
    for wrong in ({"interests": {"NULL": True}}, {"attempts": {"BOOL": True}}, {"status": {"S": "done"}}):
        with pytest.raises(TypeError):
            model_from(PendingSignup, {**signup, **wrong})

"""The plain reading of a donation body (chalicelib/domain/donation_forms.py): whatever body it
takes, DonationRequest takes too, with the same values and the same content (the idempotency
hash's input); wherever the model takes a body, the form made from it has the model's content;
and it takes the bodies that donors send, so that their requests load no pydantic."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain import donation_forms as forms
from chalicelib.domain.donation import DonationRules
from chalicelib.domain.gift_requests import DonationRequest
from chalicelib.domain.terms import Premium
from tests.helpers import GIFT as GIFT_BODY
from tests.unit.test_outreach_forms import ODD, as_json, odd_text

RULES = DonationRules(
    currencies=("usd", "eur"),
    min_amount=100,
    max_amount=1_000_000,
    fund_ids=("general", "peace-programs"),
    premiums=(Premium("mug", "A mug", 1500),),
)
GIFT = {**GIFT_BODY, "form_token": "t" * 40}
FULL = {
    **GIFT,
    "frequency": "monthly",
    "email": "Zoe.Not+plain@Example.ORG",
    "first_name": "Zoë",
    "last_name": "Østergaard \U0001f600",
    "campaign": "spring-appeal",
    "anonymous": True,
    "cover_fee": True,
    "tribute": {
        "kind": "memory",
        "name": "Grace Hopper",
        "notify_name": "Ann",
        "notify_email": "Ann@Example.org",
    },
    "premium": "mug",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "=?year-end",
    "honeypot": "",
}
EXCLUDED = {"form_token", "honeypot"}


def _agrees(raw: str) -> bool:
    """Whether the plain reading took the body. Where it did, the model takes it too, with the
    same values and content; wherever the model takes it, the form made from the model's
    values has the model's JSON as its content."""
    try:
        checked = DonationRequest.model_validate_json(raw, context={"rules": RULES})
    except ValidationError:
        checked = None
    if checked is not None:
        made = forms.donation_form(checked.model_dump())
        assert made.content() == checked.model_dump_json(exclude=EXCLUDED), raw
    try:
        plain = forms.read_donation(raw.encode("utf-8", "surrogatepass"), RULES)
    except forms.Unsure:
        return False
    assert checked is not None, f"DonationRequest refuses what the plain reading took: {raw!r}"
    assert plain == forms.donation_form(checked.model_dump()), raw
    assert plain.content() == checked.model_dump_json(exclude=EXCLUDED), raw
    return True


def test_the_bodies_donors_send_are_read_without_pydantic() -> None:
    assert _agrees(as_json(GIFT))
    assert _agrees(as_json(FULL))
    assert _agrees(as_json({**GIFT, "first_name": "  Zoë\t", "tribute": None, "premium": None}))
    assert _agrees(as_json({**FULL, "tribute": {"kind": "honor", "name": "G", "notify_email": None}}))
    assert _agrees(json.dumps({**FULL, "campaign": "Été 2026"}, ensure_ascii=False))
    assert _agrees(as_json({**GIFT, "campaign": "", "utm_source": None, "frequency": "annual"}))


def test_the_form_holds_what_the_gift_is_made_of() -> None:
    form = forms.read_donation(as_json(FULL).encode(), RULES)
    assert form.email == "Zoe.Not+plain@example.org"
    assert form.tribute == forms.TributeForm(
        kind="memory", name="Grace Hopper", notify_name="Ann", notify_email="Ann@example.org"
    )
    assert (form.frequency, form.anonymous, form.cover_fee, form.premium) == ("monthly", True, True, "mug")
    assert json.loads(form.content())["tribute"]["kind"] == "memory"
    assert "form_token" not in form.content() and "honeypot" not in form.content()


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 99},
        {"amount": 1_000_001},
        {"amount": 2500.0},
        {"amount": True},
        {"amount": "2500"},
        {"amount": None},
        {"currency": "gbp"},
        {"currency": "USD"},
        {"currency": " usd\u00a0"},
        {"frequency": " monthly"},
        {"frequency": "weekly"},
        {"frequency": None},
        {"fund": "elsewhere"},
        {"fund": ["general"]},
        {"premium": "hat"},
        {"email": "not an address"},
        {"email": "ü@example.org"},
        {"email": "a@b\u00fccher.org"},
        {"email": None},
        {"first_name": ""},
        {"first_name": "a" * 101},
        {"first_name": "two\u2028lines"},
        {"first_name": "=?utf-8?b?QQ==?="},
        {"last_name": "\u3000Lovelace"},
        {"last_name": "\ud800"},
        {"last_name": None},
        {"campaign": "x" * 101},
        {"campaign": "a\u0085b"},
        {"utm_source": 5},
        {"anonymous": 1},
        {"anonymous": None},
        {"cover_fee": "true"},
        {"tribute": {"kind": "honor"}},
        {"tribute": {"kind": "honour", "name": "G"}},
        {"tribute": {"kind": "honor", "name": "G", "extra": 1}},
        {"tribute": {"kind": "honor", "name": "G", "notify_email": "x"}},
        {"tribute": {"kind": "honor", "name": "G", "notify_name": ""}},
        {"tribute": []},
        {"tribute": "honor"},
        {"form_token": "t" * 101},
        {"form_token": None},
        {"honeypot": None},
        {"honeypot": "h" * 201},
        {"extra": "x"},
    ],
)
def test_a_body_the_plain_reading_is_unsure_of_goes_to_the_model(change: dict[str, Any]) -> None:
    with pytest.raises(forms.Unsure):
        forms.read_donation(as_json({**FULL, **change}).encode(), RULES)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b"null",
        b'{"amount": 2500, "amount": 2600}',
        b'{"tribute": {"kind": "honor", "name": "A", "name": "B"}}',
        b"\xff\xfe{}",
        b"\xef\xbb\xbf{}",
        b'{"amount": NaN}',
        b'{"amount": 1e3}',
        b"[" * 100_000,
    ],
)
def test_a_raw_body_the_plain_reading_is_unsure_of_goes_to_the_model(raw: bytes) -> None:
    with pytest.raises(forms.Unsure):
        forms.read_donation(raw, RULES)


ADDRESSES = st.builds(
    "{}{}@{}{}".format,
    st.sampled_from(["", " ", "\u3000", "\t"]),
    st.sampled_from(["ada", "A.b+c", "a..b", "ü", "x" * 65, '"q"', "a_b-c"]),
    st.sampled_from(
        ["example.org", "Example.ORG", "bücher.org", "localhost", "a.test", "x--y.org", "a.b.co"]
    ),
    st.sampled_from(["", " ", "\n", "\xa0"]),
)
SCALARS: st.SearchStrategy[Any] = st.one_of(
    odd_text(10),
    ADDRESSES,
    st.sampled_from(
        [None, True, False, 0, -1, 1.5, 2500.0, 99, 100, 2500, 1_000_000, 1_000_001, 2**70, [], "", "true"]
    ),
    st.sampled_from(["usd", "eur", "gbp", "USD", " usd ", "usd\n", "general", " general", "peace-programs"]),
    st.sampled_from(["mug", "hat", " mug", "one_time", "monthly", "annual", " annual", "honor", "memory"]),
    st.sampled_from(["a" * 100, "a" * 101, " " + "a" * 100, "t" * 100, "t" * 101, "h" * 200, "h" * 201]),
    st.sampled_from(["x" * 64, "x" * 65, "Grace", "=?", "a\u2028b", "Zoë", "\U0001f600"]),
)
TRIBUTE_NAMES = ["kind", "name", "notify_name", "notify_email", "extra"]
TRIBUTES = st.builds(
    lambda base, changes, dropped: {k: v for k, v in {**base, **changes}.items() if k not in dropped},
    st.sampled_from([{"kind": "honor", "name": "Grace"}, FULL["tribute"], {}]),
    st.dictionaries(st.sampled_from(TRIBUTE_NAMES), SCALARS, max_size=3),
    st.sets(st.sampled_from(TRIBUTE_NAMES), max_size=2),
)
VALUES = st.one_of(SCALARS, TRIBUTES)
NAMES = sorted({*FULL, "extra"})


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from([GIFT, FULL, {}]),
    changes=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4),
    dropped=st.sets(st.sampled_from(NAMES), max_size=2),
)
@example(base=FULL, changes={"first_name": "\x1cAda"}, dropped=set())
@example(base=FULL, changes={"campaign": "\u2028spring\u2029"}, dropped=set())
@example(base=FULL, changes={"tribute": {"kind": "honor", "name": " G\u00a0"}}, dropped=set())
@example(base=GIFT, changes={"amount": 2**70}, dropped=set())
@example(base=GIFT, changes={"email": "\tada@Example.org\n"}, dropped=set())
def test_whatever_the_plain_reading_takes_the_model_takes_the_same(
    base: dict[str, Any], changes: dict[str, Any], dropped: set[str]
) -> None:
    body = {k: v for k, v in {**base, **changes}.items() if k not in dropped}
    _agrees(as_json(body))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list('{}[]":, 0aen\\u') + ODD), max_size=40).map("".join))
def test_any_text_as_a_body_is_read_the_same_or_left_to_the_model(raw: str) -> None:
    _agrees(raw)

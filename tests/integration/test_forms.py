"""Rate limits of the public forms (signups, contact, gifts), per IP and per address, checked
with small limits through the real services against DynamoDB Local. Requests in the other
tests all come from 127.0.0.1, so tests/conftest.py sets the per-IP limits out of their reach."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.domain.errors import RateLimitedError
from chalicelib.domain.tokens import form_token as mint_form_token
from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.helpers import GIFT, Api

Send = Callable[[str, str], Any]


def fake_ip() -> str:
    digits = uuid.uuid4().hex
    return f"2001:db8:{digits[:4]}:{digits[4:8]}::f"


def address() -> str:
    return f"limit-{uuid.uuid4().hex[:10]}@example.org"


def outcomes(send: Send, calls: list[tuple[str, str]]) -> list[str]:
    found = []
    for ip, email in calls:
        try:
            send(ip, email)
            found.append("ok")
        except RateLimitedError as exc:
            assert exc.retry_after > 0
            found.append("429")
    return found


@pytest.fixture
def sender(request: pytest.FixtureRequest, stack: Stack, outreach: Any, repo: Repository, payments: Payments):  # type: ignore[no-untyped-def]
    """A function that sends one form of the given kind, with per-IP and per-address limits of 2."""
    from chalicelib.bootstrap import get_settings
    from chalicelib.domain.donation_forms import donation_form
    from chalicelib.domain.gift_requests import DonationRequest
    from chalicelib.domain.outreach_forms import ContactForm, SignupForm
    from chalicelib.services import contact, donations, signups
    from chalicelib.services.forms import DeclineGuard, DonationScreening, FormRules

    settings = get_settings()
    key = settings.keys
    rules = FormRules(key, time_trap_seconds=2, window_seconds=3600, limit_ip=2, limit_email=2)
    token = mint_form_token(key, int(time.time() * 1000) - 5000)
    kind = request.param

    def signup(ip: str, email: str) -> None:
        body = SignupForm(**{"email": email, "form_token": token})
        signups.subscribe(body, ip, repo=outreach, rules=signups.SignupRules(rules, settings.public_url, 3))

    def message(ip: str, email: str) -> None:
        body = ContactForm(
            **{
                "email": email,
                "form_token": token,
                "name": "Lin",
                "topic": "media",
                "subject": "Hi",
                "message": f"Hello {uuid.uuid4().hex}",
            }
        )
        contact.submit_contact(
            body, ip, repo=outreach, rules=rules, topics={t.id: t for t in settings.topics}
        )

    def gift(ip: str, email: str) -> None:
        guard = DeclineGuard(outreach, key, 3600, 10, ip)
        checked = DonationRequest.model_validate(
            {**GIFT, "email": email, "form_token": token}, context={"rules": settings.donation_rules}
        )
        body = donation_form(checked.model_dump())
        screening = DonationScreening(outreach, rules, guard)
        donations.create_donation(body, None, repo=repo, payments=payments, screening=screening)

    return {"signup": signup, "contact": message, "donation": gift}[kind]


@pytest.mark.parametrize("sender", ["signup", "contact", "donation"], indirect=True)
def test_the_third_submission_from_one_ip_gets_429(sender: Send) -> None:
    ip = fake_ip()
    assert outcomes(sender, [(ip, address()) for _ in range(3)]) == ["ok", "ok", "429"]
    assert outcomes(sender, [(fake_ip(), address())]) == ["ok"]  # another IP has its own bucket


@pytest.mark.parametrize("sender", ["signup", "contact"], indirect=True)
def test_the_third_submission_for_one_address_gets_429(sender: Send) -> None:
    email = address()
    assert outcomes(sender, [(fake_ip(), email) for _ in range(3)]) == ["ok", "ok", "429"]
    assert outcomes(sender, [(fake_ip(), address())]) == ["ok"]


@pytest.mark.parametrize("sender", ["donation"], indirect=True)
def test_gifts_are_not_limited_per_address(sender: Send) -> None:
    """A donor may retry with another card; card testers rotate addresses anyway."""
    email = address()
    assert outcomes(sender, [(fake_ip(), email) for _ in range(3)]) == ["ok", "ok", "ok"]


def test_signups_over_http_answer_429_after_the_address_limit(api: Api, form_token: str) -> None:
    email = address()
    answers = [api.post("/signups", {"email": email, "form_token": form_token}) for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert answers[-1].json()["error"]["code"] == "rate_limited"

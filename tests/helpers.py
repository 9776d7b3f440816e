"""Test helpers: an HTTP client for the stack, Stripe.js's calls, and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import requests

from devstack.stack import Stack

CARD_OK = "4242424242424242"
CARD_DECLINED_AT_CHARGE = "4000000000000341"
CARD_DECLINED_AT_ATTACH = "4000000000000002"
CARD_3DS = "4000002500003155"

# The integration conftest adds a session-wide valid "form_token" (the time trap) before any test.
GIFT: dict[str, Any] = {
    "amount": 2500,
    "currency": "usd",
    "email": "donor@example.org",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "fund": "peace-programs",
}


class Api:
    def __init__(self, stack: Stack) -> None:
        self.base = stack.config.api_url
        self.session = requests.Session()

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> requests.Response:
        data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        return self.session.post(
            self.base + path,
            data=data,
            timeout=30,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def get(self, path: str, token: str | None = None, **params: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.session.get(self.base + path, params=params, headers=headers, timeout=30)


def confirm_card_setup(stack: Stack, client_secret: str, number: str) -> requests.Response:
    """What Stripe.js's confirmCardSetup sends, with the publishable key."""
    setup_intent = client_secret.split("_secret_")[0]
    return requests.post(
        f"{stack.config.stripe_url}/v1/setup_intents/{setup_intent}/confirm",
        json={
            "key": "pk_test_steward_local",
            "use_stripe_sdk": True,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        },
        timeout=30,
    )


def give(api: Api, stack: Stack, card: str = CARD_OK, **overrides: Any) -> tuple[str, requests.Response]:
    """Create a gift, save the card as Stripe.js would, confirm it; returns (id, confirm answer)."""
    created = api.post("/donations", {**GIFT, **overrides})
    assert created.status_code == 201, created.text
    body = created.json()
    assert confirm_card_setup(stack, body["client_secret"], card).status_code == 200
    return body["donation_id"], api.post(f"/donations/{body['donation_id']}/confirm", {})


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header, computed exactly as Stripe does."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def event(
    event_type: str,
    obj: dict[str, Any],
    event_id: str | None = None,
    *,
    api_version: str | None = None,
    created: int | None = None,
) -> bytes:
    """An event envelope around `obj`; with `api_version`, the fields Stripe adds to it."""
    envelope: dict[str, Any] = {
        "id": event_id or f"evt_test_{time.time_ns()}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "data": {"object": obj},
    }
    if api_version is not None:
        envelope.update(
            api_version=api_version,
            livemode=False,
            pending_webhooks=1,
            request={"id": None, "idempotency_key": None},
        )
    return json.dumps(envelope).encode()


def wait_for(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


class Mailbox:
    """The SMTP sink's .eml files, parsed."""

    def __init__(self, stack: Stack) -> None:
        self.folder = stack.mail_dir

    def messages(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            with path.open("rb") as handle:
                found.append(BytesParser(policy=policy.default).parse(handle))
        return found

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if address.lower() in str(m["To"]).lower()]

    def wait_to(self, address: str, count: int = 1, timeout: float = 20.0) -> list[EmailMessage]:
        return wait_for(lambda: (found := self.to(address)) and len(found) >= count and found, timeout)


def plain_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link(message: EmailMessage, path: str) -> str:
    found = re.search(r"(http://\S+" + re.escape(path) + r"\?token=\S+)", plain_text(message))
    assert found, plain_text(message)
    return found.group(1)


def store(repo: Any, donation: Any, expected_version: int) -> None:
    """Write a gift as a test's setup, conditional on its version (one unit of work)."""
    work = repo.unit_of_work()
    work.save_donation(donation, expected_version)
    work.commit()

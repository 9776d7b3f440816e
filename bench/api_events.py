"""Requests as Lambda receives them from API Gateway (REST API, proxy integration), one fresh
request per route family, and paid gifts whose `payment_intent.succeeded` only a webhook can
apply. The benchmarks hand these events to `app.app(event, context)`, Chalice's handler."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

FAMILIES = ("contact", "signup", "config", "health", "donation", "webhook")
SOURCE_IP = "198.51.100.7"  # documentation range
STAGE = "api"
TIME_TRAP_MARGIN_MS = 5000  # form tokens are minted this long ago: past the 2 s time trap


class LambdaContext:
    """The attributes of the Lambda context object that code may read."""

    function_name = "steward-dev"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/steward-dev"
    log_stream_name = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:steward-dev"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def api_event(
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str = SOURCE_IP,
) -> dict[str, Any]:
    """An API Gateway proxy event for a route without path parameters."""
    all_headers = {
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "steward-bench",
        "X-Forwarded-For": source_ip,
        "X-Forwarded-Proto": "https",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "identity": {"sourceIp": source_ip, "userAgent": "steward-bench"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def form_token(env: dict[str, str]) -> str:
    """A form token as GET /config hands out, old enough for the time trap."""
    from chalicelib.config import load_settings
    from chalicelib.domain.tokens import form_token as mint

    return mint(load_settings(env).keys, int(time.time() * 1000) - TIME_TRAP_MARGIN_MS)


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def contact_event(token: str) -> dict[str, Any]:
    n = _unique()
    body = {
        "email": f"visitor-{n}@example.org",
        "form_token": token,
        "name": "Bench Visitor",
        "topic": "other",
        "subject": f"A question {n}",
        "message": f"How do I volunteer? ({n})",
    }
    return api_event("POST", "/contact", json.dumps(body))


def signup_event(token: str) -> dict[str, Any]:
    body = {"email": f"reader-{_unique()}@example.org", "form_token": token, "name": "Bench Reader"}
    return api_event("POST", "/signups", json.dumps(body))


def donation_body(token: str) -> dict[str, Any]:
    return {
        "amount": 2500,
        "currency": "usd",
        "email": f"donor-{_unique()}@example.org",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "fund": "peace-programs",
        "form_token": token,
    }


def donation_event(token: str) -> dict[str, Any]:
    return api_event("POST", "/donations", json.dumps(donation_body(token)))


def webhook_event(payload: bytes, secret: str) -> dict[str, Any]:
    """A Stripe delivery, signed now (the signature is good for 300 s)."""
    from tests.helpers import sign

    headers = {"Stripe-Signature": sign(payload, secret)}
    return api_event("POST", "/webhooks/stripe", payload.decode(), headers, source_ip="3.18.12.63")


def simple_events(env: dict[str, str]) -> dict[str, Callable[[], dict[str, Any]]]:
    """A fresh event for each family that needs no preparation at Stripe."""
    token = form_token(env)
    return {
        "contact": lambda: contact_event(token),
        "signup": lambda: signup_event(token),
        "config": lambda: api_event("GET", "/config"),
        "health": lambda: api_event("GET", "/health"),
        "donation": lambda: donation_event(token),
    }


class PaidGifts:
    """Gifts started through the app whose PaymentIntent was then paid at localstripe, with
    the confirm answer never reaching the app: only `payment_intent.succeeded` can finish
    each, the webhook's full path (read the gift, fetch the fee and net from Stripe, one
    transaction that stores the event with the change). Runs in a process that serves requests
    with `handler`."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]], stack: Any) -> None:
        import stripe

        self.handler = handler
        self.stack = stack
        self.env = stack.app_env()
        self.token = form_token(self.env)
        self.client = stripe.StripeClient(
            self.env["STEWARD_STRIPE_SECRET_KEY"], base_addresses={"api": stack.config.stripe_url}
        )

    def make(self) -> bytes:
        """One paid gift's `payment_intent.succeeded` event, unsigned."""
        from chalicelib.bootstrap import get_payments, get_repository
        from tests.helpers import CARD_OK, confirm_card_setup, event

        answer = self.handler(donation_event(self.token), LambdaContext())
        if answer["statusCode"] != 201:
            raise SystemExit(f"POST /donations answered {answer['statusCode']}: {answer['body']}")
        created = json.loads(answer["body"])
        saved = confirm_card_setup(self.stack, created["client_secret"], CARD_OK)
        if saved.status_code != 200:
            raise SystemExit(f"localstripe refused the card: {saved.text}")
        donation = get_repository().get_donation(created["donation_id"])
        payments = get_payments()
        if donation is None or donation.setup_intent_id is None:
            raise SystemExit("the gift was not stored with its SetupIntent")
        setup = payments.retrieve_setup_intent(donation.setup_intent_id)
        intent = payments.create_payment_intent(donation, setup.payment_method)
        payments.confirm_payment_intent(intent.id)
        paid = self.client.v1.payment_intents.retrieve(intent.id).to_dict()
        return event("payment_intent.succeeded", paid, api_version="2025-03-31.basil")

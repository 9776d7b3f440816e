"""Stripe's 429: tried again with backoff, then a 503 for the caller (stripe-python by itself
retries connection errors, 409 and 5xx, never a 429)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.adapters.stripe_gateway import NETWORK_RETRIES, RATE_LIMIT_RETRIES, RateLimitBackoff


class Answer:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self.content = b"{}"


class Session:
    """Stands in for requests' session: answers the statuses given, in turn (unit test)."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.calls = 0

    def request(self, *args: Any, **kwargs: Any) -> Answer:
        self.calls += 1
        return self.answers.pop(0)


def client(session: Session, sleeps: list[int]) -> RateLimitBackoff:
    made = RateLimitBackoff(timeout=1, session=session)  # type: ignore[arg-type]
    made._sleep_time_seconds = lambda n: sleeps.append(n) or 0.0  # type: ignore[method-assign]
    return made


def call(made: RateLimitBackoff) -> int:
    _, status, _ = made.request_with_retries(
        "get", "https://api.stripe.com/v1/charges/ch_1", {}, None, NETWORK_RETRIES
    )
    return status


def test_a_rate_limited_call_is_tried_again_with_growing_waits() -> None:
    sleeps: list[int] = []
    session = Session(Answer(429), Answer(429), Answer(200))
    assert call(client(session, sleeps)) == 200
    assert session.calls == 3 and sleeps == [1, 2]  # the library's backoff for retry 1, then 2


def test_past_the_cap_the_429_reaches_the_caller() -> None:
    sleeps: list[int] = []
    session = Session(*[Answer(429)] * (RATE_LIMIT_RETRIES + 1))
    assert call(client(session, sleeps)) == 429
    assert session.calls == RATE_LIMIT_RETRIES + 1


@pytest.mark.parametrize("status", [400, 402, 404])
def test_other_client_errors_are_not_retried(status: int) -> None:
    session = Session(Answer(status))
    assert call(client(session, [])) == status and session.calls == 1


def test_stripe_asking_not_to_retry_is_obeyed() -> None:
    session = Session(Answer(429, {"stripe-should-retry": "false"}))
    assert call(client(session, [])) == 429 and session.calls == 1

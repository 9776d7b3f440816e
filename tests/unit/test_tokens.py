"""Keyed tokens: the form time trap and unsubscribe links."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.tokens import (
    check_form_token,
    form_token,
    keyed_hash,
    new_secret_token,
    subscriber_from_unsubscribe_token,
    token_digest,
    unsubscribe_token,
)

KEY = b"k" * 32
NOW = 1_800_000_000_000


def test_time_trap_counts_from_issue() -> None:
    token = form_token(KEY, NOW)
    assert check_form_token(KEY, token, NOW + 1999, 2) == "too_fast"
    assert check_form_token(KEY, token, NOW + 2000, 2) == "ok"
    assert check_form_token(KEY, token, NOW + 25 * 3600 * 1000, 2) == "expired"
    assert check_form_token(b"other" * 7, token, NOW + 5000, 2) == "invalid"


@given(st.text(max_size=80))
def test_no_forged_form_token_passes(text: str) -> None:
    assert check_form_token(KEY, text, NOW, 2) in ("invalid", "expired", "too_fast") or text == form_token(
        KEY, int(text.partition(".")[0])
    )


def test_unsubscribe_tokens_round_trip_and_resist_tampering() -> None:
    subscriber = keyed_hash(KEY, "email", "a@example.org")
    token = unsubscribe_token(KEY, subscriber)
    assert subscriber_from_unsubscribe_token(KEY, token) == subscriber
    other = keyed_hash(KEY, "email", "b@example.org")
    assert subscriber_from_unsubscribe_token(KEY, other + token[64:]) is None
    assert subscriber_from_unsubscribe_token(KEY, token[:-1] + "x") is None
    assert "a@example.org" not in token


def test_secret_tokens_carry_192_random_bits_and_store_only_a_digest() -> None:
    token, digest = new_secret_token()
    assert len(token) == 32 and token_digest(token) == digest and token not in digest
    assert new_secret_token()[0] != token

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
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)  # lone surrogates too
NOW = 1_800_000_000_000


def test_time_trap_counts_from_issue() -> None:
    token = form_token(KEY, NOW)
    assert check_form_token(KEY, token, NOW + 1999, 2) == "too_fast"
    assert check_form_token(KEY, token, NOW + 2000, 2) == "ok"
    assert check_form_token(KEY, token, NOW + 25 * 3600 * 1000, 2) == "expired"
    assert check_form_token(b"other" * 7, token, NOW + 5000, 2) == "invalid"


@given(ANY_TEXT)
def test_any_text_is_a_form_check_never_an_exception(text: str) -> None:
    checks = ("ok", "invalid", "expired", "too_fast")
    assert check_form_token(KEY, text, NOW, 2) in checks
    assert check_form_token(KEY, f"{NOW}.{text}", NOW, 2) in checks


@given(ANY_TEXT)
def test_any_text_is_a_subscriber_or_none_never_an_exception(text: str) -> None:
    assert subscriber_from_unsubscribe_token(KEY, text) is None
    assert subscriber_from_unsubscribe_token(KEY, "a" * 64 + "." + text) is None
    assert subscriber_from_unsubscribe_token(KEY, (text * 64)[:64] + ".x") is None


@given(st.integers(min_value=NOW - 3600_000, max_value=NOW - 2000), st.data())
def test_no_forged_form_token_passes(issued: int, data: st.DataObject) -> None:
    """A genuine token passes; changing any one character of it makes it invalid."""
    token = form_token(KEY, issued)
    assert check_form_token(KEY, token, NOW, 2) == "ok"
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.characters().filter(lambda c: c != token[position]))
    forged = token[:position] + replacement + token[position + 1 :]
    assert check_form_token(KEY, forged, NOW, 2) != "ok"
    assert check_form_token(b"other" * 7, token, NOW, 2) == "invalid"


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

"""Keyed tokens: the form time trap, unsubscribe links, the keyring and its rotation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.tokens import (
    Keyring,
    MasterKey,
    check_form_token,
    email_id,
    form_token,
    hash_ip,
    hkdf_sha256,
    new_secret_token,
    subscriber_from_unsubscribe_token,
    token_digest,
    unsubscribe_token,
)

NOW = 1_800_000_000_000
DAY_MS = 24 * 3600 * 1000
IDENTITY = b"i" * 32
KEYS = Keyring(MasterKey("k1", b"k" * 32), IDENTITY)
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=80)  # lone surrogates too


def rotated(grace_until_ms: int = NOW + DAY_MS) -> Keyring:
    """k2 signs now; k1 still verifies until `grace_until_ms`."""
    old = MasterKey("k1", b"k" * 32, accept_until_ms=grace_until_ms)
    return Keyring(MasterKey("k2", b"n" * 32), IDENTITY, previous=(old,))


def test_time_trap_counts_from_issue() -> None:
    token = form_token(KEYS, NOW)
    assert check_form_token(KEYS, token, NOW + 1999, 2) == "too_fast"
    assert check_form_token(KEYS, token, NOW + 2000, 2) == "ok"
    assert check_form_token(KEYS, token, NOW + 25 * 3600 * 1000, 2) == "expired"
    other = Keyring(MasterKey("k1", b"other" * 7), IDENTITY)
    assert check_form_token(other, token, NOW + 5000, 2) == "invalid"


@given(ANY_TEXT)
def test_any_text_is_a_form_check_never_an_exception(text: str) -> None:
    checks = ("ok", "invalid", "expired", "too_fast")
    assert check_form_token(KEYS, text, NOW, 2) in checks
    assert check_form_token(KEYS, f"k1.{NOW}.{text}", NOW, 2) in checks
    assert check_form_token(KEYS, f"{text}.{NOW}.x", NOW, 2) in checks


@given(ANY_TEXT)
def test_any_text_is_a_subscriber_or_none_never_an_exception(text: str) -> None:
    assert subscriber_from_unsubscribe_token(KEYS, text, NOW) is None
    assert subscriber_from_unsubscribe_token(KEYS, "k1." + "a" * 64 + "." + text, NOW) is None
    assert subscriber_from_unsubscribe_token(KEYS, "k1." + (text * 64)[:64] + ".x", NOW) is None
    assert subscriber_from_unsubscribe_token(KEYS, text + "." + "a" * 64 + ".x", NOW) is None


@given(st.integers(min_value=NOW - 3600_000, max_value=NOW - 2000), st.data())
def test_no_forged_form_token_passes(issued: int, data: st.DataObject) -> None:
    """A genuine token passes; changing any one character of it makes it invalid."""
    token = form_token(KEYS, issued)
    assert check_form_token(KEYS, token, NOW, 2) == "ok"
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.characters().filter(lambda c: c != token[position]))
    forged = token[:position] + replacement + token[position + 1 :]
    assert check_form_token(KEYS, forged, NOW, 2) != "ok"


def test_unsubscribe_tokens_round_trip_and_resist_tampering() -> None:
    subscriber = email_id(KEYS, "a@example.org")
    token = unsubscribe_token(KEYS, subscriber)
    assert subscriber_from_unsubscribe_token(KEYS, token, NOW) == subscriber
    other = email_id(KEYS, "b@example.org")
    assert subscriber_from_unsubscribe_token(KEYS, token.replace(subscriber, other), NOW) is None
    assert subscriber_from_unsubscribe_token(KEYS, token[:-1] + "x", NOW) is None
    assert "a@example.org" not in token


def test_tokens_carry_their_key_id_and_the_previous_key_verifies_until_its_grace_ends() -> None:
    old_form, old_link = form_token(KEYS, NOW), unsubscribe_token(KEYS, "a" * 64)
    assert old_form.startswith("k1.") and old_link.startswith("k1.")
    keys = rotated(grace_until_ms=NOW + DAY_MS)
    assert form_token(keys, NOW).startswith("k2.") and unsubscribe_token(keys, "a" * 64).startswith("k2.")
    assert check_form_token(keys, old_form, NOW + 5000, 2) == "ok"
    assert subscriber_from_unsubscribe_token(keys, old_link, NOW + 5000) == "a" * 64
    assert check_form_token(keys, old_form, NOW + DAY_MS, 2) == "invalid"
    assert subscriber_from_unsubscribe_token(keys, old_link, NOW + DAY_MS) is None
    # A token claiming k2 but signed with k1 is a forgery.
    assert check_form_token(keys, "k2" + old_form[2:], NOW + 5000, 2) == "invalid"


def test_identity_survives_a_rotation_and_ip_keys_do_not() -> None:
    keys = rotated()
    assert email_id(keys, "A@example.org") == email_id(KEYS, "a@example.org")
    assert hash_ip(keys, "203.0.113.9") != hash_ip(KEYS, "203.0.113.9")
    assert "203.0.113.9" not in hash_ip(KEYS, "203.0.113.9")


def test_each_purpose_has_its_own_key() -> None:
    master = KEYS.current
    derived = {master.derive("form"), master.derive("link"), master.derive("ip"), master.secret, IDENTITY}
    assert len(derived) == 5


def test_hkdf_matches_rfc_5869_and_the_cryptography_package() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    # RFC 5869, test case 1
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    expected = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    assert hkdf_sha256(ikm, info, 42, salt).hex() == expected
    for length in (16, 32, 64):
        reference = HKDF(algorithm=hashes.SHA256(), length=length, salt=b"s", info=b"steward/form")
        assert hkdf_sha256(b"master", b"steward/form", length, b"s") == reference.derive(b"master")


def test_secret_tokens_carry_192_random_bits_and_store_only_a_digest() -> None:
    token, digest = new_secret_token()
    assert len(token) == 32 and token_digest(token) == digest and token not in digest
    assert new_secret_token()[0] != token


def test_one_ipv6_network_counts_as_one_client() -> None:
    # A host that holds a /64 can use any of its 2^64 addresses: limits count the /64.
    assert hash_ip(KEYS, "2001:db8:1:2::1") == hash_ip(KEYS, "2001:db8:1:2:ffff:abcd:1:9")
    assert hash_ip(KEYS, "2001:db8:1:2::1") != hash_ip(KEYS, "2001:db8:1:3::1")
    assert hash_ip(KEYS, "::ffff:203.0.113.9") == hash_ip(KEYS, "203.0.113.9")
    assert hash_ip(KEYS, "203.0.113.9") != hash_ip(KEYS, "203.0.113.10")
    assert hash_ip(KEYS, "unknown") == hash_ip(KEYS, "unknown")


@given(ip=st.text(max_size=60))  # what API Gateway reports, or anything else a proxy might
def test_any_source_ip_text_hashes(ip: str) -> None:
    assert len(hash_ip(KEYS, ip)) == 64

"""The keyring as configured: current key, retired keys with their grace period, identity."""

from __future__ import annotations

import pytest

from chalicelib.config import MissingSettingError, load_settings

BASE = {
    "STEWARD_TABLE_NAME": "steward",
    "STEWARD_STRIPE_SECRET_KEY": "sk",
    "STEWARD_STRIPE_PUBLISHABLE_KEY": "pk",
    "STEWARD_STRIPE_WEBHOOK_SECRET": "whsec",
    "STEWARD_JWT_ISSUER": "iss",
    "STEWARD_JWT_AUDIENCE": "aud",
    "STEWARD_JWKS_URL": "http://jwks",
    "STEWARD_PUBLIC_URL": "http://api",
    "STEWARD_SIGNING_KEY": "new-master",
    "STEWARD_SIGNING_KEY_ID": "2026-11",
    "STEWARD_IDENTITY_KEY": "identity",
}


def test_the_keyring_reads_current_previous_and_identity() -> None:
    env = {**BASE, "STEWARD_PREVIOUS_SIGNING_KEYS": "2026-05=old-master=2026-12-31T00:00:00Z"}
    keys = load_settings(env).keys
    assert (keys.current.kid, keys.current.secret, keys.identity) == ("2026-11", b"new-master", b"identity")
    [old] = keys.previous
    assert (old.kid, old.secret, old.accept_until_ms) == ("2026-05", b"old-master", 1798675200000)


@pytest.mark.parametrize(
    "change",
    [
        {"STEWARD_IDENTITY_KEY": ""},
        {"STEWARD_SIGNING_KEY_ID": "has.dot"},
        {"STEWARD_PREVIOUS_SIGNING_KEYS": "2026-11=old=2026-12-31"},  # same id twice
        {"STEWARD_PREVIOUS_SIGNING_KEYS": "k0=old=soon"},
        {"STEWARD_PREVIOUS_SIGNING_KEYS": "k0=old"},
    ],
)
def test_a_bad_keyring_fails_loudly(change: dict[str, str]) -> None:
    with pytest.raises(MissingSettingError):
        load_settings({**BASE, **change})

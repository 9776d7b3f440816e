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


def test_a_base64_master_with_padding_keeps_verifying_after_its_rotation() -> None:
    from chalicelib.domain.tokens import (
        check_form_token,
        form_token,
        subscriber_from_unsubscribe_token,
        unsubscribe_token,
    )

    old_secret = "q3Jv9m0bq8cN1gC8m3y7pZkq0sH1v2x9T4u5w6y7z8A="  # as `openssl rand -base64 32` prints it
    before = load_settings({**BASE, "STEWARD_SIGNING_KEY": old_secret, "STEWARD_SIGNING_KEY_ID": "k1"}).keys
    issued, subscriber_id = 1_800_000_000_000, "ab" * 32
    token, link = form_token(before, issued), unsubscribe_token(before, subscriber_id)

    # The runbook: move `k1=<old secret>=<end of grace>` into the previous keys (a trailing `;` too).
    after = load_settings(
        {**BASE, "STEWARD_PREVIOUS_SIGNING_KEYS": f"k1={old_secret}=2999-01-01T00:00:00Z;"}
    ).keys
    [old] = after.previous
    assert (old.kid, old.secret) == ("k1", old_secret.encode())
    assert check_form_token(after, token, issued + 5000, 2) == "ok"
    assert subscriber_from_unsubscribe_token(after, link, issued) == subscriber_id


def test_the_public_url_is_needed_only_where_a_link_is_written() -> None:
    from chalicelib.services.forms import FormRules
    from chalicelib.services.signups import SignupRules

    settings = load_settings({k: v for k, v in BASE.items() if k != "STEWARD_PUBLIC_URL"})
    assert settings.public_url is None  # the API's own function on AWS runs without it
    form = FormRules(settings.keys, 2, 3600, 20, 5)
    with pytest.raises(MissingSettingError, match="STEWARD_PUBLIC_URL"):
        SignupRules(form, None, 3).link("/signups/confirm?token=t")
    assert SignupRules(form, "http://api", 3).link("/x") == "http://api/x"
    assert load_settings({**BASE, "STEWARD_PUBLIC_URL": "http://api/"}).public_url == "http://api"

"""Secrets come from the environment locally and from Secrets Manager on AWS: each secret is
read once per container, only when a setting it holds is first used."""

from __future__ import annotations

import json

import pytest

from chalicelib.config import MissingSettingError, load_settings

PLAIN = {
    "STEWARD_TABLE_NAME": "steward",
    "STEWARD_JWT_ISSUER": "iss",
    "STEWARD_JWT_AUDIENCE": "aud",
    "STEWARD_JWKS_URL": "http://jwks",
}
ON_AWS = {**PLAIN, "STEWARD_STRIPE_SECRET_ID": "steward/stripe", "STEWARD_APP_SECRET_ID": "steward/app"}
STORED = {
    "steward/stripe": {
        "secret_key": "sk_live_x",
        "publishable_key": "pk_live_x",
        "webhook_secret": "whsec_x",
    },
    "steward/app": {
        "signing_key": "master",
        "signing_key_id": "k2",
        "previous_signing_keys": "k1=old=2999-01-01T00:00:00Z",
        "identity_key": "identity",
    },
}


class FakeSecrets:
    """Counts the reads a container makes, per secret."""

    def __init__(self, stored: dict[str, dict[str, str]]) -> None:
        self.stored = stored
        self.reads: list[str] = []

    def __call__(self, secret_id: str) -> dict[str, str]:
        self.reads.append(secret_id)
        return json.loads(json.dumps(self.stored[secret_id]))


def test_nothing_is_read_until_a_secret_setting_is_used_and_each_secret_only_once() -> None:
    store = FakeSecrets(STORED)
    settings = load_settings(ON_AWS, read_secret=store)
    assert store.reads == []  # loading the settings (every cold start) reads no secret
    assert settings.table_name == "steward" and store.reads == []
    assert settings.keys.current.kid == "k2" and settings.keys.identity == b"identity"
    assert [old.kid for old in settings.keys.previous] == ["k1"]
    assert store.reads == ["steward/app"]  # the form routes never read the Stripe secret
    assert (settings.stripe_secret_key, settings.stripe_webhook_secret) == ("sk_live_x", "whsec_x")
    assert settings.stripe_publishable_key == "pk_live_x"
    for _ in range(3):
        assert settings.keys.current.secret == b"master" and settings.stripe_secret_key == "sk_live_x"
    assert store.reads == ["steward/app", "steward/stripe"]


def test_locally_every_secret_comes_from_the_environment_and_fails_at_once_when_missing() -> None:
    local = {
        **PLAIN,
        "STEWARD_STRIPE_SECRET_KEY": "sk_test",
        "STEWARD_STRIPE_PUBLISHABLE_KEY": "pk_test",
        "STEWARD_STRIPE_WEBHOOK_SECRET": "whsec_test",
        "STEWARD_SIGNING_KEY": "local-master",
        "STEWARD_IDENTITY_KEY": "local-identity",
    }

    def no_secrets_manager(secret_id: str) -> dict[str, str]:
        raise AssertionError(f"read {secret_id}")

    settings = load_settings(local, read_secret=no_secrets_manager)
    assert settings.stripe_secret_key == "sk_test" and settings.keys.current.kid == "k1"
    for missing in ("STEWARD_SIGNING_KEY", "STEWARD_STRIPE_WEBHOOK_SECRET"):
        with pytest.raises(MissingSettingError, match=missing):
            load_settings({k: v for k, v in local.items() if k != missing}, read_secret=no_secrets_manager)


def test_a_secret_without_a_field_fails_naming_the_secret_and_the_field() -> None:
    store = FakeSecrets({**STORED, "steward/stripe": {"secret_key": "sk_live_x"}})
    settings = load_settings(ON_AWS, read_secret=store)
    with pytest.raises(MissingSettingError, match=r"steward/stripe.*webhook_secret"):
        _ = settings.stripe_webhook_secret


def test_a_setting_in_the_environment_wins_over_its_secret() -> None:
    store = FakeSecrets(STORED)
    settings = load_settings({**ON_AWS, "STEWARD_STRIPE_PUBLISHABLE_KEY": "pk_env"}, read_secret=store)
    assert settings.stripe_publishable_key == "pk_env" and store.reads == []

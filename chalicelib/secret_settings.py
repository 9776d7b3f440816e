"""Secret settings: the Stripe keys and the master keys.

Locally each comes from its environment variable, as every other setting does. On AWS the
environment names only the secrets (`STEWARD_STRIPE_SECRET_ID`, `STEWARD_APP_SECRET_ID`);
a secret is read from Secrets Manager the first time a setting it holds is used, and kept for
the container's life. A cold start reads none, a contact form only the app secret, and a
SnapStart snapshot (taken before the first request) holds no secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

ReadSecret = Callable[[str], Mapping[str, str]]

# setting → (variable naming its secret, field of that secret's JSON)
STORED_IN = {
    "STEWARD_STRIPE_SECRET_KEY": ("STEWARD_STRIPE_SECRET_ID", "secret_key"),
    "STEWARD_STRIPE_PUBLISHABLE_KEY": ("STEWARD_STRIPE_SECRET_ID", "publishable_key"),
    "STEWARD_STRIPE_WEBHOOK_SECRET": ("STEWARD_STRIPE_SECRET_ID", "webhook_secret"),
    "STEWARD_SIGNING_KEY": ("STEWARD_APP_SECRET_ID", "signing_key"),
    "STEWARD_SIGNING_KEY_ID": ("STEWARD_APP_SECRET_ID", "signing_key_id"),
    "STEWARD_PREVIOUS_SIGNING_KEYS": ("STEWARD_APP_SECRET_ID", "previous_signing_keys"),
    "STEWARD_IDENTITY_KEY": ("STEWARD_APP_SECRET_ID", "identity_key"),
}
# Fields a secret may leave out: the setting then takes its default.
OPTIONAL = frozenset({"signing_key_id", "previous_signing_keys"})


class SecretSettings:
    """Looks a secret setting up: the environment first, then the secret that holds it."""

    def __init__(self, env: Mapping[str, str], read_secret: ReadSecret | None = None) -> None:
        self._env = env
        self._read_secret = read_secret
        self._secrets: dict[str, Mapping[str, str]] = {}

    @property
    def in_environment(self) -> bool:
        """True where no secret is named (locally): every value comes from the environment."""
        return not any(self._env.get(variable) for variable, _ in STORED_IN.values())

    def get(self, name: str, default: str | None = None) -> str | None:
        if self._env.get(name):
            return self._env[name]
        variable, field = STORED_IN[name]
        secret_id = self._env.get(variable)
        if not secret_id:
            return default
        value = self._secret(secret_id).get(field)
        if value is None and field not in OPTIONAL:
            from chalicelib.config import MissingSettingError

            raise MissingSettingError(f"{name}: the secret {secret_id} has no {field!r}")
        return default if value is None else str(value)

    def make_reader(self) -> ReadSecret:
        """The reader, made once (its client too, reading nothing): SnapStart's init calls it."""
        if self._read_secret is None:
            from chalicelib.adapters.secrets_manager import SecretsManagerReader

            reader = SecretsManagerReader(self._env.get("STEWARD_SECRETS_ENDPOINT") or None)
            reader.make_client()
            self._read_secret = reader
        return self._read_secret

    def _secret(self, secret_id: str) -> Mapping[str, str]:
        if secret_id not in self._secrets:
            self._secrets[secret_id] = self.make_reader()(secret_id)
        return self._secrets[secret_id]

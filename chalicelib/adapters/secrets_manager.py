"""Secrets Manager: a secret's JSON fields, read with one GetSecretValue."""

from __future__ import annotations

import json
from typing import Any


class SecretsError(RuntimeError):
    """A secret could not be read or is not a JSON object of strings."""


class SecretsManagerReader:
    """Reads a secret by name or ARN. The client is made on the first read, so a cold start
    that needs no secret never loads the Secrets Manager model."""

    def __init__(self, endpoint_url: str | None = None, boto3_client: Any = None) -> None:
        self._endpoint_url = endpoint_url
        self._client = boto3_client

    def __call__(self, secret_id: str) -> dict[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.make_client().get_secret_value(SecretId=secret_id)
        except (ClientError, BotoCoreError) as exc:
            raise SecretsError(f"the secret {secret_id} could not be read: {type(exc).__name__}") from exc
        try:
            fields = json.loads(answer.get("SecretString") or "")
        except ValueError as exc:
            raise SecretsError(f"the secret {secret_id} is not JSON") from exc
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise SecretsError(f"the secret {secret_id} is not a JSON object of strings")
        return fields

    def make_client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
            )
            self._client = boto3.client("secretsmanager", endpoint_url=self._endpoint_url, config=config)
        return self._client

"""On AWS the functions read their secrets from Secrets Manager (here moto's server, the one the
stack runs for S3): at first use, once per container, with nothing secret in the environment."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import boto3
import pytest
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.domain.tokens import check_form_token
from devstack.stack import Stack

PLAIN_SECRETS = (
    "STEWARD_STRIPE_SECRET_KEY",
    "STEWARD_STRIPE_PUBLISHABLE_KEY",
    "STEWARD_STRIPE_WEBHOOK_SECRET",
    "STEWARD_SIGNING_KEY",
    "STEWARD_SIGNING_KEY_ID",
    "STEWARD_PREVIOUS_SIGNING_KEYS",
    "STEWARD_IDENTITY_KEY",
)


@pytest.fixture
def secrets_on_aws(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[object, str, str]]:
    client = boto3.client("secretsmanager", endpoint_url=stack.config.s3_url, region_name="us-east-1")
    run = uuid.uuid4().hex[:8]
    stripe_id, app_id = f"steward-{run}/stripe", f"steward-{run}/app"
    client.create_secret(
        Name=stripe_id,
        SecretString=json.dumps(
            {"secret_key": "sk_test_steward_local", "publishable_key": f"pk_{run}", "webhook_secret": "whsec"}
        ),
    )
    client.create_secret(
        Name=app_id,
        SecretString=json.dumps(
            {"signing_key": f"master-{run}", "signing_key_id": "k7", "identity_key": "id"}
        ),
    )
    for name in PLAIN_SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STEWARD_STRIPE_SECRET_ID", stripe_id)
    monkeypatch.setenv("STEWARD_APP_SECRET_ID", app_id)
    monkeypatch.setenv("STEWARD_SECRETS_ENDPOINT", stack.config.s3_url)
    bootstrap.reset()
    yield client, stripe_id, app_id
    monkeypatch.undo()
    bootstrap.reset()


def test_the_api_reads_its_secrets_from_secrets_manager_once_per_container(
    secrets_on_aws: tuple[object, str, str],
) -> None:
    from app import app

    client, stripe_id, app_id = secrets_on_aws
    run = stripe_id.split("/")[0].removeprefix("steward-")
    with Client(app) as local:
        first = json.loads(local.http.get("/config").body)
        assert first["publishable_key"] == f"pk_{run}"
        keys = bootstrap.get_settings().keys
        assert (keys.current.kid, keys.current.secret) == ("k7", f"master-{run}".encode())
        issued = int(first["form_token"].split(".")[1])
        assert check_form_token(keys, first["form_token"], issued + 5000, 2) == "ok"
        # Cached across invocations: the container keeps answering with the secrets gone.
        for secret_id in (stripe_id, app_id):
            client.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)  # type: ignore[attr-defined]
        again = json.loads(local.http.get("/config").body)
        assert again["publishable_key"] == f"pk_{run}" and again["form_token"].startswith("k7.")

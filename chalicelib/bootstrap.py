"""Composition root: each port is built once per Lambda container, on first use.

Tests replace these with `cache_clear()` after changing the environment. Stripe is
imported only by get_payments(), so routes that take no money never load it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.config import Settings, load_settings

if TYPE_CHECKING:
    from chalicelib.api.auth import TokenVerifier
    from chalicelib.services.ports import Payments, Repository


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def get_repository() -> Repository:
    import boto3
    from botocore.config import Config

    from chalicelib.adapters.dynamo import DynamoRepository

    settings = get_settings()
    client = boto3.client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}),
    )
    return DynamoRepository(settings.table_name, client)


@lru_cache(maxsize=1)
def get_payments() -> Payments:
    from chalicelib.adapters.stripe_gateway import StripePayments

    settings = get_settings()
    return StripePayments(
        settings.stripe_secret_key,
        settings.stripe_publishable_key,
        settings.stripe_webhook_secret,
        settings.stripe_api_base,
    )


@lru_cache(maxsize=1)
def get_verifier() -> TokenVerifier:
    from chalicelib.api.auth import TokenVerifier

    settings = get_settings()
    return TokenVerifier(settings.jwks_url, settings.jwt_issuer, settings.jwt_audience, settings.role_claim)


def reset() -> None:
    for getter in (get_settings, get_repository, get_payments, get_verifier):
        getter.cache_clear()

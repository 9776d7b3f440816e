"""Settings read once from the environment. A missing required setting fails loudly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.donation import DonationRules

DEFAULT_FUNDS = (
    "where-needed-most=Where needed most;peace-programs=Peace Programs;health-programs=Health Programs"
)


class MissingSettingError(RuntimeError):
    """A required environment variable is not set."""


@dataclass(frozen=True)
class Fund:
    id: str
    name: str


@dataclass(frozen=True)
class Settings:
    table_name: str
    dynamodb_endpoint: str | None
    stripe_secret_key: str
    stripe_publishable_key: str
    stripe_webhook_secret: str
    stripe_api_base: str | None
    stripe_js_url: str
    currencies: tuple[str, ...]
    min_amount: int
    max_amount: int
    suggested_amounts: tuple[int, ...]
    funds: tuple[Fund, ...]
    jwt_issuer: str
    jwt_audience: str
    jwks_url: str
    role_claim: str
    max_body_bytes: int

    @property
    def donation_rules(self) -> DonationRules:
        return DonationRules(
            currencies=self.currencies,
            min_amount=self.min_amount,
            max_amount=self.max_amount,
            fund_ids=tuple(f.id for f in self.funds),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise MissingSettingError(f"{name} must be set")
    return value


def _parse_funds(text: str) -> tuple[Fund, ...]:
    funds = []
    for part in text.split(";"):
        fund_id, _, name = part.partition("=")
        if not fund_id.strip() or not name.strip():
            raise MissingSettingError(f"STEWARD_FUNDS entry {part!r} is not id=Name")
        funds.append(Fund(fund_id.strip(), name.strip()))
    return tuple(funds)


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    return Settings(
        table_name=_required(env, "STEWARD_TABLE_NAME"),
        dynamodb_endpoint=env.get("STEWARD_DYNAMODB_ENDPOINT") or None,
        stripe_secret_key=_required(env, "STEWARD_STRIPE_SECRET_KEY"),
        stripe_publishable_key=_required(env, "STEWARD_STRIPE_PUBLISHABLE_KEY"),
        stripe_webhook_secret=_required(env, "STEWARD_STRIPE_WEBHOOK_SECRET"),
        stripe_api_base=env.get("STEWARD_STRIPE_API_BASE") or None,
        stripe_js_url=env.get("STEWARD_STRIPE_JS_URL") or "https://js.stripe.com/v3/",
        currencies=tuple(c.strip() for c in env.get("STEWARD_CURRENCIES", "usd").split(",")),
        min_amount=int(env.get("STEWARD_MIN_AMOUNT", "100")),
        max_amount=int(env.get("STEWARD_MAX_AMOUNT", "10000000")),
        suggested_amounts=tuple(
            int(a) for a in env.get("STEWARD_SUGGESTED_AMOUNTS", "2500,5000,10000,25000").split(",")
        ),
        funds=_parse_funds(env.get("STEWARD_FUNDS", DEFAULT_FUNDS)),
        jwt_issuer=_required(env, "STEWARD_JWT_ISSUER"),
        jwt_audience=_required(env, "STEWARD_JWT_AUDIENCE"),
        jwks_url=_required(env, "STEWARD_JWKS_URL"),
        role_claim=env.get("STEWARD_ROLE_CLAIM", "cognito:groups"),
        max_body_bytes=int(env.get("STEWARD_MAX_BODY_BYTES", "16384")),
    )

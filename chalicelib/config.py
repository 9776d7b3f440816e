"""Settings read once from the environment. A missing required setting fails loudly."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.domain.terms import Premium
from chalicelib.domain.tokens import Keyring, MasterKey
from chalicelib.secret_settings import ReadSecret, SecretSettings

if TYPE_CHECKING:  # loaded where a route first asks for them, not with the settings
    from chalicelib.domain.campaigns import Campaign
    from chalicelib.domain.donation import DonationRules
    from chalicelib.domain.receipts import Organization

DEFAULT_FUNDS = (
    "where-needed-most=Where needed most;peace-programs=Peace Programs;health-programs=Health Programs"
)
DEFAULT_TOPICS = (
    "peace-programs=Peace Programs=peace@example.org;health-programs=Health Programs=health@example.org;"
    "donations=Donations and giving=giving@example.org;media=Media=media@example.org;"
    "other=Other=info@example.org"
)
DEFAULT_INTERESTS = "newsletter=Newsletter;peace=Peace Programs;health=Health Programs;events=Events"


class MissingSettingError(RuntimeError):
    """A required environment variable is not set."""


@dataclass(frozen=True)
class Fund:
    """A fund a gift can go to."""

    id: str
    name: str


@dataclass(frozen=True)
class Topic:
    """A contact topic and the program inbox it reaches."""

    id: str
    name: str
    inbox: str


@dataclass(frozen=True)
class Settings:
    """Every setting, read once per container."""

    table_name: str
    dynamodb_endpoint: str | None
    secrets: SecretSettings
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
    jwt_accept_id_tokens: bool
    max_body_bytes: int
    topics: tuple[Topic, ...]
    interests: tuple[Fund, ...]
    public_url: str | None
    org_name: str
    org_legal_name: str
    org_address: str
    org_ein: str | None
    mail_from: str
    mail_transport: str
    smtp_host: str
    smtp_port: int
    rate_window_seconds: int
    rate_limit_ip: int
    rate_limit_email: int
    confirm_sends_per_day: int
    declines_per_ip: int
    time_trap_seconds: int
    donations_per_ip: int
    confirms_per_ip: int
    finance_inbox: str
    premiums: tuple[Premium, ...] = ()
    fee_percent: Decimal = Decimal("2.2")
    fee_fixed: int = 30
    donor_link_days: int = 400
    export_bucket: str | None = None
    s3_endpoint: str | None = None
    allowed_origins: tuple[str, ...] = ()
    site_url: str | None = None
    campaigns: tuple[Campaign, ...] = ()

    @property
    def stripe_secret_key(self) -> str:
        return _required(self.secrets, "STEWARD_STRIPE_SECRET_KEY")

    @property
    def stripe_publishable_key(self) -> str:
        return _required(self.secrets, "STEWARD_STRIPE_PUBLISHABLE_KEY")

    @property
    def stripe_webhook_secret(self) -> str:
        return _required(self.secrets, "STEWARD_STRIPE_WEBHOOK_SECRET")

    @cached_property
    def keys(self) -> Keyring:
        return _keyring(self.secrets)

    @property
    def donation_rules(self) -> DonationRules:
        from chalicelib.domain.donation import DonationRules

        return DonationRules(
            currencies=self.currencies,
            min_amount=self.min_amount,
            max_amount=self.max_amount,
            fund_ids=tuple(f.id for f in self.funds),
            premiums=self.premiums,
            fee_percent=self.fee_percent,
            fee_fixed=self.fee_fixed,
        )

    @property
    def organization(self) -> Organization:
        """The issuer a receipt names; only code that writes receipts asks, and needs the EIN."""
        from chalicelib.domain.receipts import Organization

        if not self.org_ein:
            raise MissingSettingError("STEWARD_ORG_EIN must be set where receipts are written")
        return Organization(self.org_name, self.org_legal_name, self.org_address, self.org_ein)


def _required(env: Mapping[str, str] | SecretSettings, name: str) -> str:
    value = env.get(name)
    if not value:
        raise MissingSettingError(f"{name} must be set")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "false").strip().lower()
    if value not in ("true", "false"):
        raise MissingSettingError(f"{name} must be true or false")
    return value == "true"


def _entries(name: str, text: str, width: int) -> list[list[str]]:
    rows = []
    for part in text.split(";"):
        cells = [c.strip() for c in part.split("=")]
        if len(cells) != width or not all(cells):
            raise MissingSettingError(f"{name} entry {part!r} needs {width} '='-separated parts")
        rows.append(cells)
    return rows


def _parse_funds(text: str, name: str = "STEWARD_FUNDS") -> tuple[Fund, ...]:
    return tuple(Fund(*row) for row in _entries(name, text, 2))


def _utc_ms(name: str, text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise MissingSettingError(f"{name}: {text!r} is not an ISO-8601 time") from exc
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _previous_keys(name: str, text: str) -> list[tuple[str, str, str]]:
    """`id=secret=until;…`. A secret may hold `=` (base64 pads with it): the id ends at the
    first `=` and the end of grace starts after the last. An empty entry is skipped."""
    rows = []
    for part in filter(str.strip, text.split(";")):
        kid, _, rest = part.strip().partition("=")
        secret, _, until = rest.rpartition("=")
        if not (kid and secret and until):
            raise MissingSettingError(f"{name} entry {part!r} needs an id, a secret and an end of grace")
        rows.append((kid, secret, until))
    return rows


def _keyring(env: SecretSettings) -> Keyring:
    """The current master key, the retired ones still in their grace period, the identity key."""
    name = "STEWARD_PREVIOUS_SIGNING_KEYS"
    previous = tuple(
        MasterKey(kid, secret.encode(), _utc_ms(name, until))
        for kid, secret, until in _previous_keys(name, env.get(name) or "")
    )
    current = MasterKey(
        env.get("STEWARD_SIGNING_KEY_ID") or "k1", _required(env, "STEWARD_SIGNING_KEY").encode()
    )
    try:
        return Keyring(current, _required(env, "STEWARD_IDENTITY_KEY").encode(), previous)
    except ValueError as exc:
        raise MissingSettingError(f"STEWARD_SIGNING_KEY_ID, {name}: {exc}") from exc


def _ein(env: Mapping[str, str]) -> str | None:
    value = env.get("STEWARD_ORG_EIN", "").strip()
    if value and not re.fullmatch(r"[0-9]{2}-[0-9]{7}", value):
        raise MissingSettingError("STEWARD_ORG_EIN must be an EIN written NN-NNNNNNN")
    return value or None


def _campaigns(env: Mapping[str, str], currencies: tuple[str, ...]) -> tuple[Campaign, ...]:
    """`id=Title=goal in minor units=currency;…`: the campaigns whose progress is public."""
    name, text = "STEWARD_CAMPAIGNS", env.get("STEWARD_CAMPAIGNS", "").strip()
    if not text:
        return ()
    from chalicelib.domain.campaigns import Campaign, is_campaign_id

    campaigns = []
    for cid, title, goal, currency in _entries(name, text, 4):
        if not is_campaign_id(cid):
            raise MissingSettingError(f"{name}: {cid!r} is not a campaign id (a-z, 0-9 and -, up to 64)")
        if currency not in currencies:
            raise MissingSettingError(f"{name}: {cid} is in {currency!r}, not one of STEWARD_CURRENCIES")
        amount = _minor_units(name, goal)
        if amount == 0:
            raise MissingSettingError(f"{name}: {cid} needs a goal above 0")
        campaigns.append(Campaign(cid, title, amount, currency))
    if len({c.id for c in campaigns}) != len(campaigns):
        raise MissingSettingError(f"{name} names a campaign twice")
    return tuple(campaigns)


def load_settings(env: Mapping[str, str] = os.environ, read_secret: ReadSecret | None = None) -> Settings:
    """Secrets named by the environment are read when first used (chalicelib/secret_settings.py);
    secrets held in the environment itself (locally) are checked here, at once."""
    settings = _settings(env, SecretSettings(env, read_secret))
    if settings.secrets.in_environment:
        _ = (settings.stripe_secret_key, settings.stripe_publishable_key, settings.stripe_webhook_secret)
        _ = settings.keys
    return settings


def _settings(env: Mapping[str, str], secrets: SecretSettings) -> Settings:
    currencies = tuple(c.strip() for c in env.get("STEWARD_CURRENCIES", "usd").split(","))
    return Settings(
        table_name=_required(env, "STEWARD_TABLE_NAME"),
        dynamodb_endpoint=env.get("STEWARD_DYNAMODB_ENDPOINT") or None,
        secrets=secrets,
        stripe_api_base=env.get("STEWARD_STRIPE_API_BASE") or None,
        stripe_js_url=env.get("STEWARD_STRIPE_JS_URL") or "https://js.stripe.com/v3/",
        currencies=currencies,
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
        jwt_accept_id_tokens=_flag(env, "STEWARD_JWT_ACCEPT_ID_TOKENS"),
        max_body_bytes=int(env.get("STEWARD_MAX_BODY_BYTES", "16384")),
        topics=tuple(
            Topic(*row) for row in _entries("STEWARD_TOPICS", env.get("STEWARD_TOPICS", DEFAULT_TOPICS), 3)
        ),
        interests=_parse_funds(env.get("STEWARD_INTERESTS", DEFAULT_INTERESTS), "STEWARD_INTERESTS"),
        public_url=(env.get("STEWARD_PUBLIC_URL") or "").rstrip("/") or None,
        org_name=env.get("STEWARD_ORG_NAME", "Steward Demo Nonprofit"),
        org_legal_name=env.get("STEWARD_ORG_LEGAL_NAME")
        or env.get("STEWARD_ORG_NAME", "Steward Demo Nonprofit"),
        org_address=env.get("STEWARD_ORG_ADDRESS", "453 Freedom Parkway, Atlanta, GA 30307, USA"),
        org_ein=_ein(env),
        mail_from=env.get("STEWARD_MAIL_FROM", "Steward Demo Nonprofit <hello@example.org>"),
        mail_transport=env.get("STEWARD_MAIL_TRANSPORT", "ses"),
        smtp_host=env.get("STEWARD_SMTP_HOST", "127.0.0.1"),
        smtp_port=int(env.get("STEWARD_SMTP_PORT", "1025")),
        rate_window_seconds=int(env.get("STEWARD_RATE_WINDOW_SECONDS", "3600")),
        rate_limit_ip=int(env.get("STEWARD_RATE_LIMIT_IP", "20")),
        rate_limit_email=int(env.get("STEWARD_RATE_LIMIT_EMAIL", "5")),
        confirm_sends_per_day=int(env.get("STEWARD_CONFIRM_SENDS_PER_DAY", "3")),
        declines_per_ip=int(env.get("STEWARD_DECLINES_PER_IP", "10")),
        time_trap_seconds=int(env.get("STEWARD_TIME_TRAP_SECONDS", "2")),
        donations_per_ip=int(env.get("STEWARD_DONATIONS_PER_IP", "20")),
        confirms_per_ip=int(env.get("STEWARD_CONFIRMS_PER_IP", "60")),
        finance_inbox=env.get("STEWARD_FINANCE_INBOX", "finance@example.org"),
        premiums=_premiums(env.get("STEWARD_PREMIUMS", "")),
        fee_percent=_fee_percent(env.get("STEWARD_FEE_PERCENT", "2.2")),
        fee_fixed=_minor_units("STEWARD_FEE_FIXED", env.get("STEWARD_FEE_FIXED", "30")),
        donor_link_days=int(env.get("STEWARD_DONOR_LINK_DAYS", "400")),
        export_bucket=env.get("STEWARD_EXPORT_BUCKET") or None,
        s3_endpoint=env.get("STEWARD_S3_ENDPOINT") or None,
        allowed_origins=_origins(env.get("STEWARD_ALLOWED_ORIGINS", "")),
        site_url=_site_url(env.get("STEWARD_SITE_URL", "")),
        campaigns=_campaigns(env, currencies),
    )


def _premiums(text: str) -> tuple[Premium, ...]:
    if not text:
        return ()
    return tuple(
        Premium(pid, name, _minor_units("STEWARD_PREMIUMS", value))
        for pid, name, value in _entries("STEWARD_PREMIUMS", text, 3)
    )


def _origins(text: str) -> tuple[str, ...]:
    """Comma-separated browser origins (scheme, host, port; a trailing slash is dropped)."""
    origins = []
    for part in filter(None, (p.strip().rstrip("/").lower() for p in text.split(","))):
        if not re.fullmatch(r"https?://[^/\s?#@*]+", part):
            raise MissingSettingError(
                f"STEWARD_ALLOWED_ORIGINS: {part!r} is not an origin like https://www.example.org"
            )
        origins.append(part)
    return tuple(origins)


def _site_url(text: str) -> str | None:
    """The organization's website, where the forms are embedded; a page's way back."""
    if text and not re.fullmatch(r"https?://[^\s\"'<>#]+", text):
        raise MissingSettingError(f"STEWARD_SITE_URL: {text!r} is not an http(s) URL without a fragment")
    return text or None


def _minor_units(name: str, text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise MissingSettingError(f"{name}: {text!r} is not a whole number of minor units")
    return int(text)


def _fee_percent(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError as exc:
        raise MissingSettingError(f"STEWARD_FEE_PERCENT: {text!r} is not a number") from exc
    if not Decimal(0) <= value < Decimal(50):
        raise MissingSettingError("STEWARD_FEE_PERCENT must be at least 0 and below 50")
    return value

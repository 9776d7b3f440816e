"""Composition root: each port is built once per Lambda container, on first use.

Tests replace these with `cache_clear()` after changing the environment. Stripe is
imported only by get_payments(), so routes that take no money never load it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings, load_settings

if TYPE_CHECKING:
    from chalicelib.adapters.dynamo_health import DynamoHealth
    from chalicelib.api.auth import TokenVerifier
    from chalicelib.services.donations import Money
    from chalicelib.services.exports import ExportPorts
    from chalicelib.services.forms import DeclineGuard, DonationScreening, FormRules
    from chalicelib.services.ports import Ledger, Mailer, OutreachRepository, Payments, Repository, StaffLog
    from chalicelib.services.receipts import GiftMail
    from chalicelib.services.signups import SignupRules
    from chalicelib.services.totals import TotalsStore


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def _dynamodb_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=get_settings().dynamodb_endpoint,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}),
    )


@lru_cache(maxsize=1)
def get_repository() -> Repository:
    from chalicelib.adapters.dynamo import DynamoRepository

    return DynamoRepository(get_settings().table_name, _dynamodb_client())


@lru_cache(maxsize=1)
def get_health_check() -> DynamoHealth:
    """What GET /health reads: the table, without loading the repositories' models."""
    from chalicelib.adapters.dynamo_health import DynamoHealth

    return DynamoHealth(get_settings().table_name, _dynamodb_client())


@lru_cache(maxsize=1)
def get_totals_store() -> TotalsStore:
    from chalicelib.adapters.dynamo_totals import DynamoTotals

    return DynamoTotals(get_settings().table_name, _dynamodb_client())


@lru_cache(maxsize=1)
def get_outreach_repository() -> OutreachRepository:
    from chalicelib.adapters.dynamo_outreach import DynamoOutreachRepository

    return DynamoOutreachRepository(get_settings().table_name, _dynamodb_client())


@lru_cache(maxsize=1)
def get_staff_log() -> StaffLog:
    from chalicelib.adapters.dynamo_audit import DynamoStaffLog

    return DynamoStaffLog(get_settings().table_name, _dynamodb_client())


@lru_cache(maxsize=1)
def get_mailer() -> Mailer:
    from chalicelib.adapters.mailer import Org, SesMailer, SmtpMailer

    settings = get_settings()
    org = Org(
        settings.org_name, settings.org_address, settings.mail_from, settings.org_legal_name, settings.org_ein
    )
    if settings.mail_transport == "smtp":
        return SmtpMailer(org, settings.smtp_host, settings.smtp_port)
    import boto3
    from botocore.config import Config

    # Bounded well inside the 25 s Lambda timeout: a hung call fails as transient, with its
    # reason recorded, instead of the handler being killed while it holds the item's lease.
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
    return SesMailer(org, boto3.client("sesv2", config=config))


@lru_cache(maxsize=1)
def get_form_rules() -> FormRules:
    from chalicelib.services.forms import FormRules

    s = get_settings()
    return FormRules(s.keys, s.time_trap_seconds, s.rate_window_seconds, s.rate_limit_ip, s.rate_limit_email)


@lru_cache(maxsize=1)
def get_signup_rules() -> SignupRules:
    from chalicelib.services.signups import SignupRules

    settings = get_settings()
    return SignupRules(get_form_rules(), settings.public_url, settings.confirm_sends_per_day)


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
def get_gift_mail() -> GiftMail:
    """Writes the receipts and notices money sends (links only where the public URL is set)."""
    from chalicelib.services.receipts import DonorLinks, GiftMail

    s = get_settings()
    org = s.organization
    links = DonorLinks(s.keys, s.public_url, s.donor_link_days) if s.public_url else None
    return GiftMail(org, {f.id: f.name for f in s.funds}, s.finance_inbox, links)


@lru_cache(maxsize=1)
def get_export_ports() -> ExportPorts:
    """The export jobs' table records, the gifts they read and the S3 bucket they write."""
    import boto3
    from botocore.config import Config

    from chalicelib.adapters.dynamo_exports import DynamoExportRepository
    from chalicelib.adapters.s3_exports import S3ExportStore
    from chalicelib.config import MissingSettingError
    from chalicelib.services.exports import ExportPorts

    settings = get_settings()
    if not settings.export_bucket:
        raise MissingSettingError("STEWARD_EXPORT_BUCKET must be set where exports run")
    # Links are signed with SigV4; a local S3-compatible server is addressed path-style, AWS
    # virtual-hosted (its default).
    s3_config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if settings.s3_endpoint else "virtual"},
        connect_timeout=2,
        read_timeout=30,
        retries={"mode": "standard", "max_attempts": 3},
    )
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint, config=s3_config)
    return ExportPorts(
        DynamoExportRepository(settings.table_name, _dynamodb_client()),
        get_repository(),
        S3ExportStore(settings.export_bucket, s3),
    )


def get_money() -> Money:
    from chalicelib.services.donations import Money

    return Money(get_repository(), get_payments(), get_gift_mail())


@lru_cache(maxsize=1)
def get_ledger() -> Ledger:
    """Stripe's books (payouts, balance transactions, events), on the payments client."""
    from chalicelib.adapters.stripe_ledger import StripeLedger

    return StripeLedger(get_payments().client)  # type: ignore[attr-defined]


@lru_cache(maxsize=1)
def get_verifier() -> TokenVerifier:
    from chalicelib.api.auth import TokenVerifier

    settings = get_settings()
    return TokenVerifier(
        settings.jwks_url,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.role_claim,
        settings.jwt_accept_id_tokens,
    )


def get_decline_guard(source_ip: str) -> DeclineGuard:
    """Per request: counts declined cards from this IP (card-testing brake)."""
    from chalicelib.services.forms import DeclineGuard

    s = get_settings()
    return DeclineGuard(
        get_outreach_repository(),
        s.keys,
        s.rate_window_seconds,
        s.declines_per_ip,
        source_ip,
        s.finance_inbox,
        s.confirms_per_ip,
    )


def get_donation_screening(source_ip: str) -> DonationScreening:
    """Per request: the time trap, honeypot and per-IP limit a new gift passes."""
    from dataclasses import replace

    from chalicelib.services.forms import DonationScreening

    rules = replace(get_form_rules(), limit_ip=get_settings().donations_per_ip)
    return DonationScreening(get_outreach_repository(), rules, get_decline_guard(source_ip))


def reset() -> None:
    for getter in (
        get_settings,
        _dynamodb_client,
        get_repository,
        get_health_check,
        get_totals_store,
        get_outreach_repository,
        get_staff_log,
        get_mailer,
        get_form_rules,
        get_signup_rules,
        get_payments,
        get_gift_mail,
        get_ledger,
        get_verifier,
        get_export_ports,
    ):
        getter.cache_clear()

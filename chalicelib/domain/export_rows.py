"""The columns of the gifts CSV, as an accountant or a CRM import reads them. Every amount
is in minor units of the column's currency (`currency`, or `settlement_currency` for fee
and net); every time is UTC ISO-8601."""

from __future__ import annotations

from chalicelib.domain.donation import Donation
from chalicelib.domain.spreadsheet import cell

COLUMNS = (
    "donation_id",
    "stripe_payment_intent_id",
    "stripe_charge_id",
    "stripe_invoice_id",
    "stripe_subscription_id",
    "stripe_customer_id",
    "created_at",
    "paid_at",
    "status",
    "display_status",
    "first_name",
    "last_name",
    "email",
    # Gifts store no postal address (the donation form does not ask for one); the column is
    # kept, empty, so a CRM import mapping stays the same when it does.
    "address",
    "fund",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "frequency",
    "plan_id",
    "currency",
    "gross",
    "covered_fee",
    "fee",
    "net",
    "settlement_currency",
    "refunded",
    "net_after_refunds",
    "dispute",
    "anonymous",
    "tribute_kind",
    "tribute_name",
    "premium",
    "premium_value",
    "deductible_amount",
    "receipt_number",
)


def donation_row(
    gift: Donation, subscription_id: str | None = None, customer_id: str | None = None
) -> list[str]:
    values = (
        gift.id,
        gift.payment_intent_id,
        gift.charge_id,
        gift.invoice_id,
        subscription_id,
        customer_id,
        gift.created_at,
        gift.succeeded_at,
        gift.status,
        gift.display_status,
        gift.first_name,
        gift.last_name,
        gift.email,
        None,
        gift.fund,
        gift.campaign,
        gift.utm_source,
        gift.utm_medium,
        gift.utm_campaign,
        gift.frequency,
        gift.recurring_id,
        gift.currency,
        gift.amount,
        gift.covered_fee,
        gift.fee,
        gift.net,
        gift.settlement_currency,
        gift.refunded,
        gift.net_after_refunds,
        gift.dispute,
        gift.anonymous,
        gift.tribute_kind,
        gift.tribute_name,
        gift.premium_name,
        gift.premium_value or None,
        gift.deductible_amount,
        gift.receipt_number,
    )
    return [cell(v) for v in values]

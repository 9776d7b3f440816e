"""Stripe webhooks: the raw body and its signature go straight to the service."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.errors import json_errors
from chalicelib.bootstrap import get_gift_mail, get_payments, get_repository

bp = Blueprint(__name__)


@bp.route("/webhooks/stripe", methods=["POST"])
@json_errors
def stripe_webhook() -> dict[str, Any]:
    from chalicelib.services.webhooks import handle_stripe_event

    request = bp.current_request
    raw = request.raw_body
    return handle_stripe_event(
        raw if isinstance(raw, bytes) else raw.encode(),
        request.headers.get("stripe-signature"),
        repo=get_repository(),
        payments=get_payments(),
        mail=get_gift_mail(),
    )

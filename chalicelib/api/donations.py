"""Donor routes: start a gift (one-time, monthly or annual), then confirm it once Stripe.js
saved the card."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.errors import json_errors
from chalicelib.api.public import PUBLIC_CORS
from chalicelib.api.requests import header, parse_body, path_id, source_ip
from chalicelib.bootstrap import (
    get_decline_guard,
    get_donation_screening,
    get_gift_mail,
    get_payments,
    get_repository,
    get_settings,
)

bp = Blueprint(__name__)


@bp.route("/donations", methods=["POST"], cors=PUBLIC_CORS)
@json_errors
def create_donation() -> Response:
    from chalicelib.domain import donation_forms as forms
    from chalicelib.services import donations

    request = bp.current_request
    rules = get_settings().donation_rules
    try:  # a body the plain reading is sure of loads no pydantic (domain/donation_forms.py)
        body = forms.read_donation(request.raw_body or b"", rules)
    except forms.Unsure:
        from chalicelib.domain.gift_requests import DonationRequest

        checked = parse_body(request, DonationRequest, {"rules": rules})
        body = forms.donation_form(checked.model_dump())
    created = donations.create_donation(
        body,
        header(request, "Idempotency-Key"),
        repo=get_repository(),
        payments=get_payments(),
        screening=get_donation_screening(source_ip(request)),
        rules=rules,
    )
    return Response(body=asdict(created), status_code=201)


@bp.route("/donations/{donation_id}/confirm", methods=["POST"], cors=PUBLIC_CORS)
@json_errors
def confirm_donation(donation_id: str) -> dict[str, Any]:
    from chalicelib.api.schemas import ConfirmIn
    from chalicelib.services import donations

    request = bp.current_request
    parse_body(request, ConfirmIn)
    result = donations.confirm_donation(
        path_id(donation_id),
        repo=get_repository(),
        payments=get_payments(),
        guard=get_decline_guard(source_ip(request)),
        mail=get_gift_mail(),
    )
    return asdict(result)

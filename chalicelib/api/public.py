"""Routes anyone may call that take no money: health, form config, the API document."""

from __future__ import annotations

from typing import Any, get_args

from chalice.app import Blueprint, Response

from chalicelib.api import cors
from chalicelib.api.errors import json_errors
from chalicelib.bootstrap import get_health_check, get_settings

bp = Blueprint(__name__)
# No CORSConfig: it names one fixed origin. The public routes answer the origins in
# STEWARD_ALLOWED_ORIGINS through chalicelib/api/cors.py: the middleware and the OPTIONS views below.
PUBLIC_CORS = None
bp.register_middleware(cors.add_origin, "http")


@bp.route("/donations", methods=["OPTIONS"])
def donations_preflight() -> Response:
    return cors.preflight(bp.current_request)


@bp.route("/donations/{donation_id}/confirm", methods=["OPTIONS"])
def confirm_preflight(donation_id: str) -> Response:
    return cors.preflight(bp.current_request)


@bp.route("/signups", methods=["OPTIONS"])
def signups_preflight() -> Response:
    return cors.preflight(bp.current_request)


@bp.route("/contact", methods=["OPTIONS"])
def contact_preflight() -> Response:
    return cors.preflight(bp.current_request)


@bp.route("/health", methods=["GET"])
@json_errors
def health() -> dict[str, Any]:
    get_health_check().ping()
    return {"status": "ok"}


@bp.route("/config", methods=["GET"], cors=PUBLIC_CORS)
@json_errors
def config() -> dict[str, Any]:
    from chalicelib.api.outreach import config_fields
    from chalicelib.domain.terms import Frequency

    settings = get_settings()
    return {
        "publishable_key": settings.stripe_publishable_key,
        "stripe_js_url": settings.stripe_js_url,
        "currencies": list(settings.currencies),
        "min_amount": settings.min_amount,
        "max_amount": settings.max_amount,
        "suggested_amounts": list(settings.suggested_amounts),
        "funds": [{"id": f.id, "name": f.name} for f in settings.funds],
        "frequencies": list(get_args(Frequency)),
        "premiums": [{"id": p.id, "name": p.name, "value": p.value} for p in settings.premiums],
        # cover the fee: charged = ceil((amount + fee_fixed) / (1 - fee_percent / 100))
        "fee_percent": float(settings.fee_percent),
        "fee_fixed": settings.fee_fixed,
        **config_fields(),
    }


@bp.route("/openapi.json", methods=["GET"], cors=PUBLIC_CORS)
@json_errors
def openapi() -> dict[str, Any]:
    from chalicelib.api.openapi import document

    return document()

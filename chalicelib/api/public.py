"""Routes anyone may call that take no money: health, form config, the API document."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, CORSConfig

from chalicelib.api.errors import json_errors
from chalicelib.bootstrap import get_repository, get_settings

bp = Blueprint(__name__)
PUBLIC_CORS = CORSConfig(allow_origin="*", allow_headers=["Idempotency-Key"], max_age=600)


@bp.route("/health", methods=["GET"])
@json_errors
def health() -> dict[str, Any]:
    get_repository().ping()
    return {"status": "ok"}


@bp.route("/config", methods=["GET"], cors=PUBLIC_CORS)
@json_errors
def config() -> dict[str, Any]:
    from chalicelib.api.outreach import config_fields

    settings = get_settings()
    return {
        "publishable_key": settings.stripe_publishable_key,
        "stripe_js_url": settings.stripe_js_url,
        "currencies": list(settings.currencies),
        "min_amount": settings.min_amount,
        "max_amount": settings.max_amount,
        "suggested_amounts": list(settings.suggested_amounts),
        "funds": [{"id": f.id, "name": f.name} for f in settings.funds],
        **config_fields(),
    }


@bp.route("/openapi.json", methods=["GET"], cors=PUBLIC_CORS)
@json_errors
def openapi() -> dict[str, Any]:
    from chalicelib.api.openapi import document

    return document()

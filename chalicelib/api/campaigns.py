"""GET /campaigns/{campaign_id}: a public campaign's goal, amount raised and donor count, for a
progress bar on any of the organization's pages. No names, no addresses; cached for 30 s."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.errors import json_errors
from chalicelib.api.public import PUBLIC_CORS
from chalicelib.bootstrap import get_settings, get_totals_store

bp = Blueprint(__name__)
CACHE: dict[str, str | list[str]] = {"Cache-Control": "public, max-age=30"}


@bp.route("/campaigns/{campaign_id}", methods=["GET"], cors=PUBLIC_CORS)
@json_errors
def campaign(campaign_id: str) -> Response:
    from chalicelib.services.campaigns import campaign_progress

    found = campaign_progress(campaign_id, campaigns=get_settings().campaigns, store=get_totals_store())
    return Response(body=found.as_dict(), status_code=200, headers=dict(CACHE))

"""Staff routes: each needs a verified bearer token holding the role that owns it."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.auth import requires_role
from chalicelib.api.errors import json_errors
from chalicelib.api.requests import parse_query, path_id
from chalicelib.api.schemas import DonationListQuery
from chalicelib.bootstrap import get_repository
from chalicelib.services import donations

bp = Blueprint(__name__)
FINANCE = ("finance", "admin")


def _request() -> Any:
    return bp.current_request


@bp.route("/staff/donations", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def list_donations() -> dict[str, Any]:
    query = parse_query(bp.current_request, DonationListQuery)
    start, end = query.bounds
    page = donations.list_donations(start, end, query.limit, query.cursor, repo=get_repository())
    return {"items": [d.model_dump() for d in page.items], "cursor": page.cursor}


@bp.route("/staff/donations/{donation_id}", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def get_donation(donation_id: str) -> dict[str, Any]:
    return donations.get_donation(path_id(donation_id), repo=get_repository()).model_dump()

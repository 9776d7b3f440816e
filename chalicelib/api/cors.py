"""CORS for the public routes: only the origins in STEWARD_ALLOWED_ORIGINS may call them
from a browser, and each is answered with its own origin.

Chalice's CORSConfig sends one fixed origin, and the preflight API Gateway generates from it
is fixed too. So the public routes take no CORSConfig: each path a browser posts to declares
its own OPTIONS view (`preflight`), and `add_origin` names the caller's origin on every answer
of a public route, errors included, so a page can show the fields a 422 names."""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Request, Response

from chalicelib.api.errors import error_response

PUBLIC_PATHS = frozenset(
    {
        "/config",
        "/openapi.json",
        "/campaigns/{campaign_id}",
        "/donations",
        "/donations/{donation_id}/confirm",
        "/signups",
        "/contact",
    }
)
ALLOW_HEADERS = "Content-Type,Idempotency-Key"
MAX_AGE = "600"


def allowed_origin(request: Request) -> str | None:
    """The request's Origin when it is one the settings allow, else None."""
    from chalicelib.bootstrap import get_settings

    origin = (request.headers.get("origin") or "").lower()
    return origin if origin in get_settings().allowed_origins else None


def preflight(request: Request) -> Response:
    """The answer to a browser's OPTIONS: 200 naming the origin, or 403 naming `Origin`."""
    origin = allowed_origin(request)
    if origin is None:
        return error_response(
            403,
            "origin_not_allowed",
            "this origin may not call the API from a browser",
            [{"field": "Origin", "message": "is not an allowed origin"}],
            {"Vary": "Origin"},
        )
    headers: dict[str, str | list[str]] = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
        "Vary": "Origin",
    }
    return Response(body="", status_code=200, headers=headers)


def add_origin(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: a public route's answer names an allowed caller's origin."""
    response = get_response(event)
    if (event.context or {}).get("resourcePath") in PUBLIC_PATHS and event.method != "OPTIONS":
        response.headers["Vary"] = "Origin"
        origin = allowed_origin(event)
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
    return response

"""The one place where errors become HTTP answers. No traceback ever reaches a client."""

from __future__ import annotations

import binascii
import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chalice.app import Request, Response

from chalicelib.domain import errors as domain

if TYPE_CHECKING:
    from pydantic import ValidationError

log = logging.getLogger("steward")

STATUS: dict[type[domain.StewardError], tuple[int, str]] = {
    domain.ValidationFailedError: (422, "validation_error"),
    domain.UnsupportedMediaTypeError: (415, "unsupported_media_type"),
    domain.PayloadTooLargeError: (413, "payload_too_large"),
    domain.NotFoundError: (404, "not_found"),
    domain.IdempotencyKeyReusedError: (422, "idempotency_key_reused"),
    domain.ConflictError: (409, "conflict"),
    domain.RateLimitedError: (429, "rate_limited"),
    domain.InvalidSignatureError: (400, "invalid_signature"),
    domain.UnauthorizedError: (401, "unauthorized"),
    domain.ForbiddenError: (403, "forbidden"),
    domain.ConcurrentUpdateError: (409, "conflict"),
    domain.UpstreamError: (503, "unavailable"),
}
CHALICE_CODES = {405: "method_not_allowed", 415: "unsupported_media_type", 500: "internal_error"}
BODY_METHODS = {"POST", "PUT", "PATCH"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Routes that browsers and mail clients post forms to (RFC 8058 one-click unsubscribe, and
# the donor's cancel button).
FORM_ROUTES = {
    "/unsubscribe": FORM_TYPES,
    "/signups/confirm": FORM_TYPES,
    "/donor/recurring/{recurring_id}/cancel": FORM_TYPES,
}
# Every staff answer (errors too) carries donor data or says who may see it: never cached,
# never content-sniffed.
STAFF_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


# What an unknown route answers: API Gateway's MISSING_AUTHENTICATION_TOKEN response in
# infra/resources.json, and devstack/api_server.py locally. The gateway cannot tell a
# /staff/ path from another, so every such answer carries the staff headers.
NO_ROUTE_HEADERS = STAFF_HEADERS
NO_ROUTE = {
    "error": {
        "code": "not_found",
        "message": "no such route",
        "fields": [{"field": "path", "message": "no route matches this path"}],
    }
}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, str]] | None = None,
    headers: Mapping[str, str | list[str]] | None = None,
) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or []}}
    return Response(body=body, status_code=status, headers=dict(headers or {}))


def validation_error(exc: ValidationError, prefix: str = "") -> domain.ValidationFailedError:
    fields = []
    for problem in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in problem["loc"]) or "body"
        fields.append({"field": prefix + location, "message": problem["msg"]})
    return domain.ValidationFailedError("the request is not valid", fields=fields)


def to_response(exc: domain.StewardError) -> Response:
    status, code = STATUS.get(type(exc), (400, "bad_request"))
    headers: dict[str, str | list[str]] = {"Retry-After": "2"} if status in (409, 503) else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, domain.RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(status, code, exc.message, exc.fields, headers)


def json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a view so domain errors map to their status and anything else to a plain 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except domain.StewardError as exc:
            if isinstance(exc, domain.UpstreamError):
                log.warning("upstream failure in %s", view.__name__, exc_info=exc)  # types, no text
            return to_response(exc)
        except Exception:
            log.exception("unhandled error in %s", view.__name__)
            return error_response(500, "internal_error", "something went wrong on our side")

    return wrapper


def check_body(request: Request, max_bytes: int) -> domain.StewardError | None:
    """Refuse a non-JSON, oversized or undecodable body before any view runs."""
    if request.method not in BODY_METHODS:
        return None
    try:  # an event marked base64 whose body is not: API Gateway never sends one, but it is input
        raw = request.raw_body
    except binascii.Error:
        return domain.StewardError(
            "the body is not valid base64", fields=[{"field": "body", "message": "must be valid base64"}]
        )
    if not raw:
        return None  # no body: the view reads it as {} and names what is missing
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    allowed = FORM_ROUTES.get(getattr(request, "path", ""), ("application/json",))
    if content_type not in allowed:
        return domain.UnsupportedMediaTypeError(
            f"send the body as {' or '.join(allowed)}",
            fields=[{"field": "Content-Type", "message": f"must be {' or '.join(allowed)}"}],
        )
    if len(raw) > max_bytes:
        return domain.PayloadTooLargeError(
            f"the body is over {max_bytes} bytes", fields=[{"field": "body", "message": "too large"}]
        )
    return None


def reshape(response: Response) -> Response:
    """Give Chalice's own error answers (405, 415, 500) the Steward error shape."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = CHALICE_CODES.get(response.status_code, "bad_request")
        message = (
            "something went wrong on our side"
            if response.status_code >= 500
            else str(body.get("Message", code))
        )
        fields = [{"field": "Content-Type", "message": message}] if response.status_code == 415 else None
        return error_response(response.status_code, code, message, fields, headers=response.headers)
    return response


WEBHOOK_MAX_BYTES = 262_144


def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Registered on the app: body checks before any view, one error shape and staff headers after."""
    from chalicelib.bootstrap import get_settings

    path = getattr(event, "path", "") or ""
    try:
        limit = WEBHOOK_MAX_BYTES if path.startswith("/webhooks/") else get_settings().max_body_bytes
        problem = check_body(event, limit)
        response = to_response(problem) if problem is not None else reshape(get_response(event))
    except Exception:  # a missing setting, say: Chalice's own 500 would have neither shape nor headers
        log.exception("unhandled error around %s", path)
        response = error_response(500, "internal_error", "something went wrong on our side")
    if path.startswith("/staff/"):
        response.headers.update(STAFF_HEADERS)
    return response

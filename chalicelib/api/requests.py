"""Turn a Chalice request into a validated pydantic model, or a named-field error."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs

from chalice.app import Request

from chalicelib.api.errors import validation_error
from chalicelib.domain.errors import NotFoundError, ValidationFailedError
from chalicelib.domain.ids import is_id

if TYPE_CHECKING:
    from pydantic import BaseModel

Model = TypeVar("Model", bound="BaseModel")


def parse_body(request: Request, model: type[Model], context: dict[str, Any] | None = None) -> Model:
    from pydantic import ValidationError

    raw = request.raw_body or b"{}"
    try:
        parsed = model.model_validate_json(raw, context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None
    _refuse_repeated(_repeated_keys(raw), "body")
    return parsed


def parse_query(request: Request, model: type[Model], context: dict[str, Any] | None = None) -> Model:
    from pydantic import ValidationError

    params: Any = request.query_params or {}
    if hasattr(params, "getlist"):
        _refuse_repeated([name for name in params if len(params.getlist(name)) > 1], "query")
    try:
        return model.model_validate(dict(params), context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _repeated_keys(raw: bytes | str) -> list[str]:
    """Names a JSON object of the body gives twice. Parsers disagree on which one counts
    (pydantic keeps the last, others the first), so neither does."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        repeated.extend(name for name, count in Counter(name for name, _ in items).items() if count > 1)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):  # pydantic read it; nothing more to find here
        return []
    return repeated


def _refuse_repeated(names: list[str], where: str) -> None:
    if names:
        raise ValidationFailedError(
            f"the {where} gives a name more than once",
            fields=[{"field": name, "message": "given more than once"} for name in names],
        )


def header(request: Request, name: str, max_length: int = 255) -> str | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if not 1 <= len(value) <= max_length or not value.isprintable() or not value.isascii():
        raise ValidationFailedError(
            f"{name} is not valid",
            fields=[{"field": name, "message": f"1 to {max_length} printable ASCII characters"}],
        )
    return str(value)


def path_id(value: str, field: str = "donation_id") -> str:
    if not is_id(value):
        raise NotFoundError(
            "no record with this id", fields=[{"field": field, "message": "not a Steward id"}]
        )
    return value


def source_ip(request: Request) -> str:
    """API Gateway's sourceIp, never X-Forwarded-For (which the client controls)."""
    context: dict[str, Any] = request.context or {}
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")


def query_token(request: Request) -> str:
    params: Any = request.query_params or {}
    return str(params.get("token", ""))[:200]


def link_token(request: Request) -> str:
    """The token of an emailed link, posted back: in the link's query string, else the form."""
    return query_token(request) or (form_field(request, "token") or "")[:200]


def form_field(request: Request, name: str) -> str | None:
    """A field of a urlencoded or multipart form body (RFC 8058 allows either)."""
    raw = request.raw_body or b""
    data = raw if isinstance(raw, bytes) else raw.encode()
    content_type = request.headers.get("content-type") or ""
    if content_type.lower().startswith("multipart/form-data"):
        from email import policy  # only the unsubscribe and confirm forms parse multipart
        from email.parser import BytesParser

        form = BytesParser(policy=policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + data
        )
        for part in form.iter_parts() if form.is_multipart() else []:
            if part.get_param("name", header="content-disposition") == name:
                payload = part.get_payload(decode=True)
                return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
        return None
    values = parse_qs(data.decode("utf-8", "replace")).get(name)
    return values[0] if values else None

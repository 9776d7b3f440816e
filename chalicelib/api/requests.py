"""Turn a Chalice request into a validated pydantic model, or a named-field error."""

from __future__ import annotations

from typing import Any, TypeVar

from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.api.errors import validation_error
from chalicelib.domain.errors import NotFoundError, ValidationFailedError
from chalicelib.domain.ids import is_id

Model = TypeVar("Model", bound=BaseModel)


def parse_body(request: Request, model: type[Model], context: dict[str, Any] | None = None) -> Model:
    try:
        return model.model_validate_json(request.raw_body or b"{}", context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_query(request: Request, model: type[Model]) -> Model:
    try:
        return model.model_validate(dict(request.query_params or {}))
    except ValidationError as exc:
        raise validation_error(exc) from None


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

"""GET /openapi.json: an OpenAPI 3.1 document built from the pydantic models."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api import schemas
from chalicelib.domain.donation import Donation, DonationRequest

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "Malformed request or signature",
    "401": "Missing or invalid bearer token",
    "402": "The card was declined",
    "403": "The token's role does not own this route",
    "404": "Not found",
    "409": "Conflicting state; retry",
    "413": "Body too large",
    "415": "Body is not application/json",
    "422": "Invalid field(s), named in error.fields",
    "503": "A peer is unavailable; retry",
}
ID_PARAM = {
    "name": "donation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"},
}
IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

# (method, path, summary, request model, (status, response model), error codes, staff, params)
ROUTES: list[
    tuple[
        str,
        str,
        str,
        type[BaseModel] | None,
        tuple[str, type[BaseModel]],
        tuple[str, ...],
        bool,
        list[dict[str, Any]],
    ]
] = [
    (
        "get",
        "/health",
        "Liveness: 200 once DynamoDB answers",
        None,
        ("200", schemas.HealthOut),
        ("503",),
        False,
        [],
    ),
    ("get", "/config", "What the donation form needs", None, ("200", schemas.ConfigOut), (), False, []),
    ("get", "/openapi.json", "This document", None, ("200", schemas.DocumentOut), (), False, []),
    (
        "post",
        "/donations",
        "Start a one-time gift (returns a SetupIntent secret)",
        DonationRequest,
        ("201", schemas.DonationCreatedOut),
        ("413", "415", "422", "503"),
        False,
        [IDEMPOTENCY_PARAM],
    ),
    (
        "post",
        "/donations/{donation_id}/confirm",
        "Charge the card saved by confirmCardSetup",
        schemas.ConfirmIn,
        ("200", schemas.ConfirmOut),
        ("402", "404", "409", "413", "415", "422", "503"),
        False,
        [ID_PARAM],
    ),
    (
        "post",
        "/webhooks/stripe",
        "Stripe events, verified by Stripe-Signature",
        None,
        ("200", schemas.WebhookOut),
        ("400", "413", "415", "503"),
        False,
        [{"name": "Stripe-Signature", "in": "header", "required": True, "schema": {"type": "string"}}],
    ),
    (
        "get",
        "/staff/donations/{donation_id}",
        "One gift (role finance)",
        None,
        ("200", Donation),
        ("401", "403", "404"),
        True,
        [ID_PARAM],
    ),
    (
        "get",
        "/staff/donations",
        "Gifts created in a date range, oldest first (role finance)",
        None,
        ("200", schemas.DonationListOut),
        ("401", "403", "422"),
        True,
        [
            {"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 200},
            },
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
        ],
    ),
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    models = {schemas.ErrorOut} | {r[3] for r in ROUTES if r[3]} | {r[4][1] for r in ROUTES}
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, body, (status, out), errors, staff, params in ROUTES:
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": method + "_" + re.sub(r"[^a-z]+", "_", path).strip("_"),
            "parameters": params,
            "responses": {
                status: {"description": "OK", "content": {"application/json": {"schema": _ref(out)}}},
                **{
                    code: {
                        "description": text,
                        "content": {"application/json": {"schema": _ref(schemas.ErrorOut)}},
                    }
                    for code, text in ERRORS.items()
                    if code in errors or (staff and code in ("401", "403"))
                },
            },
        }
        if body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(body)}},
            }
        if path == "/webhooks/stripe":
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        if staff:
            operation["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Steward",
            "version": "1.0.0",
            "description": "Donations, contact and email signups for a nonprofit.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }

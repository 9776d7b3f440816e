"""GET /openapi.json: an OpenAPI 3.1 document built from the pydantic models."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api import schemas
from chalicelib.api.errors import FORM_TYPES, STAFF_HEADERS
from chalicelib.api.finding import DonorHistoryOut
from chalicelib.domain.exports import ExportRequest
from chalicelib.domain.finding import MAX_AMOUNT, STATUSES
from chalicelib.domain.gift_requests import DonationRequest, RefundRequest
from chalicelib.domain.outreach import ContactRequest, ContactStatusChange, SignupRequest

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "Malformed request or signature",
    "401": "Missing or invalid bearer token",
    "403": "The token's role does not own this route",
    "404": "Not found",
    "409": "Conflicting state; retry",
    "413": "Body too large",
    "415": "Wrong Content-Type",
    "422": "Invalid field(s), named in error.fields",
    "429": "Too many submissions; see Retry-After",
    "503": "A peer is unavailable; retry",
}
ULID = {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"}
# The two emailed-link routes take a form, urlencoded or multipart (RFC 8058 allows either).
CONFIRM_FORM = {"type": "object", "properties": {"token": {"type": "string"}, "confirm": {"type": "string"}}}
UNSUBSCRIBE_FORM = {
    "type": "object",
    "properties": {"token": {"type": "string"}, "List-Unsubscribe": {"const": "One-Click"}},
    "required": ["List-Unsubscribe"],
}
HTML = {"text/html": {"schema": {"type": "string"}}}
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
LINK_TOKEN = {"name": "token", "in": "query", "required": True, "schema": {"type": "string"}}
CANCEL_FORM = {"type": "object", "properties": {"token": {"type": "string"}, "cancel": {"const": "yes"}}}
TOKEN_BODY = {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}
CARD_BODY = {
    "type": "object",
    "properties": {"token": {"type": "string"}, "setup_intent_id": {"type": "string", "pattern": "^seti_"}},
    "required": ["token", "setup_intent_id"],
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
STAFF_HEADERS_DOC = {name: {"schema": {"type": "string", "const": v}} for name, v in STAFF_HEADERS.items()}


def _path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or ULID}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


AMOUNT = {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT, "description": "Minor units, inclusive."}
FIND_FILTERS = [
    _query("status", {"type": "string", "enum": list(STATUSES), "description": "A display status, or paid."}),
    _query("fund", {"type": "string", "maxLength": 100, "description": "A fund id of GET /config."}),
    _query("campaign", {"type": "string", "minLength": 1, "maxLength": 200}),
    _query("frequency", {"type": "string", "enum": ["one_time", "installment", "monthly", "annual"]}),
    _query("email", {"type": "string", "maxLength": 254, "description": "The donor's email, any case."}),
    _query("min_amount", AMOUNT),
    _query("max_amount", AMOUNT),
]


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    ok: type[BaseModel] | dict[str, Any]
    status: str = "200"
    body: type[BaseModel] | dict[str, Any] | None = None
    errors: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    params: list[dict[str, Any]] = field(default_factory=list)


PAGE = [
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
    _query("cursor", {"type": "string", "maxLength": 2000}),
]
# The routes take a date (the whole day) or a UTC time.
DAY_OR_TIME = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}
BODY_ERRORS = ("413", "415", "422")
FORM_ERRORS = ("413", "415", "422", "429", "503")
OPS = [
    Op("get", "/health", "Liveness: 200 once DynamoDB answers", schemas.HealthOut, errors=("503",)),
    Op("get", "/config", "What the public forms need, with a fresh form_token", schemas.ConfigOut),
    Op("get", "/openapi.json", "This document", schemas.DocumentOut),
    Op(
        "get",
        "/campaigns/{campaign_id}",
        "A public campaign's goal, amount raised and donor count (cached 30 s)",
        schemas.CampaignOut,
        errors=("404", "503"),
        params=[_path("campaign_id", {"type": "string", "maxLength": 64})],
    ),
    Op(
        "post",
        "/donations",
        "Start a one-time, monthly or annual gift (answers a SetupIntent secret)",
        schemas.DonationCreatedOut,
        "201",
        DonationRequest,
        ("409", *BODY_ERRORS, "429", "503"),
        params=[IDEMPOTENCY_KEY],
    ),
    Op(
        "post",
        "/donations/{donation_id}/confirm",
        "Charge the card saved by confirmCardSetup",
        schemas.ConfirmOut,
        body=schemas.ConfirmIn,
        errors=("404", "409", *BODY_ERRORS, "429", "503"),
        params=[_path("donation_id")],
    ),
    Op(
        "post",
        "/webhooks/stripe",
        "Stripe events, verified by Stripe-Signature",
        schemas.WebhookOut,
        body={"type": "object"},
        errors=("400", "413", "415", "503"),
        params=[{"name": "Stripe-Signature", "in": "header", "required": True, "schema": {"type": "string"}}],
    ),
    Op(
        "post",
        "/signups",
        "Sign up for email (double opt-in); always 202",
        schemas.AcceptedOut,
        "202",
        SignupRequest,
        FORM_ERRORS,
    ),
    Op(
        "get",
        "/signups/confirm",
        "Confirmation page; its script posts the form (GET alone changes nothing)",
        HTML,
        params=[_query("token", {"type": "string"})],
    ),
    Op(
        "post",
        "/signups/confirm",
        "Confirm a signup (form post from the confirmation page)",
        HTML,
        body=CONFIRM_FORM,
        errors=("404", "409", "413", "415", "503"),
        params=[_query("token", {"type": "string"})],
    ),
    Op(
        "get",
        "/unsubscribe",
        "Unsubscribe page with a button (GET alone changes nothing)",
        HTML,
        params=[_query("token", {"type": "string"})],
    ),
    Op(
        "post",
        "/unsubscribe",
        "RFC 8058 one-click unsubscribe: List-Unsubscribe=One-Click",
        HTML,
        body=UNSUBSCRIBE_FORM,
        errors=("404", "413", "415", "422", "503"),
        params=[_query("token", {"type": "string"})],
    ),
    Op(
        "post",
        "/contact",
        "Send a question to a program; always 202",
        schemas.AcceptedOut,
        "202",
        ContactRequest,
        FORM_ERRORS,
    ),
    Op(
        "get",
        "/staff/donations/{donation_id}",
        "One gift, with its refunds, disputes and history",
        schemas.GiftOut,
        errors=("404",),
        roles=("finance", "admin"),
        params=[_path("donation_id")],
    ),
    Op(
        "post",
        "/staff/donations/{donation_id}/refunds",
        "Refund all or part of a paid gift (never more than was paid)",
        schemas.RefundOut,
        "201",
        RefundRequest,
        ("404", "409", *BODY_ERRORS, "503"),
        roles=("finance", "admin"),
        params=[_path("donation_id"), IDEMPOTENCY_KEY],
    ),
    Op(
        "get",
        "/staff/reports/totals",
        "Totals of the gifts paid in a date range, per group and currency pair",
        schemas.TotalsOut,
        errors=("422",),
        roles=("finance", "admin"),
        params=[
            _query("from", {"type": "string", "format": "date"}, True),
            _query("to", {"type": "string", "format": "date"}, True),
            _query("group_by", {"type": "string", "enum": ["day", "month", "fund", "campaign", "frequency"]}),
        ],
    ),
    Op(
        "get",
        "/staff/recurring",
        "Monthly and annual plans in one status, newest first",
        schemas.PlanListOut,
        errors=("422",),
        roles=("finance", "admin"),
        params=[
            _query("status", {"type": "string", "enum": ["active", "past_due", "canceled", "incomplete"]}),
            *PAGE,
        ],
    ),
    Op(
        "get",
        "/staff/recurring/{recurring_id}",
        "One plan, with its installments",
        schemas.PlanOut,
        errors=("404",),
        roles=("finance", "admin"),
        params=[_path("recurring_id")],
    ),
    Op(
        "get",
        "/donor/gifts/{donation_id}",
        "The donor's gift (signed link)",
        HTML,
        errors=("403", "404"),
        params=[_path("donation_id"), LINK_TOKEN],
    ),
    Op(
        "get",
        "/donor/gifts/{donation_id}/receipt",
        "The printable receipt (signed link)",
        HTML,
        errors=("403", "404"),
        params=[_path("donation_id"), LINK_TOKEN],
    ),
    Op(
        "get",
        "/donor/gifts/{donation_id}/receipt.pdf",
        "The receipt as a PDF (signed link)",
        PDF,
        errors=("403", "404"),
        params=[_path("donation_id"), LINK_TOKEN],
    ),
    Op(
        "get",
        "/donor/recurring/{recurring_id}/cancel",
        "Cancel page with a button (GET changes nothing)",
        HTML,
        errors=("403", "404"),
        params=[_path("recurring_id"), LINK_TOKEN],
    ),
    Op(
        "post",
        "/donor/recurring/{recurring_id}/cancel",
        "End the plan at Stripe, then confirm by email",
        HTML,
        body=CANCEL_FORM,
        errors=("403", "404", "415", "503"),
        params=[_path("recurring_id"), LINK_TOKEN],
    ),
    Op(
        "get",
        "/donor/recurring/{recurring_id}/card",
        "Page to save a new card with Stripe.js",
        HTML,
        errors=("403", "404"),
        params=[_path("recurring_id"), LINK_TOKEN],
    ),
    Op(
        "post",
        "/donor/recurring/{recurring_id}/card/intent",
        "A SetupIntent secret for the new card",
        schemas.CardIntentOut,
        body=TOKEN_BODY,
        errors=("403", "404", "409", "415", "422", "503"),
        params=[_path("recurring_id")],
    ),
    Op(
        "post",
        "/donor/recurring/{recurring_id}/card",
        "Make the saved card the plan's card",
        schemas.AcceptedOut,
        body=CARD_BODY,
        errors=("403", "404", "409", "415", "422", "503"),
        params=[_path("recurring_id")],
    ),
    Op(
        "get",
        "/staff/donations",
        "Gifts created in a date range that pass every filter given, oldest first (by amount"
        " within each month when an amount bound is given)",
        schemas.DonationListOut,
        errors=("422",),
        roles=("finance", "admin"),
        params=[
            _query("from", DAY_OR_TIME, True),
            _query("to", DAY_OR_TIME, True),
            *PAGE,
            _query("include_abandoned", {"type": "boolean", "default": False}),
            *FIND_FILTERS,
        ],
    ),
    Op(
        "get",
        "/staff/donors/{email}",
        "A donor's gifts, newest first, with lifetime and year-to-date totals per currency",
        DonorHistoryOut,
        errors=("422",),
        roles=("finance", "admin"),
        params=[_path("email", {"type": "string", "maxLength": 254}), *PAGE],
    ),
    Op(
        "get",
        "/staff/contacts",
        "Contact messages of a program, newest first",
        schemas.ContactListOut,
        errors=("422",),
        roles=("admin", "program:<topic>"),
        params=[
            {
                **_query("program", {"type": "string", "maxLength": 64}),
                "description": "A topic id from GET /config; may be left out only by staff of one program.",
            },
            _query("status", {"type": "string", "enum": ["new", "answered", "archived"]}),
            *PAGE,
        ],
    ),
    Op(
        "patch",
        "/staff/contacts/{contact_id}",
        "Set a message's status; records who and when",
        {"$ref": REF.format(model="ContactMessage")},  # a plain record, described by ContactListOut's
        body=ContactStatusChange,
        errors=("404", "409", *BODY_ERRORS),
        roles=("admin", "program:<topic>"),
        params=[_path("contact_id")],
    ),
    Op(
        "get",
        "/staff/reports/payouts",
        "Stripe's payouts in a range, each balance transaction matched to our gift, refund or"
        " dispute (gross, fee, net), with what is unmatched on either side; format=csv for a file",
        {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
        errors=("422",),
        roles=("finance", "admin"),
        params=[
            _query("from", DAY_OR_TIME, True),
            _query("to", DAY_OR_TIME, True),
            _query("format", {"type": "string", "enum": ["json", "csv"], "default": "json"}),
        ],
    ),
    Op(
        "get",
        "/staff/audit",
        "Staff requests (who read or changed what, with which filter, and when), newest first",
        schemas.AuditListOut,
        errors=("422",),
        roles=("admin",),
        params=[
            _query("from", DAY_OR_TIME, True),
            _query("to", DAY_OR_TIME, True),
            _query("actor", {"type": "string", "maxLength": 200}),
            *PAGE,
        ],
    ),
    Op(
        "get",
        "/staff/outbox",
        "Emails that failed for good, newest first, with the reason; or those still pending",
        schemas.OutboxListOut,
        errors=("422",),
        roles=("admin",),
        params=[_query("status", {"type": "string", "enum": ["failed", "pending"]}), *PAGE],
    ),
    Op(
        "post",
        "/staff/exports",
        "Start a CSV export of gifts; it runs behind the answer",
        schemas.ExportCreatedOut,
        "202",
        ExportRequest,
        BODY_ERRORS,
        roles=("finance", "admin"),
    ),
    Op(
        "get",
        "/staff/exports/{export_id}",
        "An export's state, with a 5-minute download link once done",
        schemas.ExportOut,
        errors=("404",),
        roles=("finance", "admin"),
        params=[_path("export_id")],
    ),
    Op(
        "get",
        "/staff/signups/export.csv",
        "All signups with status and consent columns",
        {"text/csv": {"schema": {"type": "string"}}},
        roles=("communications", "admin"),
    ),
]


def _content(schema: type[BaseModel] | dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    if isinstance(schema, dict):
        return schema if "/" in next(iter(schema), "") else {media: {"schema": schema}}
    return {media: {"schema": {"$ref": REF.format(model=schema.__name__)}}}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    models = {schemas.ErrorOut} | {o.ok for o in OPS if not isinstance(o.ok, dict)}
    models |= {o.body for o in OPS if o.body is not None and not isinstance(o.body, dict)}
    _, defs = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPS:
        # A staff route also answers 503 when DynamoDB or the issuer's JWKS cannot be reached.
        errors = set(op.errors) | ({"401", "403", "503"} if op.roles else set())
        responses = {op.status: {"description": "OK", "content": _content(op.ok)}}
        responses |= {
            code: {"description": text, "content": _content(schemas.ErrorOut)}
            for code, text in ERRORS.items()
            if code in errors
        }
        if op.roles:
            responses = {code: {**answer, "headers": STAFF_HEADERS_DOC} for code, answer in responses.items()}
        operation: dict[str, Any] = {
            "summary": op.summary + (f" (role {' or '.join(op.roles)})" if op.roles else ""),
            "operationId": op.method + "_" + re.sub(r"[^a-z]+", "_", op.path).strip("_"),
            "parameters": op.params,
            "responses": responses,
        }
        if op.body is not None:
            form = op.body is CONFIRM_FORM or op.body is UNSUBSCRIBE_FORM
            content = {media: {"schema": op.body} for media in FORM_TYPES} if form else _content(op.body)
            operation["requestBody"] = {"required": True, "content": content}
        if op.roles:
            operation["security"] = [{"bearer": []}]
            operation["x-roles"] = list(op.roles)
        paths.setdefault(op.path, {})[op.method] = operation
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
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito access token of the staff app client.",
                }
            },
        },
    }

"""Staff routes: each needs a verified bearer token holding the role that owns it."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.auth import current_staff, requires_role
from chalicelib.api.errors import json_errors
from chalicelib.api.requests import header, parse_body, parse_query, path_id
from chalicelib.bootstrap import (
    get_export_ports,
    get_money,
    get_outreach_repository,
    get_repository,
    get_settings,
    get_staff_log,
    get_totals_store,
)

bp = Blueprint(__name__)
FINANCE = ("finance", "admin")
PROGRAM = ("admin", "program:*")
COMMUNICATIONS = ("communications", "admin")
ADMIN = ("admin",)


def _request() -> Any:
    return bp.current_request


@bp.route("/staff/donations", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def list_donations() -> dict[str, Any]:
    from chalicelib.api.finding import DonationFindQuery
    from chalicelib.services import donations

    funds = [f.id for f in get_settings().funds]
    query = parse_query(bp.current_request, DonationFindQuery, {"funds": funds})
    start, end = query.bounds
    page = donations.list_donations(
        start,
        end,
        query.limit,
        query.cursor,
        repo=get_repository(),
        include_abandoned=query.include_abandoned,
        filters=query.gift_filter(),
    )
    return {"items": [d.model_dump() for d in page.items], "cursor": page.cursor}


@bp.route("/staff/donors/{email}", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def donor_history(email: str) -> dict[str, Any]:
    from chalicelib.api.finding import DonorHistoryOut, DonorQuery, parse_donor
    from chalicelib.services import donors

    donor = parse_donor(email)
    query = parse_query(bp.current_request, DonorQuery)
    history = donors.donor_history(donor, query.limit, query.cursor, repo=get_repository())
    return DonorHistoryOut.model_validate(history, from_attributes=True).model_dump()


@bp.route("/staff/donations/{donation_id}", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def get_donation(donation_id: str) -> dict[str, Any]:
    from chalicelib.services import donations

    record = donations.get_donation(path_id(donation_id), repo=get_repository())
    return {
        **record.donation.model_dump(),
        "refunds": [r.model_dump() for r in record.refunds],
        "disputes": [d.model_dump() for d in record.disputes],
        "history": [asdict(entry) for entry in record.history],
    }


@bp.route("/staff/donations/{donation_id}/refunds", methods=["POST"])
@json_errors
@requires_role(_request, *FINANCE)
def refund_donation(donation_id: str) -> Response:
    from chalicelib.domain.gift_requests import RefundRequest
    from chalicelib.services import refunds

    request = bp.current_request
    body = parse_body(request, RefundRequest)
    refund = refunds.refund_gift(
        path_id(donation_id), body, current_staff().subject, header(request, "Idempotency-Key"), get_money()
    )
    return Response(body=refund.model_dump(), status_code=201)


@bp.route("/staff/reports/totals", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def report_totals() -> dict[str, Any]:
    from chalicelib.api.schemas import TotalsQuery
    from chalicelib.services import totals

    query = parse_query(bp.current_request, TotalsQuery)
    rows = totals.report(query.group_by, query.start, query.end, get_totals_store())
    return {"group_by": query.group_by, "rows": [row.as_dict() for row in rows]}


@bp.route("/staff/recurring", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def list_plans() -> dict[str, Any]:
    from chalicelib.api.schemas import PlanListQuery
    from chalicelib.services import recurring

    query = parse_query(bp.current_request, PlanListQuery)
    page = recurring.list_plans(query.status, query.limit, query.cursor, get_money())
    return {"items": [p.model_dump() for p in page.items], "cursor": page.cursor}


@bp.route("/staff/recurring/{recurring_id}", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def get_plan(recurring_id: str) -> dict[str, Any]:
    from chalicelib.services import recurring

    record = recurring.get_plan(path_id(recurring_id, "recurring_id"), get_money())
    return {**record.plan.model_dump(), "installments": [g.model_dump() for g in record.installments]}


@bp.route("/staff/exports", methods=["POST"])
@json_errors
@requires_role(_request, *FINANCE)
def start_export() -> Response:
    from chalicelib.domain.exports import ExportRequest
    from chalicelib.services import exports

    body = parse_body(bp.current_request, ExportRequest, {"funds": [f.id for f in get_settings().funds]})
    export = exports.request_export(body, current_staff().subject, get_export_ports().exports)
    return Response(body={"export_id": export.id}, status_code=202)


@bp.route("/staff/exports/{export_id}", methods=["GET"])
@json_errors
@requires_role(_request, *FINANCE)
def get_export(export_id: str) -> dict[str, Any]:
    from chalicelib.services import exports

    state = exports.export_state(path_id(export_id, "export_id"), get_export_ports())
    job = state.export
    return {
        "export_id": job.id,
        "status": job.status,
        "rows": job.rows,
        "url": state.url,
        "reason": job.reason,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


CSV_COLUMNS = [
    "email",
    "name",
    "postal_code",
    "interests",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_version",
    "consent_source_page",
    "consent_at",
    "consent_ip_hmac",
]


@bp.route("/staff/contacts", methods=["GET"])
@json_errors
@requires_role(_request, *PROGRAM)
def list_contacts() -> dict[str, Any]:
    from chalicelib.api.schemas import ContactListQuery
    from chalicelib.services import contact

    query = parse_query(bp.current_request, ContactListQuery)
    topics = {t.id: t for t in get_settings().topics}
    page = contact.list_contacts(
        query.program,
        query.status,
        query.limit,
        query.cursor,
        current_staff().roles,
        repo=get_outreach_repository(),
        topics=topics,
    )
    return {"items": [asdict(m) for m in page.items], "cursor": page.cursor}


@bp.route("/staff/contacts/{contact_id}", methods=["PATCH"])
@json_errors
@requires_role(_request, *PROGRAM)
def update_contact(contact_id: str) -> dict[str, Any]:
    from chalicelib.domain.outreach import ContactStatusChange
    from chalicelib.services import contact

    change = parse_body(bp.current_request, ContactStatusChange)
    staff = current_staff()
    topics = {t.id: t for t in get_settings().topics}
    message = contact.set_contact_status(
        path_id(contact_id, "contact_id"),
        change.status,
        staff.subject,
        staff.roles,
        repo=get_outreach_repository(),
        topics=topics,
    )
    return asdict(message)


@bp.route("/staff/audit", methods=["GET"])
@json_errors
@requires_role(_request, *ADMIN)
def list_staff_requests() -> dict[str, Any]:
    from chalicelib.api.schemas import AuditListQuery

    query = parse_query(bp.current_request, AuditListQuery)
    start, end = query.bounds
    page = get_staff_log().list(start, end, query.limit, query.cursor, query.actor)
    return {"items": [asdict(entry) for entry in page.items], "cursor": page.cursor}


@bp.route("/staff/outbox", methods=["GET"])
@json_errors
@requires_role(_request, *ADMIN)
def list_outbox() -> dict[str, Any]:
    from chalicelib.api.schemas import OutboxListQuery
    from chalicelib.services import outbox

    query = parse_query(bp.current_request, OutboxListQuery)
    page = outbox.list_outbox(query.status, query.limit, query.cursor, repo=get_outreach_repository())
    return {"items": [m.model_dump() for m in page.items], "cursor": page.cursor}


@bp.route("/staff/signups/export.csv", methods=["GET"])
@json_errors
@requires_role(_request, *COMMUNICATIONS)
def export_signups() -> Response:
    from chalicelib.domain.spreadsheet import cell

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    repo, cursor = get_outreach_repository(), None
    while True:
        page = repo.list_subscribers(500, cursor)
        for subscriber in page.items:
            row = subscriber.model_dump()
            row["interests"] = " ".join(subscriber.interests)
            writer.writerow({k: cell(row.get(k)) for k in CSV_COLUMNS})
        cursor = page.cursor
        if not cursor:
            break
    return Response(
        body=out.getvalue(),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="signups.csv"',
            "Cache-Control": "no-store",
        },
    )

"""Finance: Stripe's payouts reconciled with our records, as JSON or a CSV."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api.auth import requires_role
from chalicelib.api.errors import json_errors
from chalicelib.api.requests import parse_query
from chalicelib.bootstrap import get_ledger, get_repository

if TYPE_CHECKING:
    from chalicelib.services.reconcile import LineMatch, Reconciliation


bp = Blueprint(__name__)
COLUMNS = [
    "payout_id",
    "payout_created",
    "payout_arrival",
    "payout_status",
    "line_id",
    "type",
    "source",
    "matched_kind",
    "donation_id",
    "currency",
    "gross",
    "fee",
    "net",
    "our_gross",
    "our_fee",
    "status",
    "problem",
]


def _request() -> Any:
    return bp.current_request


@bp.route("/staff/reports/payouts", methods=["GET"])
@json_errors
@requires_role(_request, "finance", "admin")
def payouts() -> Any:
    from chalicelib.api.schemas import PayoutQuery
    from chalicelib.services.reconcile import reconcile_payouts

    query = parse_query(bp.current_request, PayoutQuery)
    start, end = query.bounds
    report = reconcile_payouts(start, end, repo=get_repository(), ledger=get_ledger())
    if query.format == "csv":
        return _csv(report)
    return {
        "payouts": [
            {
                **vars(p.payout),
                "gross": p.gross,
                "fees": p.fees,
                "net": p.net,
                "lines": [_line(m) for m in p.lines],
                "unmatched": len(p.unmatched),
            }
            for p in report.payouts
        ],
        "not_paid_out": [
            {"donation_id": g.id, "charge_id": g.charge_id, "amount": g.amount, "currency": g.currency}
            for g in report.not_paid_out
        ],
        "unmatched": report.unmatched,
    }


def _line(match: LineMatch) -> dict[str, Any]:
    line = match.line
    return {
        "id": line.id,
        "type": line.type,
        "source": line.source,
        "currency": line.currency,
        "gross": line.amount,
        "fee": line.fee,
        "net": line.net,
        "matched_kind": match.kind,
        "donation_id": match.record_id,
        "our_gross": match.expected_amount,
        "our_fee": match.expected_fee,
        "status": "matched" if match.matched else "unmatched",
        "problem": match.problem,
    }


def _csv(report: Reconciliation) -> Response:
    from chalicelib.domain.spreadsheet import cell

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for payout in report.payouts:
        head = {
            "payout_id": payout.payout.id,
            "payout_created": payout.payout.created,
            "payout_arrival": payout.payout.arrival_date,
            "payout_status": payout.payout.status,
        }
        for match in payout.lines:
            row = {**head, **_line(match), "line_id": match.line.id}
            writer.writerow({k: cell(row.get(k)) for k in COLUMNS})
    for gift in report.not_paid_out:
        row = {
            "matched_kind": "gift",
            "donation_id": gift.id,
            "source": gift.charge_id,
            "currency": gift.currency,
            "our_gross": gift.amount,
            "our_fee": gift.fee,
            "status": "not_paid_out",
            "problem": "in no payout of this period",
        }
        writer.writerow({k: cell(row.get(k)) for k in COLUMNS})
    return Response(
        body=out.getvalue(),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="payouts.csv"',
            "Cache-Control": "no-store",
        },
    )

"""What a receipt says, as pure functions: the IRS wording, money as people read it, and the
outbox context of each receipt email (rendered by adapters/mailer.py).

Context values follow the mailer's block conventions: a key ending `_rows` holds rows
("\\n") of cells ("\\t"), `_table` the same with a header row, `_paragraphs` one paragraph a
line, `_links` one "label\\turl" a line. Donor text is made one line first (`_line`), so it
can never add a row, a paragraph or a statement of its own; the mailer escapes every cell."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Frequency = Literal["one_time", "monthly", "annual"]
TributeKind = Literal["honor", "memory"]

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩", "ils": "₪", "ngn": "₦"}
# Stripe's zero- and three-decimal currencies; every other one has two decimals.
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
ZERO_DECIMAL |= {"xaf", "xof", "xpf"}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
QUID_PRO_QUO_ABOVE = 7500  # IRC 6115: a payment of more than $75 that buys goods or services
WRITTEN_ACKNOWLEDGMENT_FROM = 25000  # IRC 170(f)(8): $250 or more needs this receipt
NO_GOODS = "No goods or services were provided in exchange for this contribution."
KEEP = "Please keep this receipt for your tax records."
PLAN_NAMES = {"one_time": "One-time gift", "monthly": "Monthly gift", "annual": "Annual gift"}


@dataclass(frozen=True)
class Organization:
    """The issuer a receipt names."""

    name: str
    legal_name: str
    address: str
    ein: str


@dataclass(frozen=True)
class Receipt:
    """What one receipt says."""

    number: str
    donor_name: str
    email: str
    paid_at: str
    amount: int
    currency: str
    fund_name: str
    frequency: Frequency = "one_time"
    premium_name: str | None = None
    premium_value: int = 0
    covered_fee: int = 0
    tribute: str | None = None
    refunded: int = 0


@dataclass(frozen=True)
class ReceiptLinks:
    """The donor's links a receipt email carries."""

    gift_url: str
    receipt_url: str
    pdf_url: str
    cancel_url: str | None = None
    update_card_url: str | None = None


@dataclass(frozen=True)
class StatementLine:
    """One gift on a year's statement."""

    paid_at: str
    amount: int
    refunded: int
    currency: str
    fund_name: str
    receipt_number: str
    frequency: str


def format_money(amount: int, currency: str) -> str:
    """ "$25.00", "€1,234.50", "¥500", "25.00 CHF": a known symbol before, else the code after."""
    code = currency.lower()
    places = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**places)
    number = f"{whole:,}" + (f".{part:0{places}d}" if places else "")
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code.upper()}"


def format_date(moment: str) -> str:
    """An ISO-8601 time as its UTC calendar date: "November 27, 2026"."""
    when = datetime.fromisoformat(moment)
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{when:%B} {when.day}, {when.year}"


def deductible_amount(receipt: Receipt) -> int:
    """What the donor may deduct: the amount paid less the premium's fair-market value."""
    return max(0, receipt.amount - receipt.premium_value)


def deductible_after(receipt: Receipt, refunded_total: int) -> int:
    return max(0, receipt.amount - refunded_total - receipt.premium_value)


def _line(text: str) -> str:
    """Donor text as one plain line: every run of whitespace or control characters is a space."""
    kept = "".join(" " if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F else c for c in text)
    return " ".join(kept.split())


def _rows(rows: Sequence[Sequence[str]]) -> str:
    return "\n".join("\t".join(_line(cell) for cell in row) for row in rows)


def _paragraphs(lines: list[str]) -> str:
    return "\n".join(_line(line) for line in lines)


def has_premium(receipt: Receipt) -> bool:
    return bool(receipt.premium_name) or receipt.premium_value > 0


def irs_statement(receipt: Receipt, org: Organization) -> list[str]:
    """The IRS wording for this gift, one paragraph a line."""
    if not has_premium(receipt):
        return [NO_GOODS, KEEP]
    money = receipt.currency
    premium = _line(receipt.premium_name or "goods or services")
    value = format_money(receipt.premium_value, money)
    said = [
        f"In exchange for this contribution, {org.legal_name} provided goods or services: {premium}. "
        f"Our good-faith estimate of their fair market value is {value}.",
        "The amount of your contribution that is deductible for federal income tax purposes is "
        f"{format_money(deductible_amount(receipt), money)}.",
    ]
    if receipt.amount > QUID_PRO_QUO_ABOVE or money.lower() != "usd":
        said.append(
            "Quid pro quo disclosure: the amount of your contribution that is deductible for federal "
            "income tax purposes is limited to the excess of the money you contributed over the value "
            f"of the goods or services that {org.legal_name} provided to you."
        )
    return [*said, KEEP]


def receipt_rows(receipt: Receipt) -> list[tuple[str, str]]:
    """The receipt's facts as label and value, in the order every document shows them."""
    money = receipt.currency
    rows = [
        ("Receipt number", receipt.number),
        ("Received from", receipt.donor_name),
        ("Date", format_date(receipt.paid_at)),
        ("Amount", f"{format_money(receipt.amount, money)} {money.upper()}"),
        ("Fund", receipt.fund_name),
        ("Gift", PLAN_NAMES.get(receipt.frequency, receipt.frequency)),
    ]
    if receipt.covered_fee:
        rows.append(("Covered fee", f"{format_money(receipt.covered_fee, money)} (included in the amount)"))
    if receipt.tribute:
        rows.append(("Tribute", receipt.tribute))
    if has_premium(receipt):
        rows.append(("Received in exchange", receipt.premium_name or "goods or services"))
        rows.append(("Its fair market value", format_money(receipt.premium_value, money)))
        rows.append(("Deductible amount", format_money(deductible_amount(receipt), money)))
    if receipt.refunded:
        rows.append(("Refunded", format_money(receipt.refunded, money)))
        rows.append(
            ("Deductible after refunds", format_money(deductible_after(receipt, receipt.refunded), money))
        )
    return [(label, _line(value)) for label, value in rows]


def _links(links: ReceiptLinks | None) -> str:
    if links is None:
        return ""
    pairs = [
        ("View your gift", links.gift_url),
        ("Open your receipt", links.receipt_url),
        ("Download the receipt (PDF)", links.pdf_url),
        ("Cancel your recurring gift", links.cancel_url),
        ("Update your card", links.update_card_url),
    ]
    return "\n".join(f"{label}\t{url}" for label, url in pairs if url)


def receipt_email(
    receipt: Receipt, org: Organization, links: ReceiptLinks | None
) -> tuple[str, dict[str, str]]:
    thanks = [f"Thank you for your gift to {org.name}. This email is your official receipt."]
    if receipt.frequency != "one_time":
        plan = "monthly" if receipt.frequency == "monthly" else "annual"
        thanks.append(f"This payment is an installment of your {plan} gift to the {receipt.fund_name} fund.")
    if receipt.amount >= WRITTEN_ACKNOWLEDGMENT_FROM:
        thanks.append("It is the written acknowledgment of your contribution that the IRS asks for.")
    return "receipt", {
        "donor_name": _line(receipt.donor_name),
        "receipt_number": _line(receipt.number),
        "thanks_paragraphs": _paragraphs(thanks),
        "summary_rows": _rows(receipt_rows(receipt)),
        "irs_paragraphs": _paragraphs(irs_statement(receipt, org)),
        "action_links": _links(links),
    }


def refund_notice_email(
    receipt: Receipt, refund_amount: int, refunded_total: int, refunded_at: str, org: Organization
) -> tuple[str, dict[str, str]]:
    money = receipt.currency
    rows = [
        ("Receipt number", receipt.number),
        ("Original date", format_date(receipt.paid_at)),
        ("Original amount", format_money(receipt.amount, money)),
        ("Refunded on", format_date(refunded_at)),
        ("This refund", format_money(refund_amount, money)),
        ("Refunded in all", format_money(refunded_total, money)),
        ("Amount you gave", format_money(max(0, receipt.amount - refunded_total), money)),
        ("Deductible amount now", format_money(deductible_after(receipt, refunded_total), money)),
    ]
    said = [
        f"We refunded {format_money(refund_amount, money)} of your gift to {org.name}. "
        "This notice corrects your receipt; please keep it with the original for your tax records."
    ]
    if has_premium(receipt):
        value = format_money(receipt.premium_value, money)
        said.append(
            f"The deductible amount is the amount you gave less {value}, the value of what you received."
        )
    else:
        said.append(NO_GOODS)
    return "refund_notice", {
        "donor_name": _line(receipt.donor_name),
        "receipt_number": _line(receipt.number),
        "summary_rows": _rows(rows),
        "notice_paragraphs": _paragraphs(said),
    }


def statement_email(
    year: int, donor_name: str, email: str, lines: list[StatementLine], org: Organization
) -> tuple[str, dict[str, str]]:
    """Every gift of the calendar year, each net of its refunds, and a total per currency."""
    kept = sorted(
        (line for line in lines if line.paid_at.startswith(f"{year}-")), key=lambda line: line.paid_at
    )
    table = [("Date", "Receipt", "Fund", "Gift", "Amount", "Refunded", "Net")]
    totals: dict[str, int] = {}
    for line in kept:
        net = max(0, line.amount - line.refunded)
        totals[line.currency] = totals.get(line.currency, 0) + net
        table.append((
            format_date(line.paid_at), line.receipt_number, line.fund_name,
            PLAN_NAMES.get(line.frequency, line.frequency),
            format_money(line.amount, line.currency), format_money(line.refunded, line.currency),
            format_money(net, line.currency),
        ))  # fmt: skip
    total_rows = [
        (f"Total {code.upper()}", format_money(total, code)) for code, total in sorted(totals.items())
    ]
    said = [
        f"Thank you for your support of {org.name} in {year}. Here is every gift we received from you "
        "this year, each net of any refund.",
        "No goods or services were provided in exchange for these contributions, except where a gift's "
        "own receipt states them; for that gift, the deductible amount on its receipt applies.",
    ]
    if not kept:
        said[0] = f"We have no gifts from you on record for {year}."
    return "statement", {
        "year": str(year),
        "donor_name": _line(donor_name),
        "email": _line(email),
        "intro_paragraphs": _paragraphs(said),
        "gifts_table": _rows(table) if kept else "",
        "total_rows": _rows(total_rows),
    }


def dispute_alert_email(
    donation_id: str, amount: int, currency: str, reason: str, evidence_due_by: str | None, status: str
) -> tuple[str, dict[str, str]]:
    rows = [
        ("Gift", donation_id),
        ("Amount", format_money(amount, currency)),
        ("Reason", reason),
        ("Status", status),
        ("Evidence due by", format_date(evidence_due_by) if evidence_due_by else "not given"),
    ]
    return "dispute_alert", {
        "donation_id": _line(donation_id),
        "status": _line(status),
        "summary_rows": _rows(rows),
    }


def refund_failed_email(
    donation_id: str, refund_id: str, amount: int, currency: str, reason: str | None
) -> tuple[str, dict[str, str]]:
    """To finance: a refund Stripe had taken failed later, so the money stayed with us while
    the donor was told it was coming back."""
    rows = [
        ("Gift", donation_id),
        ("Refund", refund_id),
        ("Amount", format_money(amount, currency)),
        ("Stripe's reason", reason or "not given"),
    ]
    return "refund_failed", {"donation_id": _line(donation_id), "summary_rows": _rows(rows)}


def tribute_email(
    donor_name: str, honoree: str, kind: TributeKind, fund_name: str, org: Organization
) -> tuple[str, dict[str, str]]:
    """Tells a named person of a gift in honor or in memory of someone: never its amount."""
    words = "in memory of" if kind == "memory" else "in honor of"
    return "tribute_notice", {
        "donor_name": _line(donor_name),
        "tribute_paragraphs": _paragraphs([
            f"{donor_name} made a gift to {org.name} {words} {honoree}, for {fund_name}.",
            "We are grateful, and we wanted you to know.",
        ]),
    }  # fmt: skip


def recurring_canceled_email(
    donor_name: str,
    amount: int,
    currency: str,
    frequency: str,
    fund_name: str,
    canceled_at: str,
    org: Organization,
) -> tuple[str, dict[str, str]]:
    plan = frequency.replace("_", "-")
    rows = [
        ("Gift", f"{format_money(amount, currency)} {plan}"),
        ("Fund", fund_name),
        ("Canceled on", format_date(canceled_at)),
    ]
    return "recurring_canceled", {
        "donor_name": _line(donor_name),
        "summary_rows": _rows(rows),
        "cancel_paragraphs": _paragraphs([
            f"Your {plan} gift to {org.name} is canceled. No further payments will be taken.",
            "Thank you for every gift you made. Receipts already sent remain valid.",
        ]),
    }  # fmt: skip


def receipt_page(receipt: Receipt, org: Organization, links: ReceiptLinks | None) -> str:
    """The receipt as an HTML body for api/pages.page(); its print style is pages.RECEIPT_STYLE."""
    e = html.escape
    issuer = f"<p>{e(org.legal_name)}<br>{e(org.address)}<br>EIN {e(org.ein)}</p>"
    rows = "".join(
        f'<tr><th scope="row">{e(label)}</th><td>{e(value)}</td></tr>'
        for label, value in receipt_rows(receipt)
    )
    statement = "".join(f"<p>{e(line)}</p>" for line in irs_statement(receipt, org))
    actions = ""
    if links:
        items = [
            (label, url) for label, _, url in (row.partition("\t") for row in _links(links).splitlines())
        ]
        anchors = " ".join(
            f'<a href="{e(url)}">{e(label)}</a>' for label, url in items if label != "Open your receipt"
        )
        actions = f'<p class="no-print">{anchors}</p>'
    return f'<div class="receipt">{issuer}<table>{rows}</table>{statement}</div>{actions}'

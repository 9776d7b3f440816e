"""The donor's own links from a receipt: view the gift, its receipt (page and PDF), cancel a
monthly gift, change its card. No account: each link is signed, bound to one gift or plan,
and expires. A tampered or expired link answers 403 and changes nothing; a GET never changes
anything (cancelling is a POST from the page's button)."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from chalice.app import Blueprint, Request, Response

from chalicelib.api.errors import to_response
from chalicelib.api.requests import link_token, path_id
from chalicelib.bootstrap import get_gift_mail, get_money, get_settings
from chalicelib.domain.errors import ForbiddenError, NotFoundError, StewardError, ValidationFailedError

if TYPE_CHECKING:
    from chalicelib.domain.donation import Donation
    from chalicelib.domain.tokens import DonorAction


bp = Blueprint(__name__)
FORM = ["application/x-www-form-urlencoded", "multipart/form-data"]
JSON = ["application/json"]
FREQUENCY_WORDS = {"monthly": "monthly gift", "annual": "yearly gift", "one_time": "gift"}


def _allowed(request: Request, action: DonorAction, record_id: str) -> str:
    """The link's token, once it is checked for this record; ForbiddenError otherwise."""
    from chalicelib.domain.tokens import check_donor_link
    from chalicelib.services.forms import now_ms

    token = link_token(request)
    if not check_donor_link(get_settings().keys, token, action, record_id, now_ms()):
        raise ForbiddenError("this link is not valid, or it has expired")
    return token


def _failed(exc: StewardError) -> Response:
    from chalicelib.api.pages import site_page as page

    status = to_response(exc).status_code
    sentence = exc.message[:1].upper() + exc.message[1:]
    more = " The newest receipt we sent you has a fresh link." if status == 403 else ""
    return page("This link did not work", f"<p>{html.escape(sentence)}.{more}</p>", status=status)


@bp.route("/donor/gifts/{donation_id}", methods=["GET"])
def gift_page(donation_id: str) -> Response:
    from chalicelib.api.pages import RECEIPT_STYLE
    from chalicelib.api.pages import site_page as page
    from chalicelib.domain.receipts import format_date, format_money
    from chalicelib.services.clock import utc_now
    from chalicelib.services.donations import get_donation

    try:
        gift_id = path_id(donation_id)
        token = _allowed(bp.current_request, "gift", gift_id)
        gift = get_donation(gift_id, repo=get_money().repo).donation
    except StewardError as exc:
        return _failed(exc)
    mail = get_gift_mail()
    receipt = mail.receipt(gift, gift.refunded)
    query = f"?token={html.escape(token)}"
    rows = [
        ("Amount", format_money(gift.amount, gift.currency)),
        ("Fund", receipt.fund_name),
        ("Date", format_date(receipt.paid_at)),
        ("Status", STATUS_WORDS.get(gift.display_status, gift.display_status)),
    ]
    if gift.refunded:
        rows.append(("Refunded", format_money(gift.refunded, gift.currency)))
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    links = []
    if gift.status == "succeeded":
        links += [
            f'<a href="{gift_id}/receipt{query}">Your receipt</a>',
            f'<a href="{gift_id}/receipt.pdf{query}">PDF</a>',
        ]
    if gift.recurring_id and mail.links:
        plan_query = f"?token={html.escape(mail.links.token('plan', gift.recurring_id, utc_now()))}"
        plan_base = f"../recurring/{gift.recurring_id}"
        links += [
            f'<a href="{plan_base}/card{plan_query}">Change the card</a>',
            f'<a href="{plan_base}/cancel{plan_query}">Cancel the {FREQUENCY_WORDS[gift.frequency]}</a>',
        ]
    more = f'<p class="no-print">{" ".join(links)}</p>' if links else ""
    title = f"Your {FREQUENCY_WORDS[gift.frequency]}"
    return page(title, f"<table>{table}</table>{more}", style=RECEIPT_STYLE)


STATUS_WORDS = {
    "succeeded": "Received, thank you",
    "pending": "Not completed yet",
    "failed": "Not completed: the card was declined",
    "abandoned": "Not completed",
    "refunded": "Refunded",
    "partially_refunded": "Partly refunded",
    "disputed": "Under review with your bank",
    "dispute_lost": "Returned by your bank",
}


@bp.route("/donor/gifts/{donation_id}/receipt", methods=["GET"])
def receipt(donation_id: str) -> Response:
    from chalicelib.api.pages import current_site
    from chalicelib.api.pages import receipt as receipt_document

    try:
        gift_id = path_id(donation_id)
        _allowed(bp.current_request, "gift", gift_id)
        gift = _paid(gift_id)
    except StewardError as exc:
        return _failed(exc)
    mail = get_gift_mail()
    return receipt_document(mail.receipt(gift, gift.refunded), mail.org, None, current_site())


@bp.route("/donor/gifts/{donation_id}/receipt.pdf", methods=["GET"])
def receipt_pdf(donation_id: str) -> Response:
    try:
        gift_id = path_id(donation_id)
        _allowed(bp.current_request, "gift", gift_id)
        gift = _paid(gift_id)
    except StewardError as exc:
        return _failed(exc)
    from chalicelib.adapters.receipt_pdf import receipt_pdf as render_pdf

    mail = get_gift_mail()
    document = render_pdf(mail.receipt(gift, gift.refunded), mail.org)
    return Response(
        body=document,
        status_code=200,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="receipt-{gift.receipt_number}.pdf"',
            "Cache-Control": "no-store",
            "X-Robots-Tag": "noindex",
        },
    )


def _paid(gift_id: str) -> Donation:
    from chalicelib.services.donations import get_donation

    gift = get_donation(gift_id, repo=get_money().repo).donation
    if gift.status != "succeeded" or not gift.receipt_number:
        raise NotFoundError("this gift has no receipt: it was not paid")
    return gift


@bp.route("/donor/recurring/{recurring_id}/cancel", methods=["GET"])
def cancel_page(recurring_id: str) -> Response:
    from chalicelib.api.pages import post_form
    from chalicelib.api.pages import site_page as page
    from chalicelib.domain.receipts import format_money
    from chalicelib.services import recurring

    try:
        plan_id = path_id(recurring_id, "recurring_id")
        token = _allowed(bp.current_request, "plan", plan_id)
        plan = recurring.get_plan(plan_id, get_money()).plan
    except StewardError as exc:
        return _failed(exc)
    amount = format_money(plan.amount, plan.currency)
    what = FREQUENCY_WORDS[plan.frequency]
    if plan.status == "canceled":
        return page(
            f"Your {what} has ended", f"<p>Your {what} of {amount} is canceled. Thank you for it.</p>"
        )
    next_on = html.escape((plan.next_payment_at or "")[:10])
    body = (
        f"<p>Your {what} of {html.escape(amount)} comes next on {next_on}."
        " Press the button to end it: nothing more will be charged.</p>"
    ) + post_form(token, "cancel", "yes", f"Cancel my {what}")
    return page(f"Cancel your {what}", body)


@bp.route("/donor/recurring/{recurring_id}/cancel", methods=["POST"], content_types=FORM)
def cancel(recurring_id: str) -> Response:
    from chalicelib.api.pages import site_page as page
    from chalicelib.services import recurring

    try:
        plan_id = path_id(recurring_id, "recurring_id")
        _allowed(bp.current_request, "plan", plan_id)
        plan = recurring.cancel_plan(plan_id, get_money())
    except StewardError as exc:
        return _failed(exc)
    what = FREQUENCY_WORDS[plan.frequency]
    return page(
        f"Your {what} is canceled",
        "<p>Nothing more will be charged. We sent a confirmation to "
        f"{html.escape(plan.email)}. Thank you.</p>",
    )


CARD_STYLE = "#card{border:1px solid #767676;border-radius:4px;padding:.75rem;margin:.5rem 0 1rem}"
CARD_SCRIPT = """
const data = document.getElementById('card-data').dataset;
const stripe = Stripe(data.key);
const card = stripe.elements().create('card');
card.mount('#card');
const form = document.getElementById('card-form');
const status = document.getElementById('status');
async function post(path, body) {
  const answer = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(body)});
  const json = await answer.json();
  if (!answer.ok) throw new Error(json.error ? json.error.message : 'Something went wrong');
  return json;
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  form.querySelector('button').disabled = true;
  status.textContent = 'Saving your card…';
  try {
    const intent = await post(data.base + '/intent', {token: data.token});
    const result = await stripe.confirmCardSetup(intent.client_secret, {payment_method: {card}});
    if (result.error) throw new Error(result.error.message);
    await post(data.base, {token: data.token, setup_intent_id: result.setupIntent.id});
    status.textContent = 'Your new card is saved. Your next gift will use it.';
  } catch (error) {
    status.textContent = error.message;
    form.querySelector('button').disabled = false;
  }
  status.focus();
});
"""


@bp.route("/donor/recurring/{recurring_id}/card", methods=["GET"])
def card_page(recurring_id: str) -> Response:
    from chalicelib.api.pages import site_page as page
    from chalicelib.api.pages import stripe_sources
    from chalicelib.domain.receipts import format_money
    from chalicelib.services import recurring

    try:
        plan_id = path_id(recurring_id, "recurring_id")
        token = _allowed(bp.current_request, "plan", plan_id)
        plan = recurring.get_plan(plan_id, get_money()).plan
    except StewardError as exc:
        return _failed(exc)
    settings = get_settings()
    data = {"key": settings.stripe_publishable_key, "token": token, "base": "card"}
    attributes = " ".join(f'data-{k}="{html.escape(v)}"' for k, v in data.items())
    what = FREQUENCY_WORDS[plan.frequency]
    body = (
        f'<div id="card-data" {attributes} hidden></div>'
        f"<p>Your {what} of {html.escape(format_money(plan.amount, plan.currency))}"
        " will use the card you save here.</p>"
        '<form id="card-form"><label for="card">Card</label><div id="card"></div>'
        '<button type="submit">Save my new card</button></form>'
        '<p id="status" role="status" tabindex="-1"></p>'
    )
    return page(
        "Update your card",
        body,
        script=CARD_SCRIPT,
        style=CARD_STYLE,
        stripe=stripe_sources(settings.stripe_js_url, settings.stripe_api_base),
        script_src=settings.stripe_js_url,
    )


@bp.route("/donor/recurring/{recurring_id}/card/intent", methods=["POST"], content_types=JSON)
def card_intent(recurring_id: str) -> Response:
    from chalicelib.services import recurring

    try:
        plan_id = path_id(recurring_id, "recurring_id")
        _allowed_json(bp.current_request, "plan", plan_id)
        secret = recurring.card_update_secret(plan_id, get_money())
    except StewardError as exc:
        return to_response(exc)
    return Response(body={"client_secret": secret}, status_code=200, headers={"Cache-Control": "no-store"})


@bp.route("/donor/recurring/{recurring_id}/card", methods=["POST"], content_types=JSON)
def card_saved(recurring_id: str) -> Response:
    from chalicelib.services import recurring

    try:
        plan_id = path_id(recurring_id, "recurring_id")
        body = _allowed_json(bp.current_request, "plan", plan_id)
        setup_intent_id = body.get("setup_intent_id")
        if not (
            isinstance(setup_intent_id, str)
            and setup_intent_id.startswith("seti_")
            and len(setup_intent_id) < 100
        ):
            raise ValidationFailedError(
                "setup_intent_id is missing", fields=[{"field": "setup_intent_id", "message": "a seti_ id"}]
            )
        recurring.update_card(plan_id, setup_intent_id, get_money())
    except StewardError as exc:
        return to_response(exc)
    return Response(body={"status": "updated"}, status_code=200)


def _allowed_json(request: Request, action: DonorAction, record_id: str) -> dict[str, object]:
    """A JSON body holding the link's token, checked for this record."""
    from chalicelib.domain.tokens import check_donor_link
    from chalicelib.services.forms import now_ms

    raw = request.raw_body or b""
    try:
        body = json.loads(raw if isinstance(raw, (bytes, str)) else b"") if len(raw) <= 4096 else None
    except (ValueError, RecursionError):  # nested past the parser's depth: not a 500
        body = None
    if not isinstance(body, dict):
        raise ValidationFailedError(
            "the body must be a JSON object", fields=[{"field": "body", "message": "JSON"}]
        )
    token = body.get("token")
    if not (
        isinstance(token, str) and check_donor_link(get_settings().keys, token, action, record_id, now_ms())
    ):
        raise ForbiddenError("this link is not valid, or it has expired")
    return body

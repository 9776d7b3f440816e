"""Visitor routes: email signup with double opt-in, one-click unsubscribe, the contact form."""

from __future__ import annotations

import html
from typing import Any

from chalice.app import Blueprint, Request, Response

from chalicelib.api.errors import json_errors, to_response
from chalicelib.api.public import PUBLIC_CORS
from chalicelib.api.requests import form_field, link_token, parse_body, query_token, source_ip
from chalicelib.bootstrap import get_form_rules, get_outreach_repository, get_settings, get_signup_rules
from chalicelib.domain.errors import StewardError, ValidationFailedError

bp = Blueprint(__name__)
ACCEPTED = {"status": "accepted"}
# Opening the link shows this page; its script posts the form at once, so a person needs no
# second click, while a mail scanner that only fetches the URL (GET) confirms nothing.
AUTO_SUBMIT = "document.getElementById('form').submit();"


def _link_failed(request: Request, exc: StewardError) -> Response:
    """A page for a person who opened an emailed link; the JSON error shape for anything else."""
    from chalicelib.api.pages import site_page as page

    answer = to_response(exc)
    if "text/html" not in (request.headers.get("accept") or ""):
        return answer
    sentence = exc.message[:1].upper() + exc.message[1:]
    return page("This link did not work", f"<p>{html.escape(sentence)}.</p>", status=answer.status_code)


@bp.route("/signups", methods=["POST"], cors=PUBLIC_CORS)
@json_errors
def create_signup() -> Response:
    from chalicelib.domain import outreach_forms as forms
    from chalicelib.services import signups

    request = bp.current_request
    interests = [i.id for i in get_settings().interests]
    try:  # a body the plain reading is sure of loads no pydantic (domain/outreach_forms.py)
        body = forms.read_signup(request.raw_body or b"", interests)
    except forms.Unsure:
        from chalicelib.domain.outreach import SignupRequest

        checked = parse_body(request, SignupRequest, {"interests": interests})
        body = forms.SignupForm(**checked.model_dump())
    signups.subscribe(body, source_ip(request), repo=get_outreach_repository(), rules=get_signup_rules())
    return Response(body=ACCEPTED, status_code=202)


@bp.route("/signups/confirm", methods=["GET"])
def confirm_page() -> Response:
    from chalicelib.api.pages import post_form
    from chalicelib.api.pages import site_page as page

    token = query_token(bp.current_request)
    body = "<p>Press the button to confirm your subscription.</p>" + post_form(
        token, "confirm", "yes", "Confirm my subscription"
    )
    return page("Confirm your subscription", body, script=AUTO_SUBMIT)


@bp.route(
    "/signups/confirm",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded", "multipart/form-data"],
)
def confirm_signup() -> Response:
    from chalicelib.api.pages import site_page as page
    from chalicelib.services import signups

    request = bp.current_request
    try:
        signups.confirm(link_token(request), repo=get_outreach_repository())
    except StewardError as exc:
        return _link_failed(request, exc)
    return page("You are subscribed", "<p>Thank you for confirming. You will hear from us soon.</p>")


@bp.route("/unsubscribe", methods=["GET"])
def unsubscribe_page() -> Response:
    from chalicelib.api.pages import post_form
    from chalicelib.api.pages import site_page as page

    token = query_token(bp.current_request)
    form = post_form(token, "List-Unsubscribe", "One-Click", "Unsubscribe")
    return page("Unsubscribe", "<p>Press the button to stop receiving our emails.</p>" + form)


@bp.route(
    "/unsubscribe",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded", "multipart/form-data"],
)
def unsubscribe() -> Response:
    from chalicelib.api.pages import current_site
    from chalicelib.api.pages import site_page as page
    from chalicelib.services import signups

    request = bp.current_request
    try:
        if form_field(request, "List-Unsubscribe") != "One-Click":
            raise ValidationFailedError(
                "the body must be List-Unsubscribe=One-Click",
                fields=[{"field": "List-Unsubscribe", "message": "must be One-Click"}],
            )
        signups.unsubscribe(
            link_token(request),
            repo=get_outreach_repository(),
            rules=get_signup_rules(),
        )
    except StewardError as exc:
        return _link_failed(request, exc)
    again = current_site().signup_url
    more = f'<a href="{html.escape(again)}">Sign up again</a>.' if again else "Sign up again on our website."
    return page(
        "You are unsubscribed", f"<p>You will get no more email from us.</p><p>Changed your mind? {more}</p>"
    )


@bp.route("/contact", methods=["POST"], cors=PUBLIC_CORS)
@json_errors
def submit_contact() -> Response:
    from chalicelib.domain import outreach_forms as forms
    from chalicelib.services import contact

    request = bp.current_request
    topics = {t.id: t for t in get_settings().topics}
    try:  # as for a signup
        body = forms.read_contact(request.raw_body or b"", list(topics))
    except forms.Unsure:
        from chalicelib.domain.outreach import ContactRequest

        checked = parse_body(request, ContactRequest, {"topics": list(topics)})
        body = forms.ContactForm(**checked.model_dump())
    contact.submit_contact(
        body, source_ip(request), repo=get_outreach_repository(), rules=get_form_rules(), topics=topics
    )
    return Response(body=ACCEPTED, status_code=202)


def config_fields() -> dict[str, Any]:
    """What GET /config adds for these forms."""
    from chalicelib.domain.tokens import form_token
    from chalicelib.services.forms import now_ms

    settings = get_settings()
    return {
        "form_token": form_token(settings.keys, now_ms()),
        # a form sent sooner is taken for a bot's: the page waits out the rest before sending
        "form_token_ready_seconds": settings.time_trap_seconds,
        "topics": [{"id": t.id, "name": t.name} for t in settings.topics],
        "interests": [{"id": i.id, "name": i.name} for i in settings.interests],
    }

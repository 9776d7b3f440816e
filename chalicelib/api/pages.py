"""Small HTML pages for links people open from email (confirm, unsubscribe, receipt)."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalice.app import Response

from chalicelib.domain.receipts import Organization, Receipt, ReceiptLinks, receipt_page

STYLE = (
    "body{font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    "button{font:inherit;padding:.5rem 1rem}"
)
# A receipt reads on a screen and prints on one page: no links, no page margin of its own.
RECEIPT_STYLE = (
    "table{border-collapse:collapse;width:100%;margin:1rem 0}"
    "th,td{text-align:left;vertical-align:top;padding:.25rem .5rem .25rem 0;border-bottom:1px solid #ddd}"
    "th{font-weight:600;width:40%}"
    ".no-print a{display:inline-block;margin-right:1rem}"
    "@page{size:auto;margin:15mm}"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:11pt;color:#000}"
    "h1{font-size:16pt;margin:0 0 .5rem}.no-print{display:none}"
    "table,tr,p{break-inside:avoid}}"
)

STRIPE_API = "https://api.stripe.com"
STRIPE_HOOKS = "https://hooks.stripe.com"  # the 3-D Secure frames Stripe.js opens


@dataclass(frozen=True)
class StripeSources:
    """What a page that mounts Stripe.js must allow: its script, the API it calls (connect-src)
    and the frames it opens (frame-src), as Stripe documents for a CSP."""

    script: str
    connect: tuple[str, ...]
    frames: tuple[str, ...]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_sources(js_url: str, api_base: str | None) -> StripeSources:
    """Stripe.js at js_url calls the API at api_base (Stripe's own when None); locally both are
    localstripe, at Stripe they are js.stripe.com, api.stripe.com and hooks.stripe.com."""
    script = _origin(js_url)
    api = _origin(api_base) if api_base else STRIPE_API
    frames = (script,) if api_base else (script, STRIPE_HOOKS)
    return StripeSources(script, tuple(dict.fromkeys((script, api))), frames)


def page(
    title: str,
    body: str,
    status: int = 200,
    script: str | None = None,
    *,
    style: str = "",
    stripe: StripeSources | None = None,
    script_src: str | None = None,
) -> Response:
    """An HTML page under a strict CSP. `stripe` and `script_src` open only what Stripe.js
    needs (its script, its API and its frames) on the pages that mount it."""
    nonce = secrets.token_urlsafe(12)
    loader = f'<script src="{html.escape(script_src)}"></script>' if script_src else ""
    script_tag = f'<script nonce="{nonce}">{script}</script>' if script else ""
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}{style}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}{loader}{script_tag}</body></html>"
    )
    scripts = f"'nonce-{nonce}'" + (f" {stripe.script}" if stripe else "")
    opened = (
        f"; connect-src 'self' {' '.join(stripe.connect)}; frame-src {' '.join(stripe.frames)}"
        if stripe
        else ""
    )
    return Response(
        body=document,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Robots-Tag": "noindex",
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'unsafe-inline'; script-src {scripts}; "
                f"form-action 'self'; frame-ancestors 'none'{opened}"
            ),
        },
    )


def post_form(token: str, field: str, value: str, button: str) -> str:
    """A form that posts back to this same URL (the token stays in the query string)."""
    return (
        f'<form method="post" action="" id="form">'
        f'<input type="hidden" name="{field}" value="{html.escape(value)}">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        f'<button type="submit">{html.escape(button)}</button></form>'
    )


def receipt(receipt: Receipt, org: Organization, links: ReceiptLinks | None) -> Response:
    """The print-friendly receipt page."""
    return page("Donation receipt", receipt_page(receipt, org, links), style=RECEIPT_STYLE)

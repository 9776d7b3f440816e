"""Small HTML pages for links people open from email (confirm, unsubscribe, receipt)."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chalice.app import Response

from chalicelib.domain.receipts import Organization, Receipt, ReceiptLinks, receipt_page

# The forms' look (web/embed.css): the same colours, type, 44 px targets and focus ring.
STYLE = (
    "*{box-sizing:border-box}"
    "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;line-height:1.5;"
    "color:#1d1d1b;background:#f6f6f2;overflow-wrap:anywhere}"
    ".masthead{background:#1f5f8b;color:#fff;padding:.9rem 1rem}"
    ".masthead p{max-width:40rem;margin:0 auto;font-weight:700;font-size:1.15rem}"
    ".masthead a{color:#fff}"
    "main{display:block;max-width:40rem;margin:1.5rem auto;padding:1.5rem;background:#fff;border-radius:8px}"
    "h1{margin:0 0 1rem;font-size:1.6rem;line-height:1.25}"
    "a{color:#1f5f8b}"
    "button{font:inherit;font-weight:700;min-height:48px;padding:.6rem 1.4rem;border:0;border-radius:4px;"
    "background:#1f5f8b;color:#fff;cursor:pointer}"
    "button:hover{background:#16476a}button:disabled{background:#5f6f7a}"
    ":focus-visible,#status:focus{outline:3px solid #b34700;outline-offset:2px}"
    ".site-footer{max-width:40rem;margin:0 auto 2rem;padding:0 1.5rem;color:#4f4f4a;font-size:.92rem}"
    ".site-footer p{margin:.3rem 0}.site-footer a{display:inline-block;min-height:44px;padding:.6rem 0}"
    "@media (max-width:480px){main{margin:0;border-radius:0;padding:1rem}.site-footer{padding:0 1rem}}"
    "@media print{.no-print{display:none}body{background:#fff}main{margin:0;padding:0}}"
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


@dataclass(frozen=True)
class Site:
    """Whom a page speaks for: the organization's name and address, and its website (the way
    back, and where its signup form is) when STEWARD_SITE_URL is set."""

    name: str
    address: str
    url: str | None = None

    @property
    def signup_url(self) -> str | None:
        """The embedded signup form on the organization's site (web/embed.js gives it this id)."""
        return f"{self.url}#steward-signup" if self.url else None


def current_site() -> Site:
    from chalicelib.bootstrap import get_settings

    settings = get_settings()
    return Site(settings.org_name, settings.org_address, settings.site_url)


def _frame(site: Site | None) -> tuple[str, str]:
    """The header and footer around a page's main content."""
    if site is None:
        return "", ""
    name = html.escape(site.name)
    home = f'<a href="{html.escape(site.url)}">{name}</a>' if site.url else name
    back = f'<p><a href="{html.escape(site.url)}">Back to {name}</a></p>' if site.url else ""
    header = f'<header class="masthead no-print"><p>{home}</p></header>'
    footer = (
        f'<footer class="site-footer no-print"><p>{name}</p><p>{html.escape(site.address)}</p>{back}</footer>'
    )
    return header, footer


def page(
    title: str,
    body: str,
    status: int = 200,
    script: str | None = None,
    *,
    style: str = "",
    stripe: StripeSources | None = None,
    script_src: str | None = None,
    site: Site | None = None,
) -> Response:
    """An HTML page under a strict CSP. `stripe` and `script_src` open only what Stripe.js
    needs (its script, its API and its frames) on the pages that mount it. With a `site`, the
    page carries the organization's header and footer."""
    nonce = secrets.token_urlsafe(12)
    loader = f'<script src="{html.escape(script_src)}"></script>' if script_src else ""
    script_tag = f'<script nonce="{nonce}">{script}</script>' if script else ""
    header, footer = _frame(site)
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}{style}</style></head>"
        f"<body>{header}<main><h1>{html.escape(title)}</h1>{body}</main>{footer}"
        f"{loader}{script_tag}</body></html>"
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


def site_page(
    title: str, body: str, status: int = 200, script: str | None = None, **options: Any
) -> Response:
    """`page` for a view: with the organization's header and footer."""
    return page(title, body, status, script, site=current_site(), **options)


def post_form(token: str, field: str, value: str, button: str) -> str:
    """A form that posts back to this same URL (the token stays in the query string)."""
    return (
        f'<form method="post" action="" id="form">'
        f'<input type="hidden" name="{field}" value="{html.escape(value)}">'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        f'<button type="submit">{html.escape(button)}</button></form>'
    )


def receipt(
    receipt: Receipt, org: Organization, links: ReceiptLinks | None, site: Site | None = None
) -> Response:
    """The print-friendly receipt page (its header and footer are not printed)."""
    return page("Donation receipt", receipt_page(receipt, org, links), style=RECEIPT_STYLE, site=site)

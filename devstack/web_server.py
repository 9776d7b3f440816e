"""Serve web/ (the demo site, with its CSP, and the finance dashboard under /staff/), the pinned npm
files under /vendor/, /steward-env.js (where the API is and how staff sign in), and the
local issuer's JWKS.

The dashboard calls the API on its own origin, under /api/: this server passes those
requests on to the API, as a CloudFront behavior for /api/* does on AWS. Staff routes need
no CORS, and the bearer token never leaves the page's origin.
"""

from __future__ import annotations

import argparse
import functools
import html
import http.client
import json
import os
import re
import time
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from chalicelib.api.pages import stripe_sources
from devstack import npm

JWKS_PATH = "/.well-known/jwks.json"
WEB = Path(__file__).resolve().parent.parent / "web"
API_PREFIX = "/api/"
VENDOR_PREFIX = "/vendor/"
PASSED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Accept")
# The API's own page headers too: its HTML pages (confirm, unsubscribe, receipt) keep their
# strict policy when they are opened on this origin.
RETURNED_HEADERS = (
    "Content-Disposition",
    "Retry-After",
    "WWW-Authenticate",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Robots-Tag",
)
MAX_BODY = 1 << 20
DEMO_API_ATTRIBUTE = 'data-api="http://127.0.0.1:8000"'
STRIPE_JS = "https://js.stripe.com/"
DEMO_PAGES = ("index.html", "privacy.html")


@functools.cache
def _stripe_js_url(api_url: str) -> str:
    """The Stripe.js the forms load: GET /config's (localstripe's here, js.stripe.com with
    production settings). Kept once read; a failed read is not kept."""
    with urllib.request.urlopen(f"{api_url}/config", timeout=10) as answer:
        return str(json.load(answer)["stripe_js_url"])


def demo_policy(api_url: str, js_url: str | None = None) -> str:
    """The demo site's CSP: its own files, the API it calls, and what Stripe.js at js_url
    (GET /config's when None) needs: its script, its API and its frames, as the service's donor
    pages allow them. No inline script or style, no framing."""
    if js_url is None:
        try:
            js_url = _stripe_js_url(api_url)
        except (OSError, ValueError, KeyError):
            js_url = STRIPE_JS  # the API is not up yet: production's Stripe.js
    js = urllib.parse.urlsplit(js_url)
    # Stripe.js calls api.stripe.com; an emulator serves its script and its API together.
    stripe_api = None if js_url.startswith(STRIPE_JS) else f"{js.scheme}://{js.netloc}"
    stripe = stripe_sources(js_url, stripe_api)
    api = urllib.parse.urlsplit(api_url)
    connect = " ".join(dict.fromkeys((f"{api.scheme}://{api.netloc}", *stripe.connect)))
    return (
        f"default-src 'self'; script-src 'self' {stripe.script}; style-src 'self'; "
        f"connect-src 'self' {connect}; frame-src {' '.join(stripe.frames)}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


IDLE_SECONDS = 10  # a client that sends nothing for this long is dropped
BODY_SECONDS = 10  # and a body must arrive whole within this long
# What a forwarded path and query may hold: printable ASCII, no space or control character.
TARGET = re.compile(r"/[\x21-\x7e]*")


class Handler(SimpleHTTPRequestHandler):
    """web/ plus generated files, the vendored npm files, and the /api/ pass-through."""

    api_url = ""
    jwks: Path | None = None
    vendor: Path = npm.ASSETS_DIR
    sign_in: dict[str, str] = {}
    timeout = IDLE_SECONDS

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith(API_PREFIX):
            return self._pass_on()
        if path == "/steward-env.js":
            body = (
                f"window.STEWARD_API = {json.dumps(self.api_url)};\n"
                f"window.STEWARD_STAFF_API = {json.dumps(API_PREFIX.rstrip('/'))};\n"
                f"window.STEWARD_SIGN_IN = {json.dumps(self.sign_in)};\n"
            ).encode()
            return self._send(200, body, "application/javascript")
        demo = self._demo_page()
        if demo is not None:
            # The demo page names the API as any host page does (`data-api` on the embed script),
            # with `make run`'s default address; served here with the address this stack uses.
            page = demo.read_text()
            page = page.replace(DEMO_API_ATTRIBUTE, f'data-api="{html.escape(self.api_url)}"')
            return self._send(200, page.encode(), "text/html; charset=utf-8")
        if path == JWKS_PATH and self.jwks:
            return self._send(200, self.jwks.read_bytes(), "application/json")
        if path.startswith(VENDOR_PREFIX):
            name = path[len(VENDOR_PREFIX) :]
            file = self.vendor / name
            if "/" in name or name.startswith(".") or not file.is_file():
                return self._send(404, b"not found", "text/plain")
            kind = "text/css" if name.endswith(".css") else "application/javascript"
            if name.endswith("LICENSE"):
                kind = "text/plain"
            return self._send(200, file.read_bytes(), kind, cache=True)
        return super().do_GET()

    def do_POST(self) -> None:
        self._pass_on_or_refuse()

    def do_PATCH(self) -> None:
        self._pass_on_or_refuse()

    def do_PUT(self) -> None:
        self._pass_on_or_refuse()

    def do_DELETE(self) -> None:
        self._pass_on_or_refuse()

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if self._demo_page() is not None:
            self.send_header("Content-Security-Policy", demo_policy(self.api_url))
            self.send_header("X-Frame-Options", "DENY")
        if self._is_dashboard():
            # The dashboard runs only its own files: no inline script or style, no framing.
            # With Cognito's hosted UI, the page also exchanges its code at that domain.
            domain = self.sign_in.get("cognito_domain")
            connect = f"connect-src 'self' https://{domain}; " if domain else ""
            self.send_header(
                "Content-Security-Policy",
                f"default-src 'self'; {connect}img-src 'self' data: blob:; frame-ancestors 'none'; "
                "base-uri 'none'; form-action 'self'",
            )
            self.send_header("X-Frame-Options", "DENY")
        super().end_headers()

    def _served(self) -> Path | None:
        """The file under web/ this answer serves, however its path is spelled (/%73taff/,
        /./staff/, /x/../staff/, /%69ndex.html...); None for /api/ or a refused request line."""
        raw = getattr(self, "path", "")  # unset when the request line itself was refused
        if not raw or urllib.parse.urlsplit(raw).path.startswith(API_PREFIX):
            return None
        target = Path(self.translate_path(raw))
        return WEB / "index.html" if target == WEB else target

    def _demo_page(self) -> Path | None:
        """The demo site's page this answer serves, or None."""
        target = self._served()
        return target if target and target.parent == WEB and target.name in DEMO_PAGES else None

    def _is_dashboard(self) -> bool:
        target = self._served()
        return target is not None and target.is_relative_to(WEB / "staff")

    def _pass_on_or_refuse(self) -> None:
        if urllib.parse.urlsplit(self.path).path.startswith(API_PREFIX):
            return self._pass_on()
        self._error(405, "method_not_allowed", "only /api/ takes this method")

    def _pass_on(self) -> None:
        """One request on to the API, with the headers the API reads, and its answer back."""
        parts = urllib.parse.urlsplit(self.path)
        path = "/" + parts.path[len(API_PREFIX) :] + (f"?{parts.query}" if parts.query else "")
        if not TARGET.fullmatch(path):
            return self._error(400, "bad_request", "the path holds a space, control or non-ASCII character")
        body, refused = self._body()
        if refused:
            return self._error(*refused)
        target = urllib.parse.urlsplit(self.api_url)
        headers = {name: self.headers[name] for name in PASSED_HEADERS if self.headers.get(name)}
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=60)
        try:
            connection.request(self.command, path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except ValueError:  # a header value http.client will not send
            return self._error(400, "bad_request", "a header holds a line break or a control character")
        except OSError:
            return self._error(502, "bad_gateway", "the API is not answering")
        finally:
            connection.close()
        kept = {name: value for name in RETURNED_HEADERS if (value := answer.getheader(name))}
        self._send(answer.status, data, answer.getheader("Content-Type") or "application/json", kept)

    def _body(self) -> tuple[bytes | None, tuple[int, str, str] | None]:
        """The request's body, read whole within BODY_SECONDS, or why it is refused."""
        if self.headers.get("Transfer-Encoding"):
            return None, (411, "length_required", "send the body with a Content-Length, not chunked")
        declared = (self.headers.get("Content-Length") or "0").strip()
        if not declared.isascii() or not declared.isdigit():
            return None, (400, "bad_request", "Content-Length must be a whole number of bytes")
        length = int(declared)
        if length > MAX_BODY:
            return None, (413, "payload_too_large", "the body is over 1 MiB")
        chunks: list[bytes] = []
        left, deadline = length, time.monotonic() + BODY_SECONDS
        try:
            while left:
                self.connection.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = self.rfile.read1(left)
                if not chunk:
                    return None, (400, "bad_request", "the body ended before its Content-Length")
                chunks.append(chunk)
                left -= len(chunk)
                if left and time.monotonic() >= deadline:
                    raise TimeoutError
        except TimeoutError:
            self.close_connection = True
            return None, (408, "request_timeout", f"the body did not arrive within {BODY_SECONDS} s")
        finally:
            self.connection.settimeout(self.timeout)
        return (b"".join(chunks) if length else None), None

    def _error(self, status: int, code: str, message: str) -> None:
        """The API's error shape, for what this server refuses itself."""
        self._send(
            status, json.dumps({"error": {"code": code, "message": message}}).encode(), "application/json"
        )

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        cache: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description="Static server for web/")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--jwks", type=Path, help=f"serve this file at {JWKS_PATH}")
    parser.add_argument("--vendor", type=Path, default=npm.ASSETS_DIR, help="the unpacked npm files")
    args = parser.parse_args()
    Handler.api_url = args.api_url
    Handler.jwks = args.jwks
    Handler.vendor = args.vendor
    # On AWS the dashboard signs in through the Cognito hosted UI (authorization code + PKCE).
    domain, client = os.environ.get("STEWARD_COGNITO_DOMAIN"), os.environ.get("STEWARD_COGNITO_CLIENT_ID")
    if domain and not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
        parser.error("STEWARD_COGNITO_DOMAIN must be a host name, such as auth.example.org")
    Handler.sign_in = {"cognito_domain": domain, "client_id": client} if domain and client else {}
    handler = functools.partial(Handler, directory=str(WEB))
    ThreadingHTTPServer((args.host, args.port), handler).serve_forever()


if __name__ == "__main__":
    main()

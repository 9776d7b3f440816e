"""Serve web/ (the donation page and the finance dashboard under /staff/), the pinned npm
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
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from devstack import npm

JWKS_PATH = "/.well-known/jwks.json"
WEB = Path(__file__).resolve().parent.parent / "web"
API_PREFIX = "/api/"
VENDOR_PREFIX = "/vendor/"
PASSED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Accept")
RETURNED_HEADERS = ("Content-Disposition", "Retry-After", "WWW-Authenticate")
MAX_BODY = 1 << 20
DEMO_API_ATTRIBUTE = 'data-api="http://127.0.0.1:8000"'


class Handler(SimpleHTTPRequestHandler):
    """web/ plus generated files, the vendored npm files, and the /api/ pass-through."""

    api_url = ""
    jwks: Path | None = None
    vendor: Path = npm.ASSETS_DIR
    sign_in: dict[str, str] = {}

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
        if path in ("/", "/index.html"):
            # The demo page names the API as any host page does (`data-api` on the embed script),
            # with `make run`'s default address; served here with the address this stack uses.
            page = (WEB / "index.html").read_text()
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
        if urllib.parse.urlsplit(self.path).path.startswith("/staff/"):
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

    def _pass_on_or_refuse(self) -> None:
        if urllib.parse.urlsplit(self.path).path.startswith(API_PREFIX):
            return self._pass_on()
        self._error(405, "method_not_allowed", "only /api/ takes this method")

    def _pass_on(self) -> None:
        """One request on to the API, with the headers the API reads, and its answer back."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self._error(413, "payload_too_large", "the body is over 1 MiB")
        body = self.rfile.read(length) if length else None
        target = urllib.parse.urlsplit(self.api_url)
        path = "/" + self.path[len(API_PREFIX) :]
        headers = {name: self.headers[name] for name in PASSED_HEADERS if self.headers.get(name)}
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=60)
        try:
            connection.request(self.command, path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except OSError:
            return self._error(502, "bad_gateway", "the API is not answering")
        finally:
            connection.close()
        kept = {name: answer.getheader(name) for name in RETURNED_HEADERS if answer.getheader(name)}
        self._send(answer.status, data, answer.getheader("Content-Type") or "application/json", kept)

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

"""Serve web/ and /steward-env.js, which tells the page where the API listens."""

from __future__ import annotations

import argparse
import functools
import json
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

JWKS_PATH = "/.well-known/jwks.json"
WEB = Path(__file__).resolve().parent.parent / "web"


class Handler(SimpleHTTPRequestHandler):
    """web/ plus two generated files: where the API is, and the local issuer's JWKS."""

    api_url = ""
    jwks: Path | None = None

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/steward-env.js":
            body = f"window.STEWARD_API = {json.dumps(self.api_url)};\n".encode()
            return self._send(body, "application/javascript")
        if path == JWKS_PATH and self.jwks:
            return self._send(self.jwks.read_bytes(), "application/json")
        return super().do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
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
    args = parser.parse_args()
    Handler.api_url = args.api_url
    Handler.jwks = args.jwks
    handler = functools.partial(Handler, directory=str(WEB))
    ThreadingHTTPServer((args.host, args.port), handler).serve_forever()


if __name__ == "__main__":
    main()

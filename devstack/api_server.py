"""`chalice local`'s server, answering an unknown route 404 in Steward's error shape.

Chalice's local gateway answers a path no route matches with API Gateway's
403 {"message": "Missing Authentication Token"}; on AWS the template's GatewayResponse
turns that into the 404 below, and this wrapper does the same locally. Everything else
is chalice's own server, loaded the way `chalice local` loads it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice.app import Chalice
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.deploy.validate import validate_routes
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    ThreadedHTTPServer,
)

from chalicelib import logs
from chalicelib.api.errors import NO_ROUTE, NO_ROUTE_HEADERS
from devstack import call_log

access_log = logging.getLogger("steward.local_server")


class RouteNotFoundError(LocalGatewayException):
    CODE = 404


class Gateway(LocalGateway):
    resource: str | None = None  # the route the request matched, for its access line

    def _generate_lambda_event(
        self, method: str, path: str, headers: Any, body: bytes | None
    ) -> dict[str, Any]:
        self.resource = None
        try:
            event = super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # chalice's route matcher found no route for the path
            raise RouteNotFoundError(
                {"Content-Type": "application/json", **NO_ROUTE_HEADERS}, json.dumps(NO_ROUTE).encode()
            ) from None
        event["requestContext"]["requestId"] = str(uuid.uuid4())  # as API Gateway names each request
        self.resource = event["requestContext"]["resourcePath"]
        return event

    def _has_user_defined_options_method(self, lambda_event: dict[str, Any]) -> bool:
        """Chalice's local gateway answers OPTIONS itself (200, no body, no headers) on every
        route. API Gateway answers a CORS preflight only where a view enables CORS; on any
        other route OPTIONS is a method the route lacks, so the app answers it (405)."""
        routes = self._app_object.routes[lambda_event["requestContext"]["resourcePath"]]
        return "OPTIONS" in routes or all(view.cors is None for view in routes.values())


class RequestHandler(ChaliceRequestHandler):
    def __init__(
        self, request: Any, client_address: Any, server: Any, app_object: Chalice, config: Config
    ) -> None:
        self.local_gateway = Gateway(app_object, config)
        # BaseHTTPRequestHandler serves the request from its constructor.
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a header or request line over 64 KiB, a malformed
        request line) in the error shape, not its HTML page."""
        status = HTTPStatus(code)
        field = {431: "headers", 414: "path"}.get(code, "request")
        body = json.dumps(
            {
                "error": {
                    "code": re.sub(r"[^a-z]+", "_", status.phrase.lower()),
                    "message": status.phrase,
                    "fields": [{"field": field, "message": status.description or status.phrase}],
                }
            }
        ).encode()
        self.log_error("code %d, message %s", code, message)
        self.send_response(code, status.phrase)
        for name, value in {"Content-Type": "application/json", **NO_ROUTE_HEADERS}.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The access line, JSON like the app's own. It names the route the request matched, as
        API Gateway's access log does ($context.resourcePath), not the path: a path holds a
        donor's address (/staff/donors/{email}), and a query a signup's token. A request no
        route matched is "-"."""
        gateway = getattr(self, "local_gateway", None)
        resource = getattr(gateway, "resource", None) or "-"
        access_log.info("%s %s %s", getattr(self, "command", "-"), resource, code)
        if gateway is not None:
            gateway.resource = None

    def log_message(self, format: str, *args: Any) -> None:
        """http.server's own complaints (a bad request line): JSON, naming the complaint but
        not what it quotes of the request (`Bad request syntax ('<the line>')`: a path, a
        query, whatever a careless client sent)."""
        access_log.warning("http.server: %s", re.sub(r"\s*\(.*\)$", "", format % args, flags=re.DOTALL))

    def __getattr__(self, name: str) -> Any:
        """http.server answers a method without a `do_<METHOD>` (TRACE, QUERY, ...) with an
        HTML 501; every method goes to the app instead, which answers a method a route lacks
        with 405 in the error shape."""
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


class JsonErrorServer(ThreadedHTTPServer):
    """socketserver prints a plain traceback when serving a request fails (a client that hangs
    up mid-answer): one JSON line naming the exception's type instead, as the app logs."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        failure = sys.exc_info()[1]
        access_log.warning("http.server: serving a request failed: %s", type(failure).__name__)


def create_server(project_dir: str, stage: str, host: str, port: int) -> LocalDevServer:
    """What `chalice local` builds, with the request handler above."""
    os.chdir(project_dir)
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    config = CLIFactory(project_dir, environ=os.environ).create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    validate_routes(app.routes)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=RequestHandler, server_cls=JsonErrorServer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Steward's API on chalice's local server")
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    logs.configure()  # JSON lines, as on Lambda (chalicelib/logs.py)
    call_log.install()  # only when STEWARD_RECORD_DYNAMODB_CALLS names a file (the test suite)
    create_server(args.project_dir, args.stage, args.host, args.port).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

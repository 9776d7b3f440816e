"""The local API server's own failures (a client that hangs up mid-answer) are JSON lines like
every other, naming only the exception's type: never socketserver's plain traceback."""

from __future__ import annotations

import io
import json
import logging
import sys

from chalicelib import logs
from devstack.api_server import JsonErrorServer, RequestHandler


def test_a_request_that_fails_in_the_server_is_one_json_line_naming_its_type() -> None:
    server = JsonErrorServer.__new__(JsonErrorServer)  # no socket: only its error handling
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("steward.local_server")
    logger.addHandler(handler)
    saved, sys.stderr = sys.stderr, err
    try:
        try:
            raise ConnectionResetError("peer ana@example.org went away")
        except ConnectionResetError:
            server.handle_error(object(), ("127.0.0.1", 5555))
    finally:
        sys.stderr = saved
        logger.removeHandler(handler)
    assert err.getvalue() == ""  # socketserver's default prints a traceback here
    [line] = out.getvalue().splitlines()
    record = json.loads(line)
    assert "ConnectionResetError" in record["message"] and "ana@example.org" not in line


def test_a_malformed_request_line_is_named_without_what_it_held() -> None:
    handler = RequestHandler.__new__(RequestHandler)  # no socket: only its log line
    out = io.StringIO()
    stream = logging.StreamHandler(out)
    stream.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("steward.local_server")
    logger.addHandler(stream)
    try:
        handler.log_error("code %d, message %s", 400, "Bad request syntax ('ana@example.org')")
        handler.log_error("code %d, message %s", 400, "Bad request version ('GET /x/b@example.org')")
        handler.log_error("code %d, message %s", 505, "Invalid HTTP version (c@example.org x)")
    finally:
        logger.removeHandler(stream)
    messages = [json.loads(line)["message"] for line in out.getvalue().splitlines()]
    assert messages == [
        "http.server: code 400, message Bad request syntax",
        "http.server: code 400, message Bad request version",
        "http.server: code 505, message Invalid HTTP version",
    ]

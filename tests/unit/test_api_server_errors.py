"""The local API server's own failures (a client that hangs up mid-answer) are JSON lines like
every other, naming only the exception's type: never socketserver's plain traceback."""

from __future__ import annotations

import io
import json
import logging
import sys

from chalicelib import logs
from devstack.api_server import JsonErrorServer


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

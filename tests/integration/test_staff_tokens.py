"""Staff bearer tokens: real RS256 tokens signed with the local key, verified against the JWKS
the local web server serves. Only Cognito-shaped access tokens with well-typed claims pass."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.auth import TokenVerifier
from chalicelib.domain.errors import UnauthorizedError, UpstreamError
from devstack import tokens
from devstack.stack import Stack
from tests.helpers import Api
from tests.integration.test_errors import assert_error_shape

GIFT_URL = "/staff/donations/01ARZ3NDEKTSV4RRFFQ69G5FAV"  # 404 for a finance token: it passed
LATER = int(time.time()) + 3600
WRONG_CLAIMS: dict[str, dict[str, Any]] = {
    "roles an integer": {"cognito:groups": 5},
    "roles a bool": {"cognito:groups": True},
    "roles a dict": {"cognito:groups": {"finance": 1}},
    "roles holding a number": {"cognito:groups": ["finance", 7]},
    "roles null": {"cognito:groups": None},
    "exp a string": {"exp": str(LATER)},
    "exp a bool": {"exp": True},
    "exp infinite": {"exp": float("inf")},
    "exp not a number": {"exp": float("nan")},
    "iat a string": {"iat": str(int(time.time()))},
    "nbf a string": {"nbf": "0"},
    "sub a number": {"sub": 42},
    "sub empty": {"sub": ""},
    "iss a list": {"iss": [tokens.ISSUER]},
    "client_id a list": {"client_id": [tokens.AUDIENCE]},
    "token_use a number": {"token_use": 1},
    "token_use id on an access token": {"token_use": "id"},
    "token_use unknown": {"token_use": "refresh"},
}


def test_a_cognito_shaped_access_token_passes(api: Api, token) -> None:
    assert api.get(GIFT_URL, token()).status_code == 404
    roles = {"cognito:groups": ["finance", "admin"]}
    assert api.get(GIFT_URL, token(claims=roles)).status_code == 404


@pytest.mark.parametrize("claims", list(WRONG_CLAIMS.values()), ids=list(WRONG_CLAIMS))
def test_a_claim_of_the_wrong_type_is_401(api: Api, token, claims: dict[str, Any]) -> None:
    error = assert_error_shape(api.get(GIFT_URL, token(claims=claims)), 401)
    assert error["code"] == "unauthorized"


@pytest.mark.parametrize("missing", ["token_use", "client_id", "sub", "exp", "iat"])
def test_a_missing_claim_is_401(api: Api, token, missing: str) -> None:
    assert_error_shape(api.get(GIFT_URL, token(without=(missing,))), 401)


def test_an_id_token_is_refused_by_default(api: Api, token) -> None:
    assert_error_shape(api.get(GIFT_URL, token(use="id")), 401)


def test_id_tokens_pass_only_where_configured(stack: Stack, token) -> None:
    jwks = stack.app_env()["STEWARD_JWKS_URL"]
    verifier = TokenVerifier(jwks, tokens.ISSUER, tokens.AUDIENCE, "cognito:groups", accept_id_tokens=True)
    assert verifier.verify(token(use="id")).roles == {"finance"}
    assert verifier.verify(token()).roles == {"finance"}
    for bad in (token(use="id", audience="another-client"), token(use="id", claims={"aud": 5})):
        with pytest.raises(UnauthorizedError):
            verifier.verify(bad)


def test_an_unreachable_jwks_is_503_not_a_bad_token(token) -> None:
    """Nothing is known about a token whose keys could not be fetched: retry, not 401."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once the socket closes
    verifier = TokenVerifier(
        f"http://127.0.0.1:{port}/jwks.json", tokens.ISSUER, tokens.AUDIENCE, "cognito:groups"
    )
    with pytest.raises(UpstreamError):
        verifier.verify(token())


def test_a_jwks_that_never_answers_is_503_within_the_lambda_timeout(token) -> None:
    """A JWKS that accepts the connection and then says nothing must not outlast the Lambda,
    or the caller gets API Gateway's bare 504 instead of a 503 in our shape."""
    config = json.loads((Path(__file__).resolve().parents[2] / ".chalice" / "config.json").read_text())
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel accepts the connection; nobody ever reads or writes
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json"
        verifier = TokenVerifier(url, tokens.ISSUER, tokens.AUDIENCE, "cognito:groups")
        started = time.monotonic()
        with pytest.raises(UpstreamError):
            verifier.verify(token())
        assert time.monotonic() - started < config["lambda_timeout"]


def test_a_key_dropped_from_the_jwks_stops_verifying_once_the_cached_set_expires(stack: Stack, token) -> None:
    """A signing key the issuer withdraws (rotated out after a leak) must stop passing in a warm
    container once the cached JWK set expires, not live on in a per-key cache for good."""
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    with urllib.request.urlopen(stack.app_env()["STEWARD_JWKS_URL"], timeout=5) as answer:
        served = {"body": answer.read()}

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(served["body"])

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        verifier = TokenVerifier(url, tokens.ISSUER, tokens.AUDIENCE, "cognito:groups", jwks_cache_seconds=1)
        assert verifier.verify(token()).roles == {"finance"}
        served["body"] = b'{"keys": []}'
        time.sleep(1.5)
        with pytest.raises(UnauthorizedError):
            verifier.verify(token())
    finally:
        server.shutdown()
        server.server_close()

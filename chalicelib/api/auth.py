"""Staff bearer tokens: JWTs verified against the configured issuer's JWKS (a Cognito user
pool in production). Verified inside the app, so it runs the same locally and on AWS and
answers 401/403 in Steward's error shape."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from chalice.app import Request

from chalicelib.domain.errors import ForbiddenError, UnauthorizedError, UpstreamError

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 30
# PyJWKClient waits 30 s by default: longer than the Lambda's own timeout (25 s), so a JWKS
# that hangs would end the request as API Gateway's bare 504 instead of our 503.
JWKS_TIMEOUT_SECONDS = 5
# How long a fetched JWK set is trusted. Keys are read from that set on every request (no
# per-key cache, which never expires), so a key the issuer withdraws stops verifying then.
JWKS_CACHE_SECONDS = 600


@dataclass(frozen=True)
class Staff:
    """A verified staff member: the token's subject and roles."""

    subject: str
    roles: frozenset[str]


class TokenVerifier:
    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        audience: str,
        role_claim: str,
        accept_id_tokens: bool = False,
        jwks_cache_seconds: float = JWKS_CACHE_SECONDS,
    ) -> None:
        import jwt  # loaded on the first staff request, not on every cold start

        self._jwks = jwt.PyJWKClient(
            jwks_url, cache_keys=False, lifespan=jwks_cache_seconds, timeout=JWKS_TIMEOUT_SECONDS
        )
        self._issuer = issuer
        self._audience = audience
        self._role_claim = role_claim
        self._accept_id_tokens = accept_id_tokens

    def verify(self, token: str) -> Staff:
        import jwt

        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        # The issuer's JWKS could not be fetched: nothing is known about the token yet, so
        # the caller retries (503) rather than being told its token is bad (401).
        except jwt.PyJWKClientConnectionError as exc:
            raise UpstreamError("the staff sign-in keys could not be fetched; retry") from exc
        # PyJWT reads some claims of the wrong type as a TypeError (an `iss` list, say).
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise UnauthorizedError("the bearer token is not valid") from exc
        return staff_from_claims(claims, self._audience, self._role_claim, self._accept_id_tokens)


TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")
TEXT_CLAIMS = ("iss", "sub", "token_use")


def staff_from_claims(
    claims: dict[str, Any], audience: str, role_claim: str, accept_id_tokens: bool
) -> Staff:
    """The caller named by verified claims. Each claim must have the type Cognito gives it
    (PyJWT reads an `exp` of "123" as a number): a wrong one is 401, never a guess. An access
    token names its app client in `client_id`; an ID token, in `aud`, only if configured."""
    for name in TIME_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise _malformed(name)
    for name in TEXT_CLAIMS:
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise _malformed(name)
    use = claims["token_use"]
    if use == "access":
        client = claims.get("client_id")
    elif use == "id" and accept_id_tokens:
        client = claims.get("aud")
    else:
        raise UnauthorizedError("send an access token")
    if not isinstance(client, str) or client != audience:
        raise UnauthorizedError("the bearer token is for another audience")
    return Staff(claims["sub"], _roles(claims, role_claim))


def _roles(claims: dict[str, Any], role_claim: str) -> frozenset[str]:
    """A list of role names, or one space-separated string; absent means none."""
    if role_claim not in claims:
        return frozenset()
    roles = claims[role_claim]
    if isinstance(roles, str):
        return frozenset(roles.split())
    if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
        raise _malformed(role_claim)
    return frozenset(roles)


def _malformed(claim: str) -> UnauthorizedError:
    return UnauthorizedError(f"the bearer token's {claim} claim is missing or not of its type")


_current: ContextVar[Staff] = ContextVar("staff")


def current_staff() -> Staff:
    """The verified caller of the staff view now running."""
    return _current.get()


def _holds(roles: frozenset[str], wanted: str) -> bool:
    if wanted.endswith(":*"):
        return any(role.startswith(wanted[:-1]) for role in roles)
    return wanted in roles


def bearer_token(request: Request) -> str:
    value = request.headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("send a bearer token in the Authorization header")
    return token.strip()


def requires_role(
    current_request: Callable[[], Request],
    *roles: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the view run only for a verified token that holds one of `roles`."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from chalicelib.bootstrap import get_verifier

            request = current_request()
            staff = get_verifier().verify(bearer_token(request))
            if not any(_holds(staff.roles, role) for role in roles):
                raise ForbiddenError(f"this route needs the role {' or '.join(roles)}")
            log_request(staff, request)  # before any data is read: no log, no answer
            marker = _current.set(staff)
            try:
                return view(*args, **kwargs)
            finally:
                _current.reset(marker)

        return wrapper

    return decorate


LOGGED_BODY_CHARS = 2000
# Three base64url parts joined by dots: a JWT (a bearer token pasted into a URL or a body by
# mistake). It is never kept in the log, whatever its length.
TOKEN_SHAPED = re.compile(r"[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def _without_tokens(text: str) -> str:
    return TOKEN_SHAPED.sub("[token removed]", text)


def log_request(staff: Staff, request: Request) -> None:
    """Keep who asked what, with which filter, and when: every staff request reads donor data
    or changes it (an export, a refund, a message's status)."""
    from chalicelib.bootstrap import get_staff_log
    from chalicelib.domain.ids import new_id
    from chalicelib.services.clock import utc_now
    from chalicelib.services.ports import StaffRead

    context: dict[str, Any] = request.context or {}
    raw = request.raw_body or b""
    body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    get_staff_log().record(
        StaffRead(
            id=new_id(),
            at=utc_now(),
            actor=staff.subject,
            roles=sorted(staff.roles),
            method=request.method,
            route=str(context.get("resourcePath") or request.path),
            path=str(context.get("path") or request.path),
            params={k: str(v)[:200] for k, v in (request.uri_params or {}).items()},
            query={
                k: _without_tokens(str(v))[:500]
                for k, v in (request.query_params or {}).items()
                if k != "cursor"
            },
            body=_without_tokens(body)[:LOGGED_BODY_CHARS] or None,
        )
    )

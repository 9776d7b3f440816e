"""Staff bearer tokens: JWTs verified against the configured issuer's JWKS (a Cognito user
pool in production). Verified inside the app, so it runs the same locally and on AWS and
answers 401/403 in Steward's error shape."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from chalice.app import Request

from chalicelib.domain.errors import ForbiddenError, UnauthorizedError

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Staff:
    subject: str
    roles: frozenset[str]


class TokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str, role_claim: str) -> None:
        import jwt  # loaded on the first staff request, not on every cold start

        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=600)
        self._issuer = issuer
        self._audience = audience
        self._role_claim = role_claim

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
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise UnauthorizedError("the bearer token is not valid") from exc
        # Cognito ID tokens carry `aud`; access tokens carry `client_id` instead.
        if self._audience not in (claims.get("aud"), claims.get("client_id")):
            raise UnauthorizedError("the bearer token is for another audience")
        roles = claims.get(self._role_claim) or []
        if isinstance(roles, str):
            roles = roles.split()
        return Staff(str(claims["sub"]), frozenset(str(r) for r in roles))


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

            staff = get_verifier().verify(bearer_token(current_request()))
            if not any(_holds(staff.roles, role) for role in roles):
                raise ForbiddenError(f"this route needs the role {' or '.join(roles)}")
            marker = _current.set(staff)
            try:
                return view(*args, **kwargs)
            finally:
                _current.reset(marker)

        return wrapper

    return decorate

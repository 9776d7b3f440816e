"""Local staff tokens: an RSA key under .local/, its JWKS, and signed JWTs."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "steward-local"
AUDIENCE = "steward-staff"
KEY_ID = "steward-local-1"
LIFETIME_SECONDS = 3600


def ensure_key(folder: Path) -> Path:
    """Create the signing key and jwks.json once; returns the jwks.json path."""
    folder.mkdir(parents=True, exist_ok=True)
    private = folder / "private.pem"
    jwks = folder / "jwks.json"
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private.chmod(0o600)
    if not jwks.exists():
        key = serialization.load_pem_private_key(private.read_bytes(), password=None)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        public.update(kid=KEY_ID, use="sig", alg="RS256")
        jwks.write_text(json.dumps({"keys": [public]}))
    return jwks


def mint(
    folder: Path,
    role: str,
    subject: str = "local-staff",
    lifetime: int = LIFETIME_SECONDS,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    use: str = "access",
    claims: dict[str, Any] | None = None,
    without: tuple[str, ...] = (),
) -> str:
    """A token shaped like Cognito's: an access token names its app client in `client_id`
    and has no `aud`; an ID token (`use="id"`) names it in `aud`. `claims` adds to or
    replaces the claims and `without` drops some (tests use them for malformed tokens)."""
    ensure_key(folder)
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": subject,
        "iss": issuer,
        "token_use": use,
        "auth_time": now,
        "iat": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        "cognito:groups": [role],
    }
    if use == "access":
        payload.update(client_id=audience, username=subject, scope="aws.cognito.signin.user.admin")
    else:
        payload.update({"aud": audience, "cognito:username": subject})
    payload.update(claims or {})
    for name in without:
        payload.pop(name, None)
    # Signed as JWS bytes: PyJWT's jwt.encode would refuse some malformed claims tests need.
    return jwt.PyJWS().encode(
        json.dumps(payload).encode(),
        (folder / "private.pem").read_bytes(),
        algorithm="RS256",
        headers={"kid": KEY_ID, "typ": "JWT"},
    )

"""Local staff tokens: an RSA key under .local/, its JWKS, and signed JWTs."""

from __future__ import annotations

import json
import time
from pathlib import Path

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
) -> str:
    ensure_key(folder)
    now = int(time.time())
    claims = {
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "cognito:groups": [role],
    }
    return jwt.encode(
        claims, (folder / "private.pem").read_bytes(), algorithm="RS256", headers={"kid": KEY_ID}
    )

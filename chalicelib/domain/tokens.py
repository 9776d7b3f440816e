"""Keyed tokens: the form time trap, unsubscribe links, confirmation tokens, hashed IPs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Literal

FormCheck = Literal["ok", "too_fast", "invalid", "expired"]
FORM_TOKEN_MAX_AGE_SECONDS = 24 * 3600


def _mac(key: bytes, purpose: str, value: str, length: int = 22) -> str:
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def _same(given: str, expected: str) -> bool:
    """Constant-time equality for any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def _is_hex_id(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """A stable pseudonym for an email address or an IP: HMAC-SHA256, hex."""
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def form_token(key: bytes, issued_ms: int) -> str:
    return f"{issued_ms}.{_mac(key, 'form', str(issued_ms))}"


def check_form_token(key: bytes, token: str, now_ms: int, min_age_seconds: int) -> FormCheck:
    issued, _, mac = token.partition(".")
    if (
        not (issued.isascii() and issued.isdigit())
        or len(issued) > 15
        or not _same(mac, _mac(key, "form", issued))
    ):
        return "invalid"
    age_ms = now_ms - int(issued)
    if age_ms > FORM_TOKEN_MAX_AGE_SECONDS * 1000:
        return "expired"
    if age_ms < min_age_seconds * 1000:
        return "too_fast"
    return "ok"


def unsubscribe_token(key: bytes, subscriber_id: str) -> str:
    return f"{subscriber_id}.{_mac(key, 'unsubscribe', subscriber_id)}"


def subscriber_from_unsubscribe_token(key: bytes, token: str) -> str | None:
    subscriber_id, _, mac = token.partition(".")
    if not _is_hex_id(subscriber_id) or not _same(mac, _mac(key, "unsubscribe", subscriber_id)):
        return None
    return subscriber_id


def new_secret_token() -> tuple[str, str]:
    """A single-use token (192 random bits) and the SHA-256 we store instead of it."""
    token = secrets.token_urlsafe(24)
    return token, hashlib.sha256(token.encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

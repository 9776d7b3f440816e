"""Keyed tokens: the form time trap, unsubscribe links, confirmation tokens, hashed IPs.

One key per purpose. The form, link and IP keys are derived (HKDF-SHA256) from a master
secret that rotates; each master has a key id that form and link tokens carry, and a
retired master still verifies tokens until its grace period ends. A subscriber's id is
keyed by the identity key, which does not rotate, so it survives every rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from typing import Literal

FormCheck = Literal["ok", "too_fast", "invalid", "expired"]
Purpose = Literal["form", "link", "ip"]
FORM_TOKEN_MAX_AGE_SECONDS = 24 * 3600
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
HKDF_SALT = b"steward-keyring-v1"


def hkdf_sha256(secret: bytes, info: bytes, length: int = 32, salt: bytes = HKDF_SALT) -> bytes:
    """RFC 5869 HKDF with SHA-256: extract, then expand."""
    prk = hmac.new(salt, secret, hashlib.sha256).digest()
    output, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
    return output[:length]


@dataclass(frozen=True)
class MasterKey:
    """A master secret and its id. `accept_until_ms` is set on a retired key: it still
    verifies tokens until then, and never signs."""

    kid: str
    secret: bytes
    accept_until_ms: int | None = None

    def derive(self, purpose: Purpose) -> bytes:
        return hkdf_sha256(self.secret, f"steward/{purpose}".encode())


@dataclass(frozen=True)
class Keyring:
    """The signing keys (the current one first, then those still accepted) and the identity key."""

    current: MasterKey
    identity: bytes
    previous: tuple[MasterKey, ...] = ()

    def __post_init__(self) -> None:
        kids = [k.kid for k in (self.current, *self.previous)]
        if len(set(kids)) != len(kids) or not all(KEY_ID.match(k) for k in kids):
            raise ValueError("key ids must be distinct, 1-16 of A-Z a-z 0-9 _ -")

    def signing(self, purpose: Purpose) -> tuple[str, bytes]:
        """The current key id and its key for this purpose."""
        return self.current.kid, self.current.derive(purpose)

    def verifying(self, kid: str, purpose: Purpose, now_ms: int) -> bytes | None:
        """The key that checks a token carrying `kid`, or None when unknown or past its grace."""
        if kid == self.current.kid:
            return self.current.derive(purpose)
        for key in self.previous:
            if key.kid == kid and key.accept_until_ms is not None and now_ms < key.accept_until_ms:
                return key.derive(purpose)
        return None


def _mac(key: bytes, purpose: str, value: str, length: int = 22) -> str:
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def _same(given: str, expected: str) -> bool:
    """Constant-time equality for any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def _is_hex_id(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """A stable pseudonym: HMAC-SHA256, hex."""
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def email_id(keys: Keyring, email: str) -> str:
    """The subscriber id of an address (and its rate-limit key). Survives key rotation."""
    return keyed_hash(keys.identity, "email", email.lower())


def client_network(ip: str) -> str:
    """What one client is counted as: an IPv4 address, or the /64 an IPv6 address is in
    (one host or LAN gets a whole /64, so counting single IPv6 addresses would count nothing)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def hash_ip(keys: Keyring, ip: str) -> str:
    """The only way an IP address is stored or counted: its client network (IPv6 by /64),
    keyed by the current IP key."""
    return keyed_hash(keys.signing("ip")[1], "ip", client_network(ip))


def form_token(keys: Keyring, issued_ms: int) -> str:
    kid, key = keys.signing("form")
    return f"{kid}.{issued_ms}.{_mac(key, 'form', f'{kid}.{issued_ms}')}"


def check_form_token(keys: Keyring, token: str, now_ms: int, min_age_seconds: int) -> FormCheck:
    if token.count(".") != 2:
        return "invalid"
    kid, issued, mac = token.split(".")
    if not (issued.isascii() and issued.isdigit()) or len(issued) > 15:
        return "invalid"
    key = keys.verifying(kid, "form", now_ms)
    if key is None or not _same(mac, _mac(key, "form", f"{kid}.{issued}")):
        return "invalid"
    age_ms = now_ms - int(issued)
    if age_ms > FORM_TOKEN_MAX_AGE_SECONDS * 1000:
        return "expired"
    if age_ms < min_age_seconds * 1000:
        return "too_fast"
    return "ok"


def unsubscribe_token(keys: Keyring, subscriber_id: str) -> str:
    kid, key = keys.signing("link")
    return f"{kid}.{subscriber_id}.{_mac(key, 'unsubscribe', f'{kid}.{subscriber_id}')}"


def subscriber_from_unsubscribe_token(keys: Keyring, token: str, now_ms: int) -> str | None:
    if token.count(".") != 2:
        return None
    kid, subscriber_id, mac = token.split(".")
    if not _is_hex_id(subscriber_id):
        return None
    key = keys.verifying(kid, "link", now_ms)
    if key is None or not _same(mac, _mac(key, "unsubscribe", f"{kid}.{subscriber_id}")):
        return None
    return subscriber_id


def new_secret_token() -> tuple[str, str]:
    """A single-use token (192 random bits) and the SHA-256 we store instead of it."""
    token = secrets.token_urlsafe(24)
    return token, hashlib.sha256(token.encode()).hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


DonorAction = Literal["gift", "plan"]


def donor_link_token(keys: Keyring, action: DonorAction, record_id: str, expires_ms: int) -> str:
    """A donor's link to one gift (view it, its receipt) or one plan (cancel, update the card):
    signed with the link key, bound to the action and the record, and expiring."""
    kid, key = keys.signing("link")
    body = f"{kid}.{action}.{record_id}.{expires_ms}"
    return f"{body}.{_mac(key, 'donor', body, 32)}"


def check_donor_link(keys: Keyring, token: str, action: DonorAction, record_id: str, now_ms: int) -> bool:
    """Whether the token is this action's link to this record, unaltered and not expired."""
    parts = token.split(".")
    if len(parts) != 5:
        return False
    kid, given_action, given_id, expires, mac = parts
    if given_action != action or not _same(given_id, record_id):
        return False
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 15:
        return False
    key = keys.verifying(kid, "link", now_ms)
    if key is None or not _same(mac, _mac(key, "donor", f"{kid}.{action}.{given_id}.{expires}", 32)):
        return False
    return now_ms < int(expires)

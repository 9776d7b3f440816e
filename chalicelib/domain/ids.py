"""Identifiers that sort by creation time (ULID layout, Crockford base32)."""

from __future__ import annotations

import hashlib
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(now_ms: int | None = None) -> str:
    """48 bits of milliseconds then 80 random bits: 26 characters, time-sortable."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_id(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text)


def derived_id(text: str) -> str:
    """An id made from text (the same text, the same id), in the same alphabet and length."""
    value = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:17], "big") >> 6
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))

"""What every public form goes through: the signed time trap, the honeypot, rate limits."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.domain.errors import RateLimitedError, ValidationFailedError
from chalicelib.domain.tokens import Keyring, check_form_token, email_id, hash_ip
from chalicelib.services.ports import OutreachRepository


@dataclass(frozen=True)
class FormRules:
    keys: Keyring
    time_trap_seconds: int
    window_seconds: int
    limit_ip: int
    limit_email: int


def now_ms() -> int:
    return int(time.time() * 1000)


def _window(moment_ms: int, seconds: int) -> tuple[int, int, int]:
    """The fixed window holding this moment: its start, when its bucket expires, seconds left."""
    start = moment_ms // 1000 // seconds * seconds
    return start, start + seconds + 60, max(1, start + seconds - moment_ms // 1000)


@dataclass(frozen=True)
class DeclineGuard:
    """Card testing shows as many declines from one IP. After `limit` declines in a window,
    that IP may not try another card until the window ends."""

    repo: OutreachRepository
    keys: Keyring
    window_seconds: int
    limit: int
    source_ip: str

    def check(self) -> None:
        window, _, retry_after = _window(now_ms(), self.window_seconds)
        if self.repo.rate_hits("decline-ip", self._key(), window) >= self.limit:
            raise RateLimitedError("too many declined cards; try again later", retry_after=retry_after)

    def record(self) -> None:
        window, expires, _ = _window(now_ms(), self.window_seconds)
        self.repo.hit_rate_limit("decline-ip", self._key(), window, 2**31, expires)

    def _key(self) -> str:
        return hash_ip(self.keys, self.source_ip)


def screen(
    scope: str,
    email: str,
    form_token: str,
    honeypot: str,
    source_ip: str,
    *,
    repo: OutreachRepository,
    rules: FormRules,
    clock_ms: int | None = None,
) -> bool:
    """True when the submission is to be processed, False when it is a bot's (answer as if
    accepted, store and send nothing). Raises for a bad token (422) or a full bucket (429)."""
    moment = now_ms() if clock_ms is None else clock_ms
    check = check_form_token(rules.keys, form_token, moment, rules.time_trap_seconds)
    if check in ("invalid", "expired"):
        raise ValidationFailedError(
            "the form token is not valid; reload the page",
            fields=[{"field": "form_token", "message": f"{check}; get a new one from GET /config"}],
        )
    window, expires, retry_after = _window(moment, rules.window_seconds)
    buckets = (
        (f"{scope}-ip", hash_ip(rules.keys, source_ip), rules.limit_ip),
        (f"{scope}-email", email_id(rules.keys, email), rules.limit_email),
    )
    for bucket, key_hash, limit in buckets:
        if not repo.hit_rate_limit(bucket, key_hash, window, limit, expires):
            raise RateLimitedError("too many submissions; try again later", retry_after=retry_after)
    return not honeypot and check == "ok"

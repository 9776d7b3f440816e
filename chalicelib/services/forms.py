"""What every public form goes through: the signed time trap, the honeypot, rate limits."""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.domain.errors import RateLimitedError, ValidationFailedError
from chalicelib.domain.tokens import check_form_token, keyed_hash
from chalicelib.services.ports import OutreachRepository


@dataclass(frozen=True)
class FormRules:
    signing_key: bytes
    time_trap_seconds: int
    window_seconds: int
    limit_ip: int
    limit_email: int


def now_ms() -> int:
    return int(time.time() * 1000)


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
    check = check_form_token(rules.signing_key, form_token, moment, rules.time_trap_seconds)
    if check in ("invalid", "expired"):
        raise ValidationFailedError(
            "the form token is not valid; reload the page",
            fields=[{"field": "form_token", "message": f"{check}; get a new one from GET /config"}],
        )
    window = moment // 1000 // rules.window_seconds * rules.window_seconds
    expires = window + rules.window_seconds + 60
    retry_after = max(1, window + rules.window_seconds - moment // 1000)
    buckets = (
        (f"{scope}-ip", keyed_hash(rules.signing_key, "ip", source_ip), rules.limit_ip),
        (f"{scope}-email", keyed_hash(rules.signing_key, "email", email.lower()), rules.limit_email),
    )
    for bucket, key_hash, limit in buckets:
        if not repo.hit_rate_limit(bucket, key_hash, window, limit, expires):
            raise RateLimitedError("too many submissions; try again later", retry_after=retry_after)
    return not honeypot and check == "ok"

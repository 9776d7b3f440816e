"""What every public form goes through: the signed time trap, the honeypot, rate limits."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

from chalicelib.domain.errors import RateLimitedError, UpstreamError, ValidationFailedError
from chalicelib.domain.ids import new_id
from chalicelib.domain.tokens import Keyring, check_form_token, email_id, hash_ip
from chalicelib.services.clock import utc_now

if TYPE_CHECKING:
    from chalicelib.services.outreach_ports import OutreachRepository, RateHit

log = logging.getLogger("steward")
DECLINE_SCOPE = "decline-ip"
ATTEMPT_SCOPE = "confirm-ip"
ALERT_SCOPE = "card-testing"
UNCAPPED = 2**31


@dataclass(frozen=True)
class FormRules:
    """The form checks' settings: keys, time trap and per-window limits."""

    keys: Keyring
    time_trap_seconds: int
    window_seconds: int
    limit_ip: int
    limit_email: int


def now_ms() -> int:
    return int(time.time() * 1000)


def _when(epoch: int) -> str:
    """A window's edge as finance staff read it: 2026-11-28 06:00 UTC."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _window(moment_ms: int, seconds: int) -> tuple[int, int, int]:
    """The fixed window holding this moment: its start, when its bucket expires, seconds left."""
    start = moment_ms // 1000 // seconds * seconds
    return start, start + seconds + 60, max(1, start + seconds - moment_ms // 1000)


@dataclass(frozen=True)
class DeclineSlot:
    """One charge's place in its IP's decline bucket, taken before the charge."""

    repo: OutreachRepository
    key_hash: str
    window_start: int

    def release(self) -> None:
        """The charge was not declined: it does not count against the IP."""
        self.repo.release_rate_limit(DECLINE_SCOPE, self.key_hash, self.window_start)


@dataclass(frozen=True)
class DeclineGuard:
    """Card testing shows as many declines from one IP. Each charge first takes a slot in the
    IP's bucket for the window (an atomic conditional ADD), and gives it back unless the card
    was declined; so at no moment can more than `limit` charges that end declined be under
    way or done from one IP in a window. A full bucket is a 429, and the finance inbox hears
    of it once per IP and window."""

    repo: OutreachRepository
    keys: Keyring
    window_seconds: int
    limit: int
    source_ip: str
    alert_inbox: str | None = None
    attempt_limit: int | None = None

    def count_attempt(self) -> None:
        """One confirm of a pending gift (each calls Stripe): 429 past `attempt_limit` per
        window, so one IP cannot hammer Stripe through the id of a gift it never finishes."""
        if self.attempt_limit is None:
            return
        moment = now_ms()
        window, expires, retry_after = _window(moment, self.window_seconds)
        if not self.repo.hit_rate_limit(ATTEMPT_SCOPE, self._key(), window, self.attempt_limit, expires):
            raise RateLimitedError("too many payment attempts; try again later", retry_after=retry_after)

    def check(self) -> None:
        """Refuse (429) while the IP's bucket is full; takes nothing."""
        moment = now_ms()
        window, _, _ = _window(moment, self.window_seconds)
        if self.repo.rate_hits(DECLINE_SCOPE, self._key(), window) >= self.limit:
            self._refuse(moment, "declined cards")

    def reserve(self) -> DeclineSlot:
        """Take a slot before charging; 429 when the IP already has `limit` of them."""
        moment = now_ms()
        window, expires, _ = _window(moment, self.window_seconds)
        key_hash = self._key()
        if not self.repo.hit_rate_limit(DECLINE_SCOPE, key_hash, window, self.limit, expires):
            self._refuse(moment, "declined cards")
        return DeclineSlot(self.repo, key_hash, window)

    def count_decline(self) -> None:
        """A decline no slot was kept for (the charge's answer was lost, so its slot went back):
        it counts now, even past the limit (the refusal comes with the next charge)."""
        moment = now_ms()
        window, expires, _ = _window(moment, self.window_seconds)
        self.repo.hit_rate_limit(DECLINE_SCOPE, self._key(), window, UNCAPPED, expires)

    def _refuse(self, moment: int, reason: str) -> NoReturn:
        _, _, retry_after = _window(moment, self.window_seconds)
        self.alert(reason, moment)
        raise RateLimitedError("too many declined cards; try again later", retry_after=retry_after)

    def alert(self, reason: str, moment: int | None = None) -> None:
        """Tell the finance inbox that this IP is braked: one email per IP and window, even
        when many requests are refused at once (the email and a per-window marker are one
        conditional write). A failed write is only logged; the next refusal tries again."""
        if not self.alert_inbox:
            return
        from chalicelib.services.outreach_ports import OutboxMessage

        moment = now_ms() if moment is None else moment
        window, expires, _ = _window(moment, self.window_seconds)
        key_hash = self._key()
        timestamp = utc_now()
        email = OutboxMessage(
            id=new_id(),
            template="card_testing_alert",
            to=self.alert_inbox,
            created_at=timestamp,
            context={
                "reason": reason,
                "ip_hash": key_hash,
                "limit": str(self.limit),
                "window_start": _when(window),
                "window_end": _when(window + self.window_seconds),
            },
        )
        try:
            self.repo.alert_once(ALERT_SCOPE, key_hash, window, expires, email)
        except UpstreamError as exc:
            log.warning("card-testing alert not written: %s", exc.message)

    def _key(self) -> str:
        return hash_ip(self.keys, self.source_ip)


@dataclass(frozen=True)
class Screening:
    """A form that passed the token check: the counts it takes, and whether it is a person's
    (False for a bot's: answer as if accepted, store and send nothing)."""

    hits: tuple[RateHit, ...]
    accepted: bool


def screen_form(
    scope: str,
    email: str | None,
    form_token: str,
    honeypot: str,
    source_ip: str,
    *,
    rules: FormRules,
    clock_ms: int | None = None,
) -> Screening:
    """Check the form token (422 when invalid or expired) and name the rate-limit counts the
    submission takes: its IP's and, with an email, its address's. Writes nothing."""
    moment = now_ms() if clock_ms is None else clock_ms
    check = check_form_token(rules.keys, form_token, moment, rules.time_trap_seconds)
    if check in ("invalid", "expired"):
        raise ValidationFailedError(
            "the form token is not valid; reload the page",
            fields=[{"field": "form_token", "message": f"{check}; get a new one from GET /config"}],
        )
    from chalicelib.services.outreach_ports import RateHit  # the form routes' port, not GET /config's

    window, expires, retry_after = _window(moment, rules.window_seconds)
    hits = [
        RateHit(f"{scope}-ip", hash_ip(rules.keys, source_ip), window, rules.limit_ip, expires, retry_after)
    ]
    if email is not None:
        key = email_id(rules.keys, email)
        hits.append(RateHit(f"{scope}-email", key, window, rules.limit_email, expires, retry_after))
    return Screening(tuple(hits), not honeypot and check == "ok")


def screen(
    scope: str,
    email: str | None,
    form_token: str,
    honeypot: str,
    source_ip: str,
    *,
    repo: OutreachRepository,
    rules: FormRules,
    clock_ms: int | None = None,
) -> bool:
    """screen_form, with its counts taken one by one right away: True when the submission is
    to be processed, False when it is a bot's. Raises for a bad token (422) or a full bucket
    (429). Without an email, only the IP's bucket counts."""
    screening = screen_form(scope, email, form_token, honeypot, source_ip, rules=rules, clock_ms=clock_ms)
    for hit in screening.hits:
        if not repo.hit_rate_limit(hit.scope, hit.key_hash, hit.window_start, hit.limit, hit.expires_at):
            raise hit.refused()
    return screening.accepted


@dataclass(frozen=True)
class DonationScreening:
    """What a new gift passes before Stripe sees it: the form token's time trap and the
    honeypot, the IP's own limit on gifts started (each hands out a SetupIntent, with which
    a card can be tried), and the card-testing brake."""

    repo: OutreachRepository
    rules: FormRules
    guard: DeclineGuard

    def admit(self, form_token: str, honeypot: str) -> bool:
        """True for a gift to start; False for a bot's (answer as if accepted). 422 or 429."""
        self.guard.check()
        try:
            return screen(
                "donation", None, form_token, honeypot, self.guard.source_ip, repo=self.repo, rules=self.rules
            )
        except RateLimitedError:
            self.guard.alert("gifts started")
            raise

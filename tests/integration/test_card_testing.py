"""Card testing: the decline brake holds under concurrency, gift creation is limited and
screened like the other forms, and finance hears once per IP and window when an IP is braked."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

from chalicelib.domain.errors import RateLimitedError
from chalicelib.domain.tokens import Keyring, hash_ip
from chalicelib.domain.tokens import form_token as mint_form_token
from chalicelib.services.ports import Payments, Repository
from devstack.stack import Stack
from tests.helpers import CARD_DECLINED_AT_CHARGE, CARD_OK, GIFT, Api, Mailbox, confirm_card_setup, store

FINANCE_INBOX = "finance@example.org"


def fake_ip() -> str:
    """A documentation-range IPv6 network (a /64) of its own, so no other test shares its buckets."""
    digits = uuid.uuid4().hex
    return f"2001:db8:{digits[:4]}:{digits[4:8]}::1"


def signing_key(stack: Stack) -> Keyring:
    from chalicelib.bootstrap import get_settings

    return get_settings().keys


def guard_for(stack: Stack, ip: str, limit: int) -> Any:
    from chalicelib.bootstrap import get_outreach_repository
    from chalicelib.services.forms import DeclineGuard

    return DeclineGuard(get_outreach_repository(), signing_key(stack), 3600, limit, ip, FINANCE_INBOX)


def saved_card(api: Api, stack: Stack, card: str) -> str:
    created = api.post("/donations", GIFT)
    assert created.status_code == 201, created.text
    assert confirm_card_setup(stack, created.json()["client_secret"], card).status_code == 200
    return str(created.json()["donation_id"])


def alerts_for(mailbox: Mailbox, stack: Stack, ip: str) -> list[Any]:
    marker = hash_ip(signing_key(stack), ip)
    return [m for m in mailbox.to(FINANCE_INBOX) if marker in str(m.get_body(("plain",)))]


def test_concurrent_confirms_charge_no_more_than_the_decline_limit(
    api: Api, stack: Stack, repo: Repository, payments: Payments, mailbox: Mailbox
) -> None:
    from chalicelib.services.donations import confirm_donation

    ip = fake_ip()
    guard = guard_for(stack, ip, 10)
    gifts = [saved_card(api, stack, CARD_DECLINED_AT_CHARGE) for _ in range(16)]

    def confirm(donation_id: str) -> str:
        try:
            return confirm_donation(donation_id, repo=repo, payments=payments, guard=guard).status
        except RateLimitedError:
            return "429"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(confirm, gifts))

    assert outcomes.count("failed") <= 10, outcomes
    assert outcomes.count("failed") + outcomes.count("429") == 16, outcomes
    braked = [g for g, outcome in zip(gifts, outcomes, strict=True) if outcome == "429"]
    assert len(braked) >= 6
    assert all(repo.get_donation(g).status == "pending" for g in braked)  # type: ignore[union-attr]
    client = stripe.StripeClient("sk_test_steward_local", base_addresses={"api": stack.config.stripe_url})
    charged = {
        pi.to_dict()["metadata"].get("donation_id")
        for pi in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
    }
    assert len(charged & set(gifts)) <= 10
    assert charged.isdisjoint(braked)
    mailbox.wait_to(FINANCE_INBOX)
    assert len(wait_alerts(mailbox, stack, ip)) == 1


def wait_alerts(mailbox: Mailbox, stack: Stack, ip: str) -> list[Any]:
    deadline = time.monotonic() + 20
    while not alerts_for(mailbox, stack, ip) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # let any second alert arrive, so the count below would see it
    return alerts_for(mailbox, stack, ip)


def test_successful_charges_do_not_brake_a_shared_ip(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    from chalicelib.services.donations import confirm_donation

    guard = guard_for(stack, fake_ip(), 2)
    for _ in range(4):  # more good gifts than the decline limit, from one IP
        result = confirm_donation(saved_card(api, stack, CARD_OK), repo=repo, payments=payments, guard=guard)
        assert result.status == "succeeded"
    for _ in range(2):
        declined = saved_card(api, stack, CARD_DECLINED_AT_CHARGE)
        assert confirm_donation(declined, repo=repo, payments=payments, guard=guard).status == "failed"
    with pytest.raises(RateLimitedError):
        confirm_donation(saved_card(api, stack, CARD_OK), repo=repo, payments=payments, guard=guard)


def test_a_braked_ip_gets_one_alert_per_window_even_when_refused_at_once(
    stack: Stack, mailbox: Mailbox
) -> None:
    ip = fake_ip()
    guard = guard_for(stack, ip, 1)
    guard.reserve()  # one declined card fills the bucket (its slot is never released)

    def refused(_: int) -> bool:
        try:
            guard.reserve()
        except RateLimitedError as exc:
            return exc.retry_after > 0
        return False

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(refused, range(8)))
    alerts = wait_alerts(mailbox, stack, ip)
    assert len(alerts) == 1
    assert "127.0.0.1" not in str(alerts[0]) and ip not in str(alerts[0])  # only the keyed hash


# -- POST /donations: rate limit, time trap, honeypot, brake ---------------------------------


def donation_screening(stack: Stack, ip: str, limit: int, declines: int = 10) -> Any:
    from chalicelib.bootstrap import get_outreach_repository
    from chalicelib.services.forms import DonationScreening, FormRules

    rules = FormRules(signing_key(stack), 2, 3600, limit, 0)
    return DonationScreening(get_outreach_repository(), rules, guard_for(stack, ip, declines))


def gift_request(stack: Stack, **overrides: Any) -> Any:
    from chalicelib.bootstrap import get_settings
    from chalicelib.domain.donation_forms import donation_form
    from chalicelib.domain.gift_requests import DonationRequest

    token = mint_form_token(signing_key(stack), int(time.time() * 1000) - 5000)
    body = {**GIFT, "form_token": token, **overrides}
    checked = DonationRequest.model_validate(body, context={"rules": get_settings().donation_rules})
    return donation_form(checked.model_dump())


def test_gift_creation_has_a_per_ip_limit_that_counts_every_setup_intent(
    stack: Stack, repo: Repository, payments: Payments
) -> None:
    from chalicelib.services.donations import create_donation

    screening = donation_screening(stack, fake_ip(), 3)
    created = [
        create_donation(gift_request(stack), "same-key", repo=repo, payments=payments, screening=screening)
        for _ in range(2)
    ]  # a replay hands a secret back too, so it counts
    created.append(
        create_donation(gift_request(stack), None, repo=repo, payments=payments, screening=screening)
    )
    assert all(c.client_secret.startswith("seti_") for c in created)
    with pytest.raises(RateLimitedError):
        create_donation(gift_request(stack), None, repo=repo, payments=payments, screening=screening)
    other_ip = donation_screening(stack, fake_ip(), 3)
    assert create_donation(gift_request(stack), None, repo=repo, payments=payments, screening=other_ip)


def test_a_braked_ip_cannot_start_a_gift(stack: Stack, repo: Repository, payments: Payments) -> None:
    from chalicelib.services.donations import create_donation

    screening = donation_screening(stack, fake_ip(), 100, declines=1)
    screening.guard.reserve()  # a declined card
    with pytest.raises(RateLimitedError):
        create_donation(gift_request(stack), None, repo=repo, payments=payments, screening=screening)


SECRET = re.compile(r"^seti_[A-Za-z0-9]+_secret_[A-Za-z0-9]+$")


def test_a_filled_honeypot_looks_like_success_and_reaches_nobody(
    api: Api, stack: Stack, repo: Repository
) -> None:
    real = api.post("/donations", GIFT)
    decoy = api.post("/donations", {**GIFT, "honeypot": "http://spam.example"})
    assert decoy.status_code == real.status_code == 201, decoy.text
    assert set(decoy.json()) == set(real.json())
    assert SECRET.match(decoy.json()["client_secret"]) and SECRET.match(real.json()["client_secret"])
    assert decoy.json()["publishable_key"] == real.json()["publishable_key"]
    assert repo.get_donation(decoy.json()["donation_id"]) is None
    setup_intent = decoy.json()["client_secret"].split("_secret_")[0]
    client = stripe.StripeClient("sk_test_steward_local", base_addresses={"api": stack.config.stripe_url})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.setup_intents.retrieve(setup_intent)


def test_gift_creation_takes_the_form_token_time_trap(api: Api, stack: Stack, repo: Repository) -> None:
    missing = api.post("/donations", {k: v for k, v in GIFT.items() if k != "form_token"})
    assert missing.status_code == 422
    assert "form_token" in {f["field"] for f in missing.json()["error"]["fields"]}
    forged = api.post("/donations", {**GIFT, "form_token": "123.forged"})
    assert forged.status_code == 422
    assert forged.json()["error"]["fields"][0]["field"] == "form_token"
    fresh = api.get("/config").json()["form_token"]
    too_fast = api.post("/donations", {**GIFT, "form_token": fresh})
    assert too_fast.status_code == 201  # looks accepted; nothing is stored
    assert repo.get_donation(too_fast.json()["donation_id"]) is None


# -- outages: a charge that never reached Stripe, or whose answer was lost, is no decline ----


def decline_hits(stack: Stack, ip: str) -> int:
    from chalicelib.bootstrap import get_outreach_repository
    from chalicelib.services.forms import DECLINE_SCOPE

    window = int(time.time()) // 3600 * 3600
    return get_outreach_repository().rate_hits(DECLINE_SCOPE, hash_ip(signing_key(stack), ip), window)


@pytest.mark.parametrize(
    ("port", "method"),
    [
        ("payments", "create_payment_intent"),
        ("repo", "unit_of_work().commit"),
        ("payments", "confirm_payment_intent"),
    ],
)
def test_an_outage_during_confirm_gives_the_decline_slot_back(
    api: Api, stack: Stack, repo: Repository, payments: Payments, port: str, method: str
) -> None:
    from chalicelib.domain.errors import UpstreamError
    from chalicelib.services.donations import confirm_donation
    from tests.faults import Failing

    ip = fake_ip()
    guard = guard_for(stack, ip, 2)
    donation_id = saved_card(api, stack, CARD_OK)
    ports: dict[str, Any] = {"repo": repo, "payments": payments}
    ports[port] = Failing(ports[port], method, UpstreamError("down"))
    for _ in range(4):  # the donor retries through the outage, more often than the limit
        with pytest.raises(UpstreamError):
            confirm_donation(donation_id, guard=guard, **ports)
    assert decline_hits(stack, ip) == 0
    ports[port].heal()
    assert confirm_donation(donation_id, guard=guard, **ports).status == "succeeded"
    assert decline_hits(stack, ip) == 0


# -- IPv6: one subscriber's /64 is one client ---------------------------------------------


def neighbours(ip: str, count: int) -> list[str]:
    """Other addresses in the same /64, as a client rotating its interface id would use."""
    prefix = ip.removesuffix("::1")
    return [f"{prefix}:{uuid.uuid4().hex[:4]}:{n:x}:0:{n + 1:x}" for n in range(count)]


def test_addresses_of_one_ipv6_subnet_share_the_decline_brake(stack: Stack) -> None:
    ip = fake_ip()
    guard_for(stack, ip, 2).reserve()
    guard_for(stack, ip.upper().replace("::1", ":0:0:0:1"), 2).reserve()  # the same address, spelt otherwise
    for other in neighbours(ip, 3):
        with pytest.raises(RateLimitedError):
            guard_for(stack, other, 2).reserve()
    assert guard_for(stack, fake_ip(), 2).reserve()  # another subnet is another client


def test_addresses_of_one_ipv6_subnet_share_the_gift_limit(
    stack: Stack, repo: Repository, payments: Payments
) -> None:
    from chalicelib.services.donations import create_donation

    ip = fake_ip()
    for other in [ip, *neighbours(ip, 1)]:
        screening = donation_screening(stack, other, 2)
        create_donation(gift_request(stack), None, repo=repo, payments=payments, screening=screening)
    with pytest.raises(RateLimitedError):
        screening = donation_screening(stack, neighbours(ip, 1)[0], 2)
        create_donation(gift_request(stack), None, repo=repo, payments=payments, screening=screening)


def test_a_decline_whose_answer_was_lost_still_counts_when_the_retry_finds_it(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    from chalicelib.domain.errors import UpstreamError
    from chalicelib.services.donations import confirm_donation
    from tests.faults import AnswerLost

    ip = fake_ip()
    guard = guard_for(stack, ip, 2)
    donation_id = saved_card(api, stack, CARD_DECLINED_AT_CHARGE)
    lost = AnswerLost(payments, "confirm_payment_intent", UpstreamError("timed out"))
    with pytest.raises(UpstreamError):  # Stripe declined the card, but the answer never came
        confirm_donation(donation_id, repo=repo, payments=lost, guard=guard)  # type: ignore[arg-type]
    retried = confirm_donation(donation_id, repo=repo, payments=payments, guard=guard)
    assert retried.status == "failed"
    assert decline_hits(stack, ip) == 1
    assert confirm_donation(donation_id, repo=repo, payments=payments, guard=guard).status == "failed"
    assert decline_hits(stack, ip) == 1  # counted once


def test_confirm_attempts_on_pending_gifts_are_limited_per_ip(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    """Each confirm of a pending gift calls Stripe: one IP may not hammer it (nor, through it,
    the account's Stripe rate limit) with the id of a gift it never finishes."""
    from dataclasses import replace

    from chalicelib.domain.errors import ConflictError
    from chalicelib.services.donations import confirm_donation

    guard = replace(guard_for(stack, fake_ip(), 10), attempt_limit=3)
    unsaved = api.post("/donations", GIFT).json()["donation_id"]  # its card was never saved
    for _ in range(3):
        with pytest.raises(ConflictError):
            confirm_donation(unsaved, repo=repo, payments=payments, guard=guard)
    with pytest.raises(RateLimitedError):
        confirm_donation(unsaved, repo=repo, payments=payments, guard=guard)
    paid = saved_card(api, stack, CARD_OK)
    with pytest.raises(RateLimitedError):
        confirm_donation(paid, repo=repo, payments=payments, guard=guard)
    other_ip = replace(guard, source_ip=fake_ip())
    assert confirm_donation(paid, repo=repo, payments=payments, guard=other_ip).status == "succeeded"
    # a settled gift answers without Stripe, so it takes nothing from the budget
    assert confirm_donation(paid, repo=repo, payments=payments, guard=guard).status == "succeeded"


def test_confirms_of_an_abandoned_gift_that_read_stripe_count_against_the_ip(
    api: Api, stack: Stack, repo: Repository, payments: Payments
) -> None:
    """Confirm on an abandoned gift with a PaymentIntent reads it from Stripe every time (a
    donor may finish 3-D Secure after the sweep): it takes from the same per-IP budget as a
    pending gift's confirm, so a gift left in 3-D Secure cannot be used to hammer Stripe."""
    from dataclasses import replace

    from chalicelib.services.donations import confirm_donation

    donation_id = saved_card(api, stack, CARD_OK)
    gift = repo.get_donation(donation_id)
    assert gift is not None and gift.setup_intent_id
    card = payments.retrieve_setup_intent(gift.setup_intent_id).payment_method
    assert card is not None
    intent = payments.create_payment_intent(gift, card)  # recorded, then the process died
    update = {"status": "abandoned", "payment_intent_id": intent.id, "version": gift.version + 1}
    abandoned = gift.model_copy(update=update)
    store(repo, abandoned, gift.version)
    guard = replace(guard_for(stack, fake_ip(), 10), attempt_limit=2)
    for _ in range(2):
        assert confirm_donation(donation_id, repo=repo, payments=payments, guard=guard).status == "abandoned"
    with pytest.raises(RateLimitedError):
        confirm_donation(donation_id, repo=repo, payments=payments, guard=guard)

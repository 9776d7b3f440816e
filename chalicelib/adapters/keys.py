"""Every DynamoDB key Steward writes is built here (single-table design)."""

from __future__ import annotations

import hashlib
from typing import Any

Key = dict[str, Any]

DONATION_SK = "DONATION"


def donation(donation_id: str) -> Key:
    return {"pk": f"DONATION#{donation_id}", "sk": DONATION_SK}


def donation_audit(donation_id: str, timestamp: str, suffix: str) -> Key:
    return {"pk": f"DONATION#{donation_id}", "sk": f"AUDIT#{timestamp}#{suffix}"}


def refund(donation_id: str, refund_id: str) -> Key:
    return {"pk": f"DONATION#{donation_id}", "sk": f"REFUND#{refund_id}"}


def dispute(donation_id: str, dispute_id: str) -> Key:
    return {"pk": f"DONATION#{donation_id}", "sk": f"DISPUTE#{dispute_id}"}


# A gift's partition sorts AUDIT# < DISPUTE# < DONATION < REFUND#: one Query between these
# bounds reads the gift, its disputes and its refunds, and skips its audit trail.
GIFT_FIRST_SK, GIFT_LAST_SK = "DISPUTE#", "REFUND#\uffff"
AUDIT_FIRST_SK = "AUDIT#"  # from here to GIFT_LAST_SK: the gift with its audit trail


def plan(recurring_id: str) -> Key:
    return {"pk": f"RECURRING#{recurring_id}", "sk": "RECURRING"}


def plan_installment(recurring_id: str, created_at: str, donation_id: str) -> Key:
    """Points from a plan to one of its installments (the gift record holds the rest)."""
    return {"pk": f"RECURRING#{recurring_id}", "sk": f"INSTALLMENT#{created_at}#{donation_id}"}


def plans_by_status(status: str) -> str:
    """GSI1 partition of plans in one status, sorted by creation."""
    return f"PLANS#{status}"


def record_audit(key: Key, timestamp: str, suffix: str) -> Key:
    """An audit entry in the partition of the record it is about (a gift or a plan)."""
    return {"pk": key["pk"], "sk": f"AUDIT#{timestamp}#{suffix}"}


def donations_by_month(created_at: str) -> str:
    """GSI1 partition: one per calendar month of creation, sorted by created_at within."""
    return f"DONATIONS#{created_at[:7]}"


def donation_sort(created_at: str, donation_id: str) -> str:
    return f"{created_at}#{donation_id}"


# Finance's finding indexes (README "Data:"). Each is partitioned by the gift's creation
# month like gsi1, except the donor index, and sorted by `<created_at>#<id>` (the amount
# index by `<amount, 12 digits>#<created_at>#<id>`). The gift item carries their keys.
AMOUNT_DIGITS = 12


def donor_email(email: str) -> str:
    """A donor's email as the donor index keys it: trimmed and lower-cased."""
    return email.strip().lower()


def donations_by_status(display_status: str, created_at: str) -> str:
    return f"STATUS#{display_status}#{created_at[:7]}"


def donations_by_fund(fund: str, created_at: str) -> str:
    return f"FUND#{fund}#{created_at[:7]}"


def donations_by_campaign(campaign: str, created_at: str) -> str:
    return f"CAMPAIGN#{campaign}#{created_at[:7]}"


def installments_by_month(created_at: str) -> str:
    """Gifts of a monthly or annual plan only (sparse: one-time gifts have no key here)."""
    return f"INSTALLMENTS#{created_at[:7]}"


def donations_by_amount(created_at: str) -> str:
    return f"AMOUNT#{created_at[:7]}"


def amount_sort(amount: int, created_at: str, donation_id: str) -> str:
    return f"{amount:0{AMOUNT_DIGITS}d}#{created_at}#{donation_id}"


def donations_by_donor(email: str) -> str:
    return f"DONOR#{donor_email(email)}"


# A telethon's gifts each enter and leave the pending index: 4-6 writes a gift, too many for
# one partition key at 1,000 gifts a second (README "A telethon peak"), so it is sharded.
PENDING_SHARDS = 16


def _shard(item_id: str, shards: int) -> int:
    return int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % shards


def pending_donations(has_setup: bool, donation_id: str) -> str:
    """GSI2 (sparse, only pending gifts), sorted by created_at: gifts with a SetupIntent and
    gifts without, each spread over PENDING_SHARDS keys by id; a gift leaves it when it settles."""
    return f"{_pending(has_setup)}#{_shard(donation_id, PENDING_SHARDS):02d}"


def _pending(has_setup: bool) -> str:
    return "PENDING#SETUP" if has_setup else "PENDING#NOSETUP"


def pending_partitions(has_setup: bool) -> list[str]:
    """Every partition the sweep reads: the shards, then the single key of gifts written
    before sharding (they leave it when they settle or are swept)."""
    base = _pending(has_setup)
    return [*(f"{base}#{n:02d}" for n in range(PENDING_SHARDS)), base]


# The month-partitioned finding keys above (gsi1's `DONATIONS#<yyyy-mm>`, `STATUS#`, `FUND#`,
# `CAMPAIGN#`, `INSTALLMENTS#`, `AMOUNT#`) take every write of a month's gifts: at a telethon's
# 1,000 gifts a second, 8,000 WCU/s a key against DynamoDB's 1,000. Each is written as
# `<key>#<nn>`, one of FIND_SHARDS by the gift's id; readers merge the shards by sort key.
FIND_SHARDS = 16


def find_shard_number(donation_id: str) -> int:
    return _shard(donation_id, FIND_SHARDS)


def find_shard(partition: str, donation_id: str) -> str:
    """The shard of a month-partitioned finding key (`donations_by_month(...)`, ...) that
    holds this gift: fixed by its id, so every write of the gift goes to the same key."""
    return f"{partition}#{find_shard_number(donation_id):02d}"


def find_partitions(partition: str) -> list[str]:
    """Every key a reader of one month-partitioned finding key Queries: the shards, then the
    key itself, where gifts written before sharding stay until their next write or a reindex."""
    return [*(f"{partition}#{n:02d}" for n in range(FIND_SHARDS)), partition]


def idempotency(key_hash: str) -> Key:
    return {"pk": f"IDEMPOTENCY#{key_hash}", "sk": "IDEMPOTENCY"}


def stripe_link(stripe_id: str) -> Key:
    return {"pk": f"STRIPE#{stripe_id}", "sk": "STRIPE"}


def stripe_event(event_id: str) -> Key:
    return {"pk": f"EVENT#{event_id}", "sk": "EVENT"}


# GSI1: webhook events stored failed and not processed since, sorted by their last failure
EVENTS_FAILED = "EVENTS#FAILED"


# -- outreach: subscribers, confirmation tokens, contact messages, outbox, rate limits ----

SIGNUPS_INDEX = "SIGNUPS"
OUTBOX_PENDING = "OUTBOX#PENDING"  # GSI1, sorted by when the next attempt is due (sharded below)
# A receipt per gift at a telethon's 1,000 gifts a second writes the pending queue 3 times
# an email (queued, claimed, sent): one partition key would take 3,000+ writes a second
# against DynamoDB's 1,000. The queue is spread over this many keys (README "A telethon peak").
OUTBOX_SHARDS = 16
OUTBOX_FAILED = "OUTBOX#FAILED"  # GSI1, sorted by when it failed
SIGNUPS_RECEIVED = "SIGNUPS#RECEIVED"


def subscriber(subscriber_id: str) -> Key:
    return {"pk": f"SUBSCRIBER#{subscriber_id}", "sk": "SUBSCRIBER"}


def subscriber_event(subscriber_id: str, timestamp: str, kind: str) -> Key:
    return {"pk": f"SUBSCRIBER#{subscriber_id}", "sk": f"EVENT#{timestamp}#{kind}"}


def pending_signup(signup_id: str) -> Key:
    return {"pk": f"SIGNUP#{signup_id}", "sk": "SIGNUP"}


def confirm_token(token_hash: str) -> Key:
    return {"pk": f"CONFIRM#{token_hash}", "sk": "CONFIRM"}


def contact(contact_id: str) -> Key:
    return {"pk": f"CONTACT#{contact_id}", "sk": "CONTACT"}


def contact_audit(contact_id: str, timestamp: str) -> Key:
    return {"pk": f"CONTACT#{contact_id}", "sk": f"AUDIT#{timestamp}"}


def contacts_by_program(topic: str, status: str) -> str:
    return f"CONTACTS#{topic}#{status}"


def outbox_pending(message_id: str) -> str:
    """The GSI1 partition of a pending email: one of OUTBOX_SHARDS, fixed by its id."""
    return f"{OUTBOX_PENDING}#{_shard(message_id, OUTBOX_SHARDS):02d}"


def outbox_pending_partitions() -> list[str]:
    """Every partition of the pending queue: the shards, then the single key emails queued
    before sharding sit under (they leave it when sent or failed)."""
    return [*(f"{OUTBOX_PENDING}#{n:02d}" for n in range(OUTBOX_SHARDS)), OUTBOX_PENDING]


def outbox(message_id: str) -> Key:
    return {"pk": f"OUTBOX#{message_id}", "sk": "OUTBOX"}


def rate_bucket(scope: str, key_hash: str, window_start: int) -> Key:
    return {"pk": f"RATE#{scope}#{key_hash}#{window_start}", "sk": "RATE"}


def alert_marker(scope: str, key_hash: str, window_start: int) -> Key:
    """Marks an alert as sent for this key and window, so it goes out once (TTL)."""
    return {"pk": f"ALERT#{scope}#{key_hash}#{window_start}", "sk": "ALERT"}


def submission(digest: str) -> Key:
    """Marks a form submission as seen, so a replayed one changes nothing (TTL)."""
    return {"pk": f"SUBMISSION#{digest}", "sk": "SUBMISSION"}


def once(marker: str) -> Key:
    """Marks something done once for good, such as a year's giving statement to one donor."""
    return {"pk": f"ONCE#{marker}", "sk": "ONCE"}


def staff_log(at: str, entry_id: str) -> Key:
    """A staff request, in its month's partition (a few thousand a month), newest last."""
    return {"pk": f"STAFFLOG#{at[:7]}", "sk": f"{at}#{entry_id}"}


# -- finance totals: aggregates kept from the table's stream --------------------------------


def totals(dimension: str, year: str) -> str:
    """One partition per dimension and year, so a year's report is one paged Query."""
    return f"TOTALS#{dimension}#{year}"


def totals_cell(dimension: str, day: str, currency: str, settlement: str | None, value: str | None) -> Key:
    """An aggregate cell: sorted by day, so a date range is one key condition; the value
    (free text for a campaign) goes last."""
    return {"pk": totals(dimension, day[:4]), "sk": f"{day}#{currency}#{settlement or ''}#{value or ''}"}


def totals_cell_parts(sk: str) -> tuple[str, str, str | None, str | None]:
    """(day, currency, settlement, value) of a cell's sort key: the first three never hold a
    `#`, so the value, last, is read whole."""
    day, currency, settlement, value = sk.split("#", 3)
    return day, currency, settlement or None, value or None


def gift_contribution(donation_id: str) -> Key:
    """What a gift last added to the totals, and at which of its versions."""
    return {"pk": f"TOTALS#GIFT#{donation_id}", "sk": "TOTALS"}


# -- exports -----------------------------------------------------------------------------

EXPORT_SK = "EXPORT"


def export(export_id: str) -> Key:
    """An export job; its audit entries sit in the same partition (record_audit)."""
    return {"pk": f"EXPORT#{export_id}", "sk": EXPORT_SK}


def campaign_progress(campaign: str, currency: str) -> Key:
    """A campaign's amount raised, gifts and donors in one currency (kept by the stream)."""
    return {"pk": f"TOTALS#CAMPAIGN#{campaign}", "sk": f"PROGRESS#{currency}"}


def campaign_donor(campaign: str, currency: str, donor: str) -> Key:
    """How many of one donor's gifts count toward a campaign (donor: a hash of the address).
    Its own partition key: a telethon writes a marker for every gift, which would overrun the
    campaign's partition (README "A telethon peak")."""
    return {"pk": f"TOTALS#DONOR#{campaign}#{currency}#{donor}", "sk": "DONOR"}


def campaign_donor_before(campaign: str, currency: str, donor: str) -> Key:
    """Where a donor's marker was kept before it had its own partition: read, never written."""
    return {"pk": f"TOTALS#CAMPAIGN#{campaign}", "sk": f"DONOR#{currency}#{donor}"}

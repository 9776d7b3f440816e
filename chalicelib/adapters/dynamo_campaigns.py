"""Campaign progress in DynamoDB: per campaign and currency one progress item (amount raised,
gifts and donors that count) in the campaign's partition, and one marker per donor (how many
of their gifts count) in its own (keys.campaign_progress, keys.campaign_donor). The totals
transaction writes them (adapters/dynamo_totals.py); the public campaign route reads one
progress item."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import dynamo_batch, keys
from chalicelib.adapters.dynamo_base import guarded, to_item, translate
from chalicelib.domain.campaigns import MarkerStep, Progress, Share

SHARE = "campaign_share"  # on a gift's contribution: {} when it adds nothing to any campaign


def share_values(share: Share | None) -> dict[str, Any]:
    return {SHARE: share._asdict() if share else {}}


def share_from(item: dict[str, Any]) -> tuple[Share | None, bool]:
    """A stored contribution's share, and whether it was kept (False on an item written before
    campaign progress was kept)."""
    if SHARE not in item:
        return None, False
    stored = item[SHARE]["M"]
    if not stored:
        return None, True
    return (
        Share(
            stored["campaign"]["S"], stored["currency"]["S"], stored["donor"]["S"], int(stored["raised"]["N"])
        ),
        True,
    )


def marker_update(table: str, step: MarkerStep) -> dict[str, Any]:
    """Set a donor's marker to step.seen + step.gifts, if it still holds the count read
    (absent: the count read came from the marker kept before, or was 0)."""
    return {
        "TableName": table,
        "Key": to_item(keys.campaign_donor(step.campaign, step.currency, step.donor)),
        "UpdateExpression": "SET gifts = :after, entity = :entity",
        "ConditionExpression": "attribute_not_exists(gifts) OR gifts = :seen",
        "ExpressionAttributeValues": to_item(
            {":after": step.seen + step.gifts, ":seen": step.seen, ":entity": "campaign_donor"}
        ),
    }


def progress_update(table: str, campaign: str, currency: str, change: Progress) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": to_item(keys.campaign_progress(campaign, currency)),
        "UpdateExpression": "ADD raised :raised, gifts :gifts, donors :donors"
        " SET entity = :entity, campaign = :campaign, currency = :currency",
        "ExpressionAttributeValues": to_item(
            {
                ":raised": change.raised,
                ":gifts": change.gifts,
                ":donors": change.donors,
                ":entity": "campaign_progress",
                ":campaign": campaign,
                ":currency": currency,
            }
        ),
    }


def read_number(
    client: Any, table: str, key: keys.Key, names: tuple[str, ...], consistent: bool
) -> list[int]:
    """The numbers `names` of one item (0 where absent): one GetItem."""
    try:
        response = guarded(
            client.get_item,
            TableName=table,
            Key=to_item(key),
            ConsistentRead=consistent,
            ProjectionExpression=", ".join(f"#{n}" for n in names),
            ExpressionAttributeNames={f"#{n}": n for n in names},
        )
    except ClientError as exc:
        raise translate(exc) from exc
    item = response.get("Item") or {}
    return [int(item[n]["N"]) if n in item else 0 for n in names]


def donor_counts(
    client: Any, table: str, markers: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], int]:
    """Each (campaign, currency, donor) marker's count, read consistently: from its own item,
    or, until that is first written, from the one kept in the campaign's partition before
    (nothing writes those any more, so the count read there stays true); 0 when neither is."""
    wanted = [(keys.campaign_donor(*m), keys.campaign_donor_before(*m)) for m in markers]
    found = dynamo_batch.get_many(client, table, [k for pair in wanted for k in pair], ("gifts",))
    counts = {}
    for marker, (key, before) in zip(markers, wanted, strict=True):
        item = found.get((key["pk"], key["sk"])) or found.get((before["pk"], before["sk"])) or {}
        counts[marker] = int(item["gifts"]["N"]) if "gifts" in item else 0
    return counts


def donor_gifts(client: Any, table: str, campaign: str, currency: str, donor: str) -> int:
    return donor_counts(client, table, [(campaign, currency, donor)])[(campaign, currency, donor)]


def progress(client: Any, table: str, campaign: str, currency: str) -> Progress:
    """Eventually consistent (half a read unit): the public page caches it for 30 s anyway."""
    key = keys.campaign_progress(campaign, currency)
    return Progress(*read_number(client, table, key, Progress._fields, consistent=False))

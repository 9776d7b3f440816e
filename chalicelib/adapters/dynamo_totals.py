"""Finance totals in DynamoDB: aggregate cells (one item per dimension, day, value and currency
pair; see keys.totals_cell) and, per gift, the contribution it last added to them."""

from __future__ import annotations

from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import dynamo_batch, dynamo_campaigns, keys
from chalicelib.adapters.dynamo_base import guarded, model_from, reasons, to_item, translate
from chalicelib.domain.campaigns import Progress, Share
from chalicelib.domain.donation import Donation
from chalicelib.domain.totals import FIGURES, Cell, Figures
from chalicelib.services.totals import CampaignChange, StoredContribution, TotalsStore
from chalicelib.services.totals_batch import BatchWrite, Refused

NAMES = {f"#{name}": name for name in FIGURES}
# What a report reads of a cell: its sort key names it (keys.totals_cell) and the six figures.
# Half the attributes of the item for boto3 to parse; the read capacity is the same.
REPORT_ATTRIBUTES = ("sk", *FIGURES)
REPORT_PROJECTION = ", ".join(["sk", *NAMES])


def _cell_key(cell: Cell) -> keys.Key:
    return keys.totals_cell(cell.dimension, cell.day, cell.currency, cell.settlement_currency, cell.value)


def _cell_values(cell: Cell) -> dict[str, Any]:
    return {
        "dimension": cell.dimension,
        "day": cell.day,
        "value": cell.value,
        "currency": cell.currency,
        "settlement_currency": cell.settlement_currency,
    }


def cell_values(cell: Cell, figures: Figures) -> dict[str, Any]:
    """An aggregate item as the stream handler's ADDs leave it (for loading a backfill)."""
    described = {**_cell_values(cell), "entity": "totals"}
    return {**_cell_key(cell), **described, **figures._asdict()}


def cell_from(item: dict[str, Any]) -> tuple[Cell, Figures]:
    """A cell with its attributes, as a gift's contribution lists them (typed form, read
    directly); a report reads cells with cell_from_key."""
    value, settlement = item.get("value"), item.get("settlement_currency")
    cell = Cell(
        item["dimension"]["S"],
        item["day"]["S"],
        value.get("S") if value else None,  # a NULL in a contribution's cells
        item["currency"]["S"],
        settlement.get("S") if settlement else None,
    )
    return cell, _figures(item)


def cell_from_key(dimension: str, item: dict[str, Any]) -> tuple[Cell, Figures]:
    """An aggregate item as a report reads it (REPORT_ATTRIBUTES, typed form): the cell from
    the dimension queried and the sort key."""
    day, currency, settlement, value = keys.totals_cell_parts(item["sk"]["S"])
    return Cell(dimension, day, value, currency, settlement), _figures(item)


def _figures(item: dict[str, Any]) -> Figures:
    try:  # every ADD writes all six, so an item has them all
        return Figures(
            int(item["count"]["N"]),
            int(item["gross"]["N"]),
            int(item["fees"]["N"]),
            int(item["net"]["N"]),
            int(item["refunded"]["N"]),
            int(item["disputed"]["N"]),
        )
    except KeyError:
        return Figures(*[int(item[name]["N"]) if name in item else 0 for name in FIGURES])


def _stored(item: dict[str, Any]) -> StoredContribution:
    """A gift's stored contribution from its item (typed form)."""
    cells = dict(cell_from(part["M"]) for part in item.get("cells", {}).get("L", []))
    share, share_kept = dynamo_campaigns.share_from(item)
    return StoredContribution(int(item["version"]["N"]), cells, share, share_kept)


class DynamoTotals(TotalsStore):
    def __init__(self, table_name: str, boto3_client: Any) -> None:
        self.table = table_name
        self.client = boto3_client
        self.read_capacity = 0.0  # what the last cells() consumed, in read capacity units

    def gift_from_image(self, image: dict[str, Any]) -> Donation:
        return model_from(Donation, image)

    def contribution(self, donation_id: str) -> StoredContribution | None:
        try:
            response = guarded(
                self.client.get_item,
                TableName=self.table,
                Key=to_item(keys.gift_contribution(donation_id)),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise translate(exc) from exc
        item = response.get("Item")
        return _stored(item) if item else None

    def save(
        self,
        donation_id: str,
        read_version: int | None,
        version: int,
        after: dict[Cell, Figures],
        deltas: dict[Cell, Figures],
        campaign: CampaignChange,
    ) -> bool:
        """One transaction: the gift's new contribution (conditional on the version read), an
        ADD of each difference to its cell, and its campaign's progress and donor markers (each
        marker conditional on the count read). False when another writer got there first."""
        put = self._contribution(donation_id, read_version, version, after, campaign.share)
        items: list[dict[str, Any]] = [{"Put": put}]
        items.extend({"Update": self._add(cell, delta)} for cell, delta in deltas.items())
        items.extend({"Update": dynamo_campaigns.marker_update(self.table, step)} for step in campaign.steps)
        items.extend(
            {"Update": dynamo_campaigns.progress_update(self.table, name, currency, change)}
            for (name, currency), change in campaign.progress.items()
        )
        try:
            guarded(self.client.transact_write_items, TransactItems=items)
        except ClientError as exc:
            if "ConditionalCheckFailed" in reasons(exc):
                return False
            raise translate(exc) from exc
        return True

    def contributions(self, donation_ids: list[str]) -> dict[str, StoredContribution]:
        wanted = [keys.gift_contribution(i) for i in donation_ids]
        found = dynamo_batch.get_many(self.client, self.table, wanted)
        return {
            i: _stored(found[(k["pk"], k["sk"])])
            for i, k in zip(donation_ids, wanted, strict=True)
            if (k["pk"], k["sk"]) in found
        }

    def donor_counts(self, markers: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], int]:
        return dynamo_campaigns.donor_counts(self.client, self.table, markers)

    def save_batch(self, batch: BatchWrite) -> Refused | None:
        """The batch's contributions, its summed ADD on each cell, each marker step and each
        campaign's progress: one transaction. What DynamoDB cancelled it for, if it did."""
        items: list[dict[str, Any]] = [
            {"Put": self._contribution(g.donation_id, g.read_version, g.version, g.after, g.share)}
            for g in batch.gifts
        ]
        owners: list[tuple[str, Any] | None] = [("gift", g.donation_id) for g in batch.gifts]
        items.extend({"Update": self._add(cell, delta)} for cell, delta in batch.deltas.items())
        items.extend({"Update": dynamo_campaigns.marker_update(self.table, step)} for step in batch.steps)
        owners += [None] * len(batch.deltas) + [
            ("marker", (s.campaign, s.currency, s.donor)) for s in batch.steps
        ]
        items.extend(
            {"Update": dynamo_campaigns.progress_update(self.table, name, currency, change)}
            for (name, currency), change in batch.progress.items()
        )
        failed = dynamo_batch.transact(self.client, items, owners)
        if failed is None:
            return None
        if not failed:
            return Refused(conflict=True)
        return Refused(
            gifts=frozenset(name for kind, name in failed if kind == "gift"),
            markers=frozenset(name for kind, name in failed if kind == "marker"),
        )

    def _contribution(
        self,
        donation_id: str,
        read_version: int | None,
        version: int,
        after: dict[Cell, Figures],
        share: Share | None,
    ) -> dict[str, Any]:
        """The Put of a gift's contribution, conditional on the version read (None: none stored)."""
        parts = [{**_cell_values(c), **f._asdict()} for c, f in after.items()]
        put: dict[str, Any] = {
            "TableName": self.table,
            "Item": to_item(
                {
                    **keys.gift_contribution(donation_id),
                    "entity": "contribution",
                    "version": version,
                    "cells": parts,
                    **dynamo_campaigns.share_values(share),
                }
            ),
        }
        if read_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :read"
            put["ExpressionAttributeValues"] = to_item({":read": read_version})
        return put

    def donor_gifts(self, campaign: str, currency: str, donor: str) -> int:
        return dynamo_campaigns.donor_gifts(self.client, self.table, campaign, currency, donor)

    def progress(self, campaign: str, currency: str) -> Progress:
        return dynamo_campaigns.progress(self.client, self.table, campaign, currency)

    def _add(self, cell: Cell, delta: Figures) -> dict[str, Any]:
        described = {k: v for k, v in {**_cell_values(cell), "entity": "totals"}.items() if v is not None}
        names = {**NAMES, **{f"#{k}": k for k in described}}
        values = {f":{n}": getattr(delta, n) for n in FIGURES} | {f":{k}": v for k, v in described.items()}
        adds = ", ".join(f"#{n} :{n}" for n in FIGURES)
        sets = ", ".join(f"#{k} = :{k}" for k in described)
        return {
            "TableName": self.table,
            "Key": to_item(_cell_key(cell)),
            "UpdateExpression": f"ADD {adds} SET {sets}",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }

    def cells(self, dimension: str, start: date, end: date) -> list[tuple[Cell, Figures]]:
        """Every cell of a dimension paid within [start, end]: one paged Query per year."""
        found: list[tuple[Cell, Figures]] = []
        self.read_capacity = 0.0
        for year in range(start.year, end.year + 1):
            first = max(start, date(year, 1, 1)).isoformat()
            last = min(end, date(year, 12, 31)).isoformat() + "#\uffff"
            request: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
                "ExpressionAttributeValues": to_item(
                    {":pk": keys.totals(dimension, str(year)), ":first": first, ":last": last}
                ),
                "ProjectionExpression": REPORT_PROJECTION,
                "ExpressionAttributeNames": NAMES,
                "ReturnConsumedCapacity": "TOTAL",
            }
            while True:
                try:
                    response = guarded(self.client.query, **request)
                except ClientError as exc:
                    raise translate(exc) from exc
                self.read_capacity += float(response.get("ConsumedCapacity", {}).get("CapacityUnits", 0))
                found.extend(cell_from_key(dimension, item) for item in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

"""Finding gifts: every filter of the staff list is a Query on a key or an index.

The list Queries the most selective index its filters allow (README "Data:"), one creation
month at a time where the index is partitioned by month, and leaves the other filters to a
FilterExpression on what that Query reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from chalicelib.adapters import cursors, keys, shard_merge
from chalicelib.adapters.dynamo_base import guarded, model_from, to_item, translate, translate_list
from chalicelib.domain.donation import Donation
from chalicelib.domain.records import field_names
from chalicelib.services.ports import DonationPage

if TYPE_CHECKING:
    from chalicelib.domain.finding import GiftFilter

# Queries one list page may make: a month takes one Query per shard and the old key (17), and
# a filter (abandoned gifts, a rare status) or empty months can leave query after query empty;
# past this the page ends early and its cursor goes on. Three months' worth.
QUERIES_PER_PAGE = 3 * (keys.FIND_SHARDS + 1)
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
INSTALLMENT_FREQUENCIES = ("installment", "monthly", "annual")
TOP_AMOUNT = 10**keys.AMOUNT_DIGITS - 1
PAID = "paid"  # the payment status succeeded, whatever happened afterwards


@dataclass
class Plan:
    """One list query: the index, its partition per month, the sort range, the filters."""

    index: str
    key_names: tuple[str, str]
    partition: Callable[[str], str]
    sort_range: tuple[str, str]
    monthly: bool = True  # and so write-sharded (keys.find_shard); the donor index is neither
    conditions: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def partitions(self, month: str) -> list[str]:
        key = self.partition(month)
        return keys.find_partitions(key) if self.monthly else [key]

    def where(self, condition: str, names: dict[str, str], **values: Any) -> None:
        self.conditions.append(condition)
        self.names.update(names)
        self.values.update({f":{k}": v for k, v in values.items()})


def _index(name: str) -> tuple[str, tuple[str, str]]:
    return f"gifts_by_{name}", (f"{name}_pk", f"{name}_sk")


def choose_plan(f: GiftFilter, start: str, end: str, include_abandoned: bool) -> Plan:
    """The index to Query for these filters, most selective first: a donor's email, then a
    campaign, a status other than succeeded (or paid), an amount range, a fund, installments,
    the succeeded status, and with none of these the month index (gsi1). `paid` (most gifts)
    is always a filter."""
    dated = (start, end)
    keyed: str
    if f.email:
        email = f.email
        plan = Plan(*_index("donor"), lambda _m: keys.donations_by_donor(email), dated, monthly=False)
        keyed = "email"
    elif f.campaign:
        campaign = f.campaign
        plan = Plan(*_index("campaign"), lambda m: keys.donations_by_campaign(campaign, m), dated)
        keyed = "campaign"
    elif f.status and f.status not in ("succeeded", PAID):
        plan = _status_plan(f.status, dated)
        keyed = "status"
    elif f.min_amount is not None or f.max_amount is not None:
        low, high = f.min_amount or 0, TOP_AMOUNT if f.max_amount is None else f.max_amount
        plan = Plan(
            *_index("amount"),
            keys.donations_by_amount,
            (f"{low:0{keys.AMOUNT_DIGITS}d}#", f"{high:0{keys.AMOUNT_DIGITS}d}#~"),
        )
        plan.where("#created BETWEEN :start AND :end", {"#created": "created_at"}, start=start, end=end)
        keyed = "amount"
    elif f.fund:
        fund = f.fund
        plan = Plan(*_index("fund"), lambda m: keys.donations_by_fund(fund, m), dated)
        keyed = "fund"
    elif f.frequency in INSTALLMENT_FREQUENCIES:
        plan = Plan(*_index("installment"), keys.installments_by_month, dated)
        keyed = "installment"
    elif f.status == "succeeded":
        plan = _status_plan(f.status, dated)
        keyed = "status"
    else:
        plan = Plan("gsi1", ("gsi1pk", "gsi1sk"), keys.donations_by_month, dated)
        keyed = ""
    _filter_rest(plan, f, keyed, include_abandoned)
    return plan


def _status_plan(status: str, dated: tuple[str, str]) -> Plan:
    return Plan(*_index("status"), lambda m: keys.donations_by_status(status, m), dated)


def _filter_rest(plan: Plan, f: GiftFilter, keyed: str, include_abandoned: bool) -> None:
    """Every filter the chosen index's key does not answer, as a FilterExpression."""
    if f.email and keyed != "email":
        plan.where("#donor = :donor", {"#donor": "donor_pk"}, donor=keys.donations_by_donor(f.email))
    if f.campaign and keyed != "campaign":
        plan.where("#campaign = :campaign", {"#campaign": "campaign"}, campaign=f.campaign)
    if f.status == PAID:
        plan.where("#status = :paid", {"#status": "status"}, paid="succeeded")
    elif f.status and keyed != "status":
        plan.where("#display = :display", {"#display": "display_status"}, display=f.status)
    if (f.min_amount is not None or f.max_amount is not None) and keyed != "amount":
        if f.min_amount is not None:
            plan.where("#amount >= :min_amount", {"#amount": "amount"}, min_amount=f.min_amount)
        if f.max_amount is not None:
            plan.where("#amount <= :max_amount", {"#amount": "amount"}, max_amount=f.max_amount)
    if f.fund and keyed != "fund":
        plan.where("#fund = :fund", {"#fund": "fund"}, fund=f.fund)
    if f.frequency == "one_time":
        plan.where("#frequency = :frequency", {"#frequency": "frequency"}, frequency="one_time")
    elif f.frequency in ("monthly", "annual"):
        plan.where("#frequency = :frequency", {"#frequency": "frequency"}, frequency=f.frequency)
    elif f.frequency == "installment" and keyed != "installment":
        plan.where("#frequency <> :frequency", {"#frequency": "frequency"}, frequency="one_time")
    if f.status is None and not include_abandoned:
        plan.where("#status <> :abandoned", {"#status": "status"}, abandoned="abandoned")


def list_donations(
    client: Any,
    table: str,
    start: str,
    end: str,
    limit: int,
    cursor: str | None,
    *,
    include_abandoned: bool = False,
    filters: GiftFilter | None = None,
) -> DonationPage:
    """Gifts created in [start, end] that pass the filters: oldest first, or by amount within
    each month when an amount range picks the amount index. A month's shards are merged by
    sort key (shard_merge); the cursor holds the month and the position all shards resume at."""
    f = filters or _no_filter()
    scope = {"list": "donations", "from": start, "to": end, "abandoned": str(include_abandoned), **f.scope()}
    plan = choose_plan(f, start, end, include_abandoned)
    first, last = start[:7], end[:7]
    month, position = first, None
    if cursor:
        data = cursors.decode(cursor, scope)
        month, position = str(data.get("m")), data.get("k")
        if not (MONTH.fullmatch(month) and first <= month <= last) or not _in_range(position, plan):
            raise cursors.bad_cursor()
    items: list[Donation] = []
    budget = QUERIES_PER_PAGE
    while month <= last:
        merged = shard_merge.merge(
            _shard_query(client, table, plan, cursor),
            plan.partitions(month),
            lambda item: str(item[plan.key_names[1]]["S"]),
            position,
            limit - len(items),
            budget,
        )
        items.extend(model_from(Donation, item) for item in merged.items)
        budget -= merged.queries
        if not merged.done:
            return DonationPage(items, cursors.encode(scope, m=month, k=merged.position))
        month, position = (next_month(month) if plan.monthly else "9999-12"), None
        if len(items) >= limit or budget <= 0:
            break
    return DonationPage(items, cursors.encode(scope, m=month, k=None) if month <= last else None)


def _no_filter() -> GiftFilter:
    from chalicelib.domain.finding import GiftFilter  # the staff routes' model: loads pydantic

    return GiftFilter()


def period_donations(
    client: Any,
    table: str,
    start: str,
    end: str,
    page_size: int,
    *,
    include_abandoned: bool = False,
    filters: GiftFilter | None = None,
) -> Iterator[tuple[list[Donation], bool]]:
    """The gifts list_donations gives page after page, in the same order, `page_size` at a
    time with whether more follow, for a reader of the whole period (the export): each month's
    shards are read to their end and merged as a stream (shard_merge.stream), so no item is
    read twice and no Query is sized by a page."""
    plan = choose_plan(filters or _no_filter(), start, end, include_abandoned)
    months = _months(start[:7], end[:7]) if plan.monthly else [start[:7]]
    sort_name = plan.key_names[1]
    query = _shard_query(client, table, plan, None, list(field_names(Donation)))  # the rest is not read
    items = chain.from_iterable(
        shard_merge.stream(query, plan.partitions(month), lambda item: str(item[sort_name]["S"]))
        for month in months
    )
    page: list[Donation] = []
    for item in items:
        if len(page) == page_size:
            yield page, True
            page = []
        page.append(model_from(Donation, item))
    yield page, False


def _months(first: str, last: str) -> list[str]:
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
    return months


def _in_range(position: Any, plan: Plan) -> bool:
    """A cursor's position: none (the month's start), or a sort value of this query's range
    that ends in a gift id."""
    if position is None:
        return True
    return (
        isinstance(position, str)
        and bool(position.rpartition("#")[2])
        and plan.sort_range[0] <= position <= plan.sort_range[1]
    )


def _shard_query(
    client: Any, table: str, plan: Plan, cursor: str | None, attributes: list[str] | None = None
) -> shard_merge.ShardQuery:
    """One Query of a shard: the plan's sort range (up to a bound, when the merge gives one) and
    filters, resuming after a position; only these attributes (and the sort key), if named."""
    pk_name, sk_name = plan.key_names
    projected = {f"#a{n}": name for n, name in enumerate([*(attributes or []), sk_name])}

    def query(
        partition: str, after: str | None, limit: int | None, through: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        high = min(plan.sort_range[1], through) if through else plan.sort_range[1]
        request: dict[str, Any] = {
            "TableName": table,
            "IndexName": plan.index,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#pk": pk_name, "#sk": sk_name, **plan.names},
            "ExpressionAttributeValues": to_item(
                {":pk": partition, ":low": plan.sort_range[0], ":high": high, **plan.values}
            ),
        }
        if limit is not None:
            request["Limit"] = limit
        if plan.conditions:
            request["FilterExpression"] = " AND ".join(plan.conditions)
        if attributes:
            request["ProjectionExpression"] = ", ".join(projected)
            request["ExpressionAttributeNames"].update(projected)
        if after:
            gift = keys.donation(after.rpartition("#")[2])
            request["ExclusiveStartKey"] = to_item({pk_name: partition, sk_name: after, **gift})
        try:
            response = guarded(client.query, **request)
        except ClientError as exc:
            raise translate_list(exc, cursor) from exc
        last = response.get("LastEvaluatedKey")
        return response.get("Items", []), (str(last[sk_name]["S"]) if last else None)

    return query


def donor_page(client: Any, table: str, email: str, limit: int, cursor: str | None) -> DonationPage:
    """A donor's gifts, newest first, from the donor index."""
    partition = keys.donations_by_donor(email)
    scope = {"list": "donor", "email": keys.donor_email(email)}
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gifts_by_donor",
        "Limit": limit,
        "ScanIndexForward": False,
        "KeyConditionExpression": "donor_pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": partition}),
    }
    if cursor:
        key = cursors.decode(cursor, scope).get("k")
        query["ExclusiveStartKey"] = cursors.start_key(
            key, partition, keys.donation, index_keys=("donor_pk", "donor_sk")
        )
    try:
        response = guarded(client.query, **query)
    except ClientError as exc:
        raise translate_list(exc, cursor) from exc
    last = response.get("LastEvaluatedKey")
    gifts = [model_from(Donation, item) for item in response.get("Items", [])]
    return DonationPage(gifts, cursors.encode(scope, k=last) if last else None)


def donor_gifts(client: Any, table: str, email: str) -> list[Donation]:
    """Every gift of a donor (the donor index, page after page), for their totals."""
    query: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gifts_by_donor",
        "KeyConditionExpression": "donor_pk = :pk",
        "ExpressionAttributeValues": to_item({":pk": keys.donations_by_donor(email)}),
    }
    gifts: list[Donation] = []
    while True:
        try:
            response = guarded(client.query, **query)
        except ClientError as exc:
            raise translate(exc) from exc
        gifts.extend(model_from(Donation, item) for item in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return gifts
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"

"""The totals stream's batch sum against DynamoDB Local: a stream batch stores each gift's
versioned contribution and adds the batch's summed deltas to each cell once. Duplicates,
out-of-order images of one gift, two gifts on one cell, an image that turns out stale at the
transaction, a batch too big for one transaction, donors counted once, a poison record; and
a count of the writes each cell takes per batch (botocore's before-call hook)."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters.dynamo_base import to_item
from chalicelib.adapters.dynamo_totals import DynamoTotals
from chalicelib.domain.donation import Donation
from chalicelib.services.totals import apply_gift, report
from chalicelib.services.totals_batch import apply_gifts
from devstack.stack import Stack
from devstack.stream_poller import lambda_record, run_batch
from tests.campaign_data import CURRENCIES, campaign_names, campaign_stream, expected_progress
from tests.totals_data import expected_rows, stream
from tests.unit.factories import donation

GROUPS = ("day", "month", "fund", "campaign", "frequency")
YEARS = itertools.count(2500)


def store() -> DynamoTotals:
    from chalicelib.bootstrap import get_totals_store

    found = get_totals_store()
    assert isinstance(found, DynamoTotals)
    return found


def paid(year: int, **overrides: Any) -> Donation:
    values: dict[str, Any] = {
        "status": "succeeded",
        "succeeded_at": f"{year}-03-04T10:00:00.000Z",
        "created_at": f"{year}-03-04T09:59:00.000Z",
        "fee": 175,
        "net": 4825,
        "settlement_currency": "usd",
        "campaign": f"batch-{year}",
        "version": 2,
    }
    return donation(**{**values, **overrides})


def rows(year: int, group_by: str = "fund") -> list[dict[str, Any]]:
    found = report(group_by, date(year, 1, 1), date(year, 12, 31), store())  # type: ignore[arg-type]
    return [r.as_dict() for r in found]


@contextmanager
def cell_writes() -> Iterator[Counter[str]]:
    """Writes per item (pk and sk) in each TransactWriteItems sent (before-send: retries too)."""
    written: Counter[str] = Counter()

    def count(request: Any, **_: Any) -> None:
        if not str(request.headers.get("X-Amz-Target", b"")).endswith("TransactWriteItems'"):
            return
        body = request.body
        for part in json.loads(body.decode() if isinstance(body, bytes) else body)["TransactItems"]:
            (_kind, request), *_rest = part.items()
            key = request.get("Key") or request["Item"]
            written[f"{key['pk']['S']} {key['sk']['S']}"] += 1

    events = store().client.meta.events
    events.register("before-send.dynamodb", count, "batch-cell-writes")
    try:
        yield written
    finally:
        events.unregister("before-send.dynamodb", unique_id="batch-cell-writes")


def hot(written: Counter[str], year: int) -> dict[str, int]:
    """The cells and the campaign progress item among the writes (not contributions, markers)."""
    return {
        k: n
        for k, n in written.items()
        if str(year) in k and not k.startswith("TOTALS#GIFT#") and " DONOR" not in k
    }


def test_each_cell_takes_one_write_per_batch_instead_of_one_per_gift(stack: Stack) -> None:
    year = next(YEARS)
    gifts = [paid(year, email=f"donor-{n}@example.org", amount=5000) for n in range(20)]
    with cell_writes() as one_by_one:
        for gift in gifts[:10]:
            assert apply_gift(gift, store())
    with cell_writes() as batched:
        assert apply_gifts(gifts[10:], store()) == 10
    per_gift, per_batch = hot(one_by_one, year), hot(batched, year)
    # all, fund, campaign, frequency cells of the day, and the campaign's progress item
    assert len(per_gift) == len(per_batch) == 5
    assert set(per_gift.values()) == {10}, per_gift
    assert set(per_batch.values()) == {1}, per_batch
    # a partition key takes its budget whole: the campaign's holds its progress item only, so
    # the donors' markers (one a gift) are written elsewhere
    by_partition = Counter(k.split()[0] for k in batched.elements())
    assert by_partition[f"TOTALS#CAMPAIGN#batch-{year}"] == 1, by_partition
    assert rows(year)[0]["count"] == 20 and rows(year)[0]["gross"] == 100000
    assert tuple(store().progress(f"batch-{year}", "usd")) == (100000, 20, 20)


def test_a_batch_with_duplicates_counts_each_gift_once(stack: Stack) -> None:
    year = next(YEARS)
    first, second = paid(year, amount=1000), paid(year, amount=2500, email="b@example.org")
    assert apply_gifts([first, first, second, first, second], store()) == 2
    assert apply_gifts([first, second], store()) == 0  # the batch replayed: nothing changes
    assert rows(year)[0]["count"] == 2 and rows(year)[0]["gross"] == 3500
    assert tuple(store().progress(f"batch-{year}", "usd")) == (3500, 2, 2)


def test_out_of_order_images_of_one_gift_end_at_its_latest(stack: Stack) -> None:
    year = next(YEARS)
    pending = paid(year, status="pending", succeeded_at=None, fee=None, net=None, version=1)
    settled = paid(year, version=2)
    refunded = paid(year, version=3, refunded=5000)  # refunded in full: kept 0, the donor leaves
    pending, settled, refunded = (
        g.model_copy(update={"id": pending.id}) for g in (pending, settled, refunded)
    )
    assert apply_gifts([refunded, pending, settled], store()) == 1
    assert apply_gifts([settled], store()) == 0  # older than the stored one, in a later batch
    [row] = rows(year)
    assert (row["count"], row["gross"], row["refunded"]) == (1, 5000, 5000)
    assert tuple(store().progress(f"batch-{year}", "usd")) == (0, 0, 0)


def test_two_gifts_of_one_donor_and_two_donors_on_one_cell_sum_and_count_exactly(stack: Stack) -> None:
    year = next(YEARS)
    ada = [paid(year, amount=1000, email="ada@example.org"), paid(year, amount=2000, email="Ada@Example.org")]
    grace = paid(year, amount=4000, email="grace@example.org")
    gone = paid(year, amount=800, email="gone@example.org", refunded=800)  # counts for nothing
    assert apply_gifts([*ada, grace, gone], store()) == 4
    assert tuple(store().progress(f"batch-{year}", "usd")) == (7000, 3, 2)
    [row] = rows(year)
    assert (row["count"], row["gross"], row["refunded"]) == (4, 7800, 800)
    # one of ada's gifts refunded in full and grace's too, in one batch: ada still counts
    later = [ada[0].model_copy(update={"version": 3, "refunded": 1000}),
             grace.model_copy(update={"version": 3, "refunded": 4000})]  # fmt: skip
    assert apply_gifts(later, store()) == 2
    assert tuple(store().progress(f"batch-{year}", "usd")) == (2000, 1, 1)


def test_an_image_that_turns_out_stale_at_the_transaction_is_left_out_and_the_rest_retried(
    stack: Stack,
) -> None:
    """Gift A's newer version is applied between the batch's read and its transaction: the
    transaction is cancelled naming A's contribution, and the batch goes again without A."""
    year = next(YEARS)
    a_old, b = paid(year, amount=1000, version=2), paid(year, amount=3000, email="b@example.org")
    a_new = a_old.model_copy(update={"version": 5, "refunded": 400})
    plain = store()

    class Racing(DynamoTotals):
        def contributions(self, ids: list[str]) -> Any:
            found = super().contributions(ids)
            if a_old.id in ids and a_old.id not in found:
                assert apply_gift(a_new, plain)  # lands after this read
            return found

    racing = Racing(stack.config.table_name, plain.client)
    with cell_writes() as written:
        assert apply_gifts([a_old, b], racing) == 1
    transactions = written[f"TOTALS#GIFT#{b.id} TOTALS"]
    assert transactions == 2  # refused once (A stale), then B alone
    [row] = rows(year)
    assert (row["count"], row["gross"], row["refunded"]) == (2, 4000, 400)
    assert tuple(plain.progress(f"batch-{year}", "usd")) == (3600, 2, 2)


def test_a_batch_bigger_than_one_transaction_is_split_each_part_whole(stack: Stack) -> None:
    year = next(YEARS)
    gifts = [paid(year, amount=100 + n, email=f"d{n}@example.org") for n in range(130)]
    with cell_writes() as written:
        assert apply_gifts(gifts, store()) == 130
    assert max(hot(written, year).values()) <= 3  # two marker items a gift: about 48 gifts a part
    [row] = rows(year)
    assert (row["count"], row["gross"]) == (130, sum(g.amount for g in gifts))
    assert tuple(store().progress(f"batch-{year}", "usd")) == (row["gross"], 130, 130)


def test_a_marker_kept_in_the_campaigns_partition_before_is_the_starting_count(stack: Stack) -> None:
    """Markers written before they had their own partition key are read (never written): a
    donor counted then is not counted twice, and leaves when their gifts stop counting."""
    from chalicelib.adapters import keys
    from chalicelib.domain.campaigns import donor_of

    year = next(YEARS)
    campaign, donor = f"batch-{year}", donor_of("old@example.org")
    earlier = paid(year, amount=3000, email="old@example.org")
    assert apply_gifts([earlier], store())
    client, table = store().client, stack.config.table_name
    marker = to_item(keys.campaign_donor(campaign, "usd", donor))
    legacy = {"pk": f"TOTALS#CAMPAIGN#{campaign}", "sk": f"DONOR#usd#{donor}"}
    client.delete_item(TableName=table, Key=marker)  # as the earlier code left it: in the
    client.put_item(TableName=table, Item=to_item({**legacy, "gifts": 1, "entity": "campaign_donor"}))
    again = paid(year, amount=2000, email="Old@Example.org")
    assert apply_gifts([again], store())
    assert tuple(store().progress(campaign, "usd")) == (5000, 2, 1)
    assert store().donor_counts([(campaign, "usd", donor)]) == {(campaign, "usd", donor): 2}
    refunds = [g.model_copy(update={"version": 3, "refunded": g.amount}) for g in (earlier, again)]
    assert apply_gifts(refunds, store()) == 2
    assert tuple(store().progress(campaign, "usd")) == (0, 0, 0)
    assert store().donor_gifts(campaign, "usd", donor) == 0


def batches(draw: Any, images: list[Donation]) -> list[list[Donation]]:
    """The stream's images cut into batches at random, some batches delivered twice."""
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(images) - 1)), max_size=5)))
    parts = [images[a:b] for a, b in itertools.pairwise([0, *cuts, len(images)]) if images[a:b]]
    twice = draw(st.lists(st.sampled_from(parts), max_size=2)) if parts else []
    return [*parts, *twice]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_batches_in_any_order_and_with_replays_equal_the_gift_records(stack: Stack, data: Any) -> None:
    year = next(YEARS)
    gifts, images = data.draw(stream(year))
    for batch in batches(data.draw, images):
        apply_gifts(batch, store())
    for group_by in GROUPS:
        assert rows(year, group_by) == expected_rows(gifts, group_by), group_by


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_campaign_progress_from_batches_equals_the_gift_records(stack: Stack, data: Any) -> None:
    year = next(YEARS)
    gifts, images = data.draw(campaign_stream(year))
    for batch in batches(data.draw, images):
        apply_gifts(batch, store())
    found = {
        (name, currency): tuple(store().progress(name, currency))
        for name in campaign_names(year)
        for currency in CURRENCIES
    }
    assert found == expected_progress(gifts, year)


def record(image: dict[str, Any], n: int) -> dict[str, Any]:
    key = {"pk": image["pk"], "sk": image["sk"]}
    change = {
        "ApproximateCreationDateTime": 1_800_000_000,
        "Keys": key,
        "NewImage": image,
        "SequenceNumber": str(n),
        "SizeBytes": 900,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    return lambda_record({"eventID": str(n), "eventName": "MODIFY", "dynamodb": change}, "arn:stream")


def image_of(gift: Donation) -> dict[str, Any]:
    return to_item({"pk": f"DONATION#{gift.id}", "sk": "DONATION", **gift.model_dump()})


def test_a_poison_record_is_handed_on_alone_and_holds_up_nothing(stack: Stack) -> None:
    from app import app

    year = next(YEARS)
    good = [paid(year, amount=1000 * (n + 1), email=f"p{n}@example.org") for n in range(5)]
    poison = image_of(paid(year, amount=9999))
    poison["amount"] = {"S": "not a number"}
    records = [record(image_of(g), n) for n, g in enumerate(good)]
    records.insert(2, record(poison, 99))
    handler = app.handler_map["totals_stream"]
    # The rest is applied before it raises; the failure names only its type (chalicelib/logs.py).
    with pytest.raises(Exception, match="StreamRecordError"):
        handler({"Records": records}, None)
    assert rows(year)[0]["count"] == 5
    given_up: list[dict[str, Any]] = []
    run_batch(handler, records, given_up.append, retries=1, pause=0)
    assert [r["eventID"] for r in given_up] == ["99"]
    assert rows(year)[0]["count"] == 5 and rows(year)[0]["gross"] == 15000


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


@contextmanager
def cancelled_once(reason: str) -> Iterator[list[int]]:
    """DynamoDB Local never cancels a transaction for a conflict or throttling: the first
    TransactWriteItems gets that answer (before-send), as DynamoDB gives it."""
    from botocore.awsrequest import AWSResponse

    sent: list[int] = []

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if not str(request.headers.get("X-Amz-Target", b"")).endswith("TransactWriteItems'"):
            return None
        body = request.body
        items = json.loads(body.decode() if isinstance(body, bytes) else body)["TransactItems"]
        sent.append(len(items))
        if len(sent) > 1:
            return None
        reasons = [{"Code": "None"}] * (len(items) - 1) + [{"Code": reason, "Message": reason}]
        payload = {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
            "CancellationReasons": reasons,
        }
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "CANCELLED"}
        return AWSResponse(request.url, 400, headers, _Body(json.dumps(payload).encode()))

    events = store().client.meta.events
    events.register_first("before-send.dynamodb", answer, "batch-cancelled")
    try:
        yield sent
    finally:
        events.unregister("before-send.dynamodb", unique_id="batch-cancelled")


def test_a_batch_that_meets_another_on_a_cell_is_tried_again(stack: Stack) -> None:
    year = next(YEARS)
    gifts = [paid(year, amount=1000, email=f"c{n}@example.org") for n in range(3)]
    with cancelled_once("TransactionConflict") as sent:
        assert apply_gifts(gifts, store()) == 3
    assert len(sent) == 2 and sent[0] == sent[1]  # the same transaction, once more
    assert rows(year)[0]["count"] == 3
    assert tuple(store().progress(f"batch-{year}", "usd")) == (3000, 3, 3)


def test_a_throttled_batch_raises_for_the_event_source_to_retry(stack: Stack) -> None:
    from chalicelib.domain.errors import UpstreamError

    year = next(YEARS)
    gifts = [paid(year, amount=1000, email=f"t{n}@example.org") for n in range(2)]
    with cancelled_once("ThrottlingError"), pytest.raises(UpstreamError):
        apply_gifts(gifts, store())
    assert rows(year) == []
    assert apply_gifts(gifts, store()) == 2  # the event source's retry
    assert rows(year)[0]["count"] == 2

"""CSV exports of gifts: ask for one (recorded with its audit entry), run it behind the
answer page by page into one S3 object, and read its state with a short-lived link."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.donation import Donation
from chalicelib.domain.errors import NotFoundError, StewardError
from chalicelib.domain.export_rows import COLUMNS, donation_row
from chalicelib.domain.exports import Export, ExportRequest, object_key
from chalicelib.domain.ids import new_id
from chalicelib.services.clock import Clock, seconds_before, utc_now
from chalicelib.services.ports import Repository

log = logging.getLogger("steward")
PAGE_SIZE = 1000  # gifts per CSV chunk; the reads are DynamoDB's 1 MB pages
LINK_SECONDS = 300
# A job that outlives its function (15 minutes on Lambda) died without an end; its state
# read after this long says failed, and a late end can no longer flip it.
STALE_SECONDS = 16 * 60
NO_PLAN: tuple[str | None, str | None] = (None, None)


class ExportFile(Protocol):
    def write(self, data: bytes) -> None: ...
    def complete(self) -> None: ...
    def abort(self) -> None: ...


class ExportStore(Protocol):
    def open(self, key: str) -> ExportFile: ...
    def link(self, key: str, seconds: int, filename: str) -> str: ...


class ExportRepository(Protocol):
    def create_export(self, export: Export) -> None: ...
    def get_export(self, export_id: str) -> Export | None: ...
    def finish_export(self, export_id: str, rows: int, object_key: str, at: str) -> bool: ...
    def fail_export(self, export_id: str, reason: str, at: str) -> bool: ...
    def plan_links(self, plan_ids: list[str]) -> dict[str, tuple[str | None, str | None]]: ...


@dataclass(frozen=True)
class ExportPorts:
    exports: ExportRepository
    gifts: Repository
    store: ExportStore
    clock: Clock = utc_now


@dataclass(frozen=True)
class ExportState:
    export: Export
    url: str | None


class OutOfTimeError(StewardError):
    """The job would outlive its function; it ends failed instead of being cut off."""


def request_export(
    request: ExportRequest, actor: str, exports: ExportRepository, clock: Clock = utc_now
) -> Export:
    start, end = request.bounds
    export = Export(
        id=new_id(),
        kind=request.kind,
        start=start,
        end=end,
        filters=request.filters.model_dump_json(exclude_defaults=True),
        requested_by=actor,
        created_at=clock(),
    )
    exports.create_export(export)
    return export


def export_state(export_id: str, ports: ExportPorts) -> ExportState:
    export = ports.exports.get_export(export_id)
    if export is None:
        raise NotFoundError("no export with this id", fields=[{"field": "export_id", "message": "not found"}])
    now = ports.clock()
    if export.status == "running" and export.created_at < seconds_before(now, STALE_SECONDS):
        ports.exports.fail_export(export.id, "the export job stopped before it finished", now)
        return export_state(export_id, ports)
    if export.status != "done" or not export.object_key:
        return ExportState(export, None)
    filename = f"donations-{export.start[:10]}-{export.end[:10]}-{export.id}.csv"
    return ExportState(export, ports.store.link(export.object_key, LINK_SECONDS, filename))


def run_export(export_id: str, ports: ExportPorts, time_left: Callable[[], bool] = lambda: True) -> str:
    """Write the export's file and end it done or failed. A retried run of an export that
    has ended changes nothing; one that died half-way writes the same single object again."""
    export = ports.exports.get_export(export_id)
    if export is None or export.status != "running":
        return "skipped"
    key = object_key(export.id)
    try:
        rows = _write(export, key, ports, time_left)
    except StewardError as exc:
        ports.exports.fail_export(export.id, exc.message, ports.clock())
        return "failed"
    except Exception as exc:  # never left running: the reason is kept, the details logged
        log.exception("export %s failed", export.id)
        ports.exports.fail_export(export.id, f"internal error ({type(exc).__name__})", ports.clock())
        return "failed"
    ports.exports.finish_export(export.id, rows, key, ports.clock())
    return "done"


def _write(export: Export, key: str, ports: ExportPorts, time_left: Callable[[], bool]) -> int:
    """Rows go out page by page (period_donations: the whole period read as one stream, no
    item read twice): while one page becomes CSV, the next is already being read, so the
    job's own work hides behind the table's answer time. At most two pages and two S3 parts
    are held at once."""
    filters = export.export_filters
    wanted = filters.gift_filter()
    plans: dict[str, tuple[str | None, str | None]] = {}
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    text.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer.writerow(COLUMNS)

    pages = ports.gifts.period_donations(
        export.start, export.end, PAGE_SIZE, include_abandoned=filters.include_abandoned, filters=wanted
    )

    def read() -> tuple[list[Donation], bool]:
        return next(pages)

    upload = ports.store.open(key)
    rows = 0
    try:
        with ThreadPoolExecutor(max_workers=1) as reader:
            pending: Future[tuple[list[Donation], bool]] | None = reader.submit(read)
            while pending is not None:
                gifts, more = pending.result()
                pending = reader.submit(read) if more and time_left() else None
                new_plans = sorted(
                    {g.recurring_id for g in gifts if g.recurring_id and g.recurring_id not in plans}
                )
                if new_plans:
                    plans.update(dict.fromkeys(new_plans, NO_PLAN) | ports.exports.plan_links(new_plans))
                for gift in gifts:
                    writer.writerow(donation_row(gift, *plans.get(gift.recurring_id or "", NO_PLAN)))
                rows += len(gifts)
                upload.write(text.getvalue().encode())
                text.seek(0)
                text.truncate()
                if more and pending is None:
                    raise OutOfTimeError(f"stopped after {rows} rows: the job ran out of time")
        upload.complete()
    except BaseException:
        upload.abort()
        raise
    return rows

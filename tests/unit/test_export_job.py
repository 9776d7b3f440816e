"""The export job's ends, with in-memory fakes: every export ends done or failed, once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.s3_exports import ExportStorageError
from chalicelib.domain.exports import Export, ExportRequest
from chalicelib.services import exports
from chalicelib.services.ports import DonationPage, paged_donations
from tests.unit.factories import donation


@dataclass
class FakeExports:
    records: dict[str, Export] = field(default_factory=dict)

    def create_export(self, export: Export) -> None:
        self.records[export.id] = export

    def get_export(self, export_id: str) -> Export | None:
        return self.records.get(export_id)

    def _end(self, export_id: str, **changes: Any) -> bool:
        if self.records[export_id].status != "running":
            return False
        self.records[export_id] = self.records[export_id].model_copy(update=changes)
        return True

    def finish_export(self, export_id: str, rows: int, object_key: str, at: str) -> bool:
        return self._end(export_id, status="done", rows=rows, object_key=object_key, finished_at=at)

    def fail_export(self, export_id: str, reason: str, at: str) -> bool:
        return self._end(export_id, status="failed", reason=reason, finished_at=at)

    def plan_links(self, plan_ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        return {i: ("sub_1", "cus_1") for i in plan_ids}


@dataclass
class FakeFile:
    fail_on_write: bool = False
    data: bytearray = field(default_factory=bytearray)
    state: str = "open"

    def write(self, data: bytes) -> None:
        if self.fail_on_write:
            raise ExportStorageError("S3 said InternalError")
        self.data += data

    def complete(self) -> None:
        self.state = "complete"

    def abort(self) -> None:
        self.state = "aborted"


@dataclass
class FakeStore:
    file: FakeFile = field(default_factory=FakeFile)

    def open(self, key: str) -> FakeFile:
        return self.file

    def link(self, key: str, seconds: int, filename: str) -> str:
        return f"https://s3.example/{key}?expires={seconds}"


class FakeGifts:
    """Three pages of two gifts."""

    def list_donations(self, start: str, end: str, limit: int, cursor: str | None, **_: Any) -> DonationPage:
        page = int(cursor or 0)
        gifts = [donation(recurring_id="01ARZ3NDEKTSV4RRFFQ69G5FAV" if page else None) for _ in range(2)]
        return DonationPage(gifts, str(page + 1) if page < 2 else None)

    def period_donations(self, start: str, end: str, page_size: int, **options: Any) -> Any:
        return paged_donations(self, start, end, page_size, **options)


def ports(store: FakeStore, now: str = "2026-01-01T00:00:00.000Z") -> exports.ExportPorts:
    return exports.ExportPorts(FakeExports(), FakeGifts(), store, lambda: now)  # type: ignore[arg-type]


def started(p: exports.ExportPorts) -> Export:
    request = ExportRequest.model_validate({"kind": "donations", "from": "2025-01-01", "to": "2025-12-31"})
    return exports.request_export(request, "staff-1", p.exports, p.clock)


def test_a_job_writes_every_page_and_ends_done_once() -> None:
    p = ports(FakeStore())
    job = started(p)
    assert exports.run_export(job.id, p) == "done"
    ended = exports.export_state(job.id, p)
    assert (ended.export.status, ended.export.rows) == ("done", 6)
    assert ended.url is not None and "expires=300" in ended.url
    assert p.store.file.state == "complete"  # type: ignore[attr-defined]
    assert p.store.file.data.decode("utf-8-sig").count("sub_1") == 4  # type: ignore[attr-defined]
    assert exports.run_export(job.id, p) == "skipped"


def test_a_job_that_runs_out_of_time_ends_failed_and_drops_its_upload() -> None:
    p = ports(FakeStore())
    job = started(p)
    assert exports.run_export(job.id, p, time_left=lambda: False) == "failed"
    state = exports.export_state(job.id, p).export
    assert state.status == "failed" and state.reason and "ran out of time" in state.reason
    assert p.store.file.state == "aborted"  # type: ignore[attr-defined]


def test_a_storage_failure_ends_failed_with_its_reason() -> None:
    p = ports(FakeStore(FakeFile(fail_on_write=True)))
    job = started(p)
    assert exports.run_export(job.id, p) == "failed"
    state = exports.export_state(job.id, p)
    assert (state.export.reason, state.url) == ("S3 said InternalError", None)


def test_a_job_whose_function_died_reads_failed_and_cannot_be_flipped_later() -> None:
    p = ports(FakeStore())
    job = started(p)
    later = ports(FakeStore(), now="2026-01-01T00:16:01.000Z")
    later = exports.ExportPorts(p.exports, later.gifts, later.store, later.clock)
    state = exports.export_state(job.id, later).export
    assert state.status == "failed" and state.reason == "the export job stopped before it finished"
    assert exports.run_export(job.id, later) == "skipped"
    assert p.exports.finish_export(job.id, 1, "exports/x.csv", "2026-01-01T00:17:00.000Z") is False

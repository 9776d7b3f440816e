"""A CSV export of gifts: what staff ask for, which gifts it holds, and its lifecycle
(`running -> done | failed`, each end set once)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from chalicelib.domain.finding import GiftFilter
from chalicelib.domain.model import Model

ExportStatus = Literal["running", "done", "failed"]
FIRST_YEAR, LAST_YEAR = 2000, 2999
MAX_RANGE_DAYS = 366


class ExportFilters(GiftFilter):
    """The filters of GET /staff/donations an export takes, with the same meaning (an
    allow-list: any other key is refused)."""

    include_abandoned: bool = False


class ExportRequest(Model):
    """POST /staff/exports: gifts created from `from` to `to` (whole UTC days, inclusive)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["donations"]
    start: date = Field(alias="from", description="First day (UTC), inclusive.")
    end: date = Field(alias="to", description="Last day (UTC), inclusive.")
    filters: ExportFilters = Field(default_factory=ExportFilters)

    @model_validator(mode="after")
    def _range(self) -> ExportRequest:
        for value in (self.start, self.end):
            if not FIRST_YEAR <= value.year <= LAST_YEAR:
                raise ValueError(f"dates must fall in the years {FIRST_YEAR} to {LAST_YEAR}")
        if self.end < self.start:
            raise ValueError("to must not be before from")
        if (self.end - self.start).days >= MAX_RANGE_DAYS:
            raise ValueError(f"the range is over {MAX_RANGE_DAYS} days")
        return self

    @property
    def bounds(self) -> tuple[str, str]:
        """Inclusive ISO bounds comparable with stored created_at values."""
        return f"{self.start.isoformat()}T00:00:00.000Z", f"{self.end.isoformat()}T23:59:59.999Z~"


class Export(Model):
    """One export job and where its file is. `rows` counts gifts written (the header aside)."""

    id: str
    kind: Literal["donations"] = "donations"
    status: ExportStatus = "running"
    start: str
    end: str
    filters: str  # the ExportFilters as JSON, as the audit entry records it
    requested_by: str
    created_at: str
    finished_at: str | None = None
    rows: int = 0
    object_key: str | None = None
    reason: str | None = None
    version: int = 0

    @property
    def export_filters(self) -> ExportFilters:
        return ExportFilters.model_validate_json(self.filters)


def object_key(export_id: str) -> str:
    """One file per export, under the prefix the role may write and the lifecycle rule empties."""
    return f"exports/{export_id}.csv"

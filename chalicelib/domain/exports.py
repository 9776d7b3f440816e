"""A CSV export of gifts: what staff ask for, which gifts it holds, and its lifecycle
(`running -> done | failed`, each end set once)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, EmailStr, Field, ValidationInfo, field_validator, model_validator

from chalicelib.domain.donation import DisplayStatus
from chalicelib.domain.finding import FrequencyFilter, GiftFilter, amounts_in_order, one_line
from chalicelib.domain.model import Model

ExportStatus = Literal["running", "done", "failed"]
FIRST_YEAR, LAST_YEAR = 2000, 2999
MAX_RANGE_DAYS = 366


class ExportFilters(Model):
    """The filters of GET /staff/donations an export takes, with the same meaning (an
    allow-list: any other key is refused)."""

    model_config = ConfigDict(extra="forbid")

    status: DisplayStatus | Literal["paid"] | None = Field(
        default=None, description="A display status, or paid (every gift whose money was taken)."
    )
    fund: str | None = Field(default=None, min_length=1, max_length=100)
    campaign: str | None = Field(default=None, min_length=1, max_length=200)
    frequency: FrequencyFilter | None = None
    email: EmailStr | None = Field(default=None, max_length=254)
    min_amount: int | None = Field(default=None, ge=0, description="Gross, minor units, inclusive.")
    max_amount: int | None = Field(default=None, ge=0, description="Gross, minor units, inclusive.")
    include_abandoned: bool = False

    @field_validator("fund")
    @classmethod
    def _known_fund(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A configured fund, when the caller passes them as validation context "funds"."""
        funds = (info.context or {}).get("funds")
        if value is not None and funds is not None and value not in funds:
            raise ValueError(f"not a fund; one of: {', '.join(funds)}")
        return value

    @field_validator("campaign")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return one_line(value)

    @field_validator("max_amount")
    @classmethod
    def _amounts(cls, value: int | None, info: ValidationInfo) -> int | None:
        return amounts_in_order(info.data.get("min_amount"), value)

    def gift_filter(self) -> GiftFilter:
        """The same filters as GET /staff/donations takes: the repository picks the index."""
        return GiftFilter(
            status=self.status,
            fund=self.fund,
            campaign=self.campaign,
            frequency=self.frequency,
            email=self.email.lower() if self.email else None,
            min_amount=self.min_amount,
            max_amount=self.max_amount,
        )


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

"""Dated check records under an owner row: an equipment's calibrations, a machine's validations.

The two histories differ only in their names, so one `History` describes each (the record
model, its owner, the column that dates a record, the owner's interval and its two derived
fields) and the functions here do the work for both:

- a record is added or deleted, never edited (a mistake is deleted by a manager and recorded
  again); it is reached only through its own owner (404 for another owner's);
- a record's `next_due` is fixed when it is recorded: its day + the owner's interval for a
  `pass` or `adjusted` result, its own day for a `fail` (the instrument is due at once), none
  when the owner has no interval;
- the owner's derived fields follow its latest record (latest day, then latest id), in the
  same transaction as the write: the last day, and the due date read with the owner's current
  interval (`due_date`), so changing the interval moves the due date as it always did. Deleting
  the latest record falls back to the one before; deleting the last one clears them.

ADR 0031.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, crud
from app.core.errors import NotFound
from app.core.pagination import ListQuery, Page, page_of, paginate
from app.core.repository import check_if_match, label
from app.core.schemas import InputModel, ResourceRead
from app.models import CheckResult
from app.models.base import Resource


def _not_in_future(day: date) -> date:
    if day > clock.today():
        raise ValueError("a check cannot be recorded before it is made: the day is in the future")
    return day


# The day a check was made: today (the workshop's) at the latest.
CheckDay = Annotated[date, AfterValidator(_not_in_future)]


class CheckFields(InputModel):
    """What every check record holds beside its day."""

    result: CheckResult = Field(
        description="pass, fail (due again at once) or adjusted (found out of tolerance, "
        "adjusted and left within it)"
    )
    performed_by: str | None = Field(
        default=None, max_length=200, description="The lab or person", examples=["Kalibra d.o.o."]
    )
    certificate_number: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=10_000)


class CheckRead(ResourceRead):
    result: CheckResult
    performed_by: str | None
    certificate_number: str | None
    notes: str | None
    next_due: date | None


@dataclass(frozen=True, slots=True)
class History:
    record: type[Resource]  # Calibration, MachineValidation
    owner: type[Resource]  # Equipment, Machine
    owner_key: str  # the record's column naming its owner: equipment_id
    day: str  # the record's date: calibrated_on
    interval: str  # the owner's interval in days: calibration_interval_days
    last: str  # the owner's derived last day: last_calibration_date
    due: str  # the owner's derived due date: next_calibration_due
    read: type[ResourceRead]


def due_date(
    result: CheckResult, day: date, interval: int | None, kept: date | None
) -> date | None:
    """When a check made on `day` with `result` is due again: at once after a failure, else
    `interval` days later; without an interval, the due date the record `kept`."""
    if result == CheckResult.failed:
        return day
    if interval is not None:
        return day + timedelta(days=interval)
    return kept


async def get_record(
    session: AsyncSession, h: History, owner_id: int, record_id: int, if_match: str | None = None
) -> Any:
    """The record, only through its own owner (404 for an unknown owner or another's record)."""
    await crud.get(session, h.owner, owner_id)
    record = await crud.get(session, h.record, record_id)
    if getattr(record, h.owner_key) != owner_id:
        raise NotFound(
            f"{label(h.record)} {record_id} does not exist for {label(h.owner).lower()} {owner_id}"
        )
    check_if_match(record, if_match)
    return record


async def list_records(
    session: AsyncSession, h: History, owner_id: int, query: ListQuery
) -> Page[Any]:
    await crud.get(session, h.owner, owner_id)
    stmt = select(h.record).where(getattr(h.record, h.owner_key) == owner_id)
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(h.record, query.sort_by), tiebreak=h.record.id
    )
    return page_of([h.read.model_validate(r) for r in rows], counted, query)


async def add_record(session: AsyncSession, h: History, owner_id: int, body: InputModel) -> Any:
    """Record a check (404 for an unknown owner) and bring the owner's fields in step."""
    owner = await crud.get(session, h.owner, owner_id)
    record = await insert(session, h, owner_id, body, getattr(owner, h.interval))
    await refresh(session, h, owner)
    return record


async def insert(
    session: AsyncSession,
    h: History,
    owner_id: int,
    body: InputModel,
    interval: int | None,
    kept: date | None = None,
) -> Any:
    """The record row alone, its `next_due` fixed with `interval` (`due_date`)."""
    values = body.model_dump()
    next_due = due_date(values["result"], values[h.day], interval, kept)
    return await crud.create(session, h.record, body, **{h.owner_key: owner_id}, next_due=next_due)


async def delete_record(
    session: AsyncSession, h: History, owner_id: int, record_id: int, if_match: str | None
) -> None:
    """Delete a record; the owner falls back to the latest one left, or to nothing."""
    record = await get_record(session, h, owner_id, record_id, if_match)
    await crud.remove(session, record)
    await refresh(session, h, await crud.get(session, h.owner, owner_id), clear=True)


async def latest(session: AsyncSession, h: History, owner_id: int) -> Any | None:
    day = getattr(h.record, h.day)
    return await session.scalar(
        select(h.record)
        .where(getattr(h.record, h.owner_key) == owner_id)
        .order_by(day.desc(), h.record.id.desc())
        .limit(1)
    )


async def derived(
    session: AsyncSession, h: History, owner_id: int, interval: int | None
) -> dict[str, date | None] | None:
    """The owner's derived fields from its latest record (None when it has no record)."""
    record = await latest(session, h, owner_id)
    if record is None:
        return None
    day = getattr(record, h.day)
    return {h.last: day, h.due: due_date(record.result, day, interval, record.next_due)}


async def refresh(session: AsyncSession, h: History, owner: Any, clear: bool = False) -> None:
    """Bring the owner's derived fields in step with its history. Without a record they stay
    as they are, unless `clear` (the last record was deleted)."""
    values = await derived(session, h, owner.id, getattr(owner, h.interval))
    if values is None:
        if not clear:
            return
        values = {h.last: None, h.due: None}
    changed = {k: v for k, v in values.items() if getattr(owner, k) != v}
    for key, value in changed.items():
        setattr(owner, key, value)
    if changed:
        await crud.flush(session, h.owner)


async def has_day(session: AsyncSession, h: History, owner_id: int, day: date) -> bool:
    found = await session.scalar(
        select(h.record.id)
        .where(getattr(h.record, h.owner_key) == owner_id, getattr(h.record, h.day) == day)
        .limit(1)
    )
    return found is not None

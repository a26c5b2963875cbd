"""Keeping `work_order_day_totals` true (ADR 0041).

The work-order dashboards count orders per status and priority, the overdue ones, completions
per week, the on-time rate and the mean lead time, over the orders created in a range of days.
An order adds to a few rows of the totals, all keyed by the workshop day it was created on
(ADR 0036): its status, its priority, its due date while it is open, and the week it was
completed in (with whether it had a due date, whether it was on time and its lead time). Every
figure is a count or a sum, so a write adds the difference between the order's share before
and after it (`upsert_adding`); differences add up in whatever order writes commit.

Where the differences come from:

- Flushes of the ORM (every create, replace, patch and delete: the services, the generic crud,
  the seed): mapper events take the row's values before (the attribute history, or the stored
  row for an expired attribute) and after. An UPDATE or DELETE of a work order says `WHERE
  version = <the version read>` (ADR 0009), so the values taken before are the row's at the
  moment it changes: of two concurrent edits of one order the second fails (412) instead of
  taking the same share away twice.
- UPDATE and DELETE statements on `work_orders` run through a session (a bulk update): the rows
  they match are locked and read, the statement runs (moving their version, as the ORM does, so
  a flush that read them before fails on it), and they are read again. A DELETE of every order
  empties the totals. An INSERT statement through a session is refused: the defaults it would
  fill in are not seen here; insert orders as ORM objects.

Both add to the transaction's pending differences, written by one upsert when it commits (rows in
key order): two upserts in one transaction deadlocked concurrent writers on MariaDB (an insert
into the gap before a key the transaction had locked, which another was waiting for). Nothing
here uses savepoints, whose rollback would leave their differences pending.

Statements on a bare connection are not seen: the migration, `workshop totals rebuild` and
bench/dashboards.py count with `count`, the same code.

The lead time is kept as the sum of what the dashboards' SQL used to average per order
(`days_between`, app/dashboards/sql.py), in that database's own unit (`PER_DAY`): microseconds
on PostgreSQL (the interval's epoch), whole seconds on MariaDB (TIMESTAMPDIFF truncates), and
on SQLite the milliseconds of `julianday`, which rounds each timestamp to the millisecond.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, Table, delete, event, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, object_session

from app.core.clock import workshop_day
from app.core.upsert import add_rows, upsert_adding
from app.models import WorkOrder, WorkOrderDayTotal, WorkOrderStatus

T: Table = WorkOrderDayTotal.__table__  # type: ignore[assignment]
ORDERS: Table = WorkOrder.__table__  # type: ignore[assignment]
KEY = ("dimension", "day", "key")
FIGURES = ("orders", "with_due", "on_time", "lead_time")
# The columns an order's share depends on, in the order `count` takes them.
COUNTED = ("created_at", "status", "priority", "due_date", "completed_at")
COMPLETED = WorkOrderStatus.completed.value
OPEN = frozenset(s.value for s in WorkOrderStatus) - {COMPLETED, WorkOrderStatus.cancelled.value}
# Units of `lead_time` in a day, per database (what its `days_between` measures).
PER_DAY = {"postgresql": 86_400_000_000, "mysql": 86_400, "sqlite": 86_400_000}
Totals = dict[tuple[str, date, str], list[int]]
Facts = tuple[datetime, Any, Any, date | None, datetime | None]

_MICROSECOND = timedelta(microseconds=1)
_BEFORE = "work_order_totals_before"
_PENDING = "work_order_totals_pending"


def facts(*where: Any) -> Select[Any]:
    """What an order's share of the totals depends on (`count` reads these rows)."""
    return select(*(ORDERS.c[name] for name in COUNTED)).where(*where)


@cache
def _sqlite_clamps() -> bool:
    """Whether this SQLite reads fractions of a second over .999 as .999 (newer versions do,
    so that a time never rounds up into the next second)."""
    with sqlite3.connect(":memory:") as conn:
        late, next_second = conn.execute(
            "SELECT julianday('2000-01-01 00:00:00.9996'), julianday('2000-01-01 00:00:01')"
        ).fetchone()
    conn.close()
    return bool(late != next_second)


def _sqlite_ms(instant: datetime) -> int:
    """Milliseconds as SQLite's julianday() counts them from the stored text (UTC, six
    decimals): the seconds parsed as a double, times 1000, plus a half, truncated."""
    t = instant.astimezone(UTC)
    fraction = t.microsecond / 1e6
    if _sqlite_clamps():
        fraction = min(fraction, 0.999)
    seconds = t.second + fraction
    day = t.toordinal() * 86_400_000
    return day + t.hour * 3_600_000 + t.minute * 60_000 + int(seconds * 1000 + 0.5)


def lead_time(created_at: datetime, completed_at: datetime, dialect: str) -> int:
    """`completed_at - created_at` in the database's unit (`PER_DAY`), as it computes it."""
    if dialect == "postgresql":
        return (completed_at - created_at) // _MICROSECOND
    if dialect == "mysql":
        micros = (completed_at - created_at) // _MICROSECOND
        seconds = abs(micros) // 1_000_000  # TIMESTAMPDIFF(SECOND) truncates towards zero
        return seconds if micros >= 0 else -seconds
    return _sqlite_ms(completed_at) - _sqlite_ms(created_at)


def _value(value: Any) -> str:
    return str(getattr(value, "value", value))


def count(
    rows: Iterable[Sequence[Any]], dialect: str, sign: int = 1, into: Totals | None = None
) -> Totals:
    """Add (sign 1) or take away (-1) the shares of orders given as `facts` rows."""
    totals: Totals = {} if into is None else into

    def add(dimension: str, day: date, key: str) -> list[int]:
        figures = totals.setdefault((dimension, day, key), [0, 0, 0, 0])
        figures[0] += sign
        return figures

    for created_at, status, priority, due, completed_at in rows:
        day = workshop_day(created_at)
        status = _value(status)
        add("status", day, status)
        add("priority", day, _value(priority))
        if status in OPEN and due is not None:
            add("open_due", day, due.isoformat())
        if status == COMPLETED and completed_at is not None:
            done = workshop_day(completed_at)
            figures = add("completed", day, (done - timedelta(days=done.weekday())).isoformat())
            if due is not None:
                figures[1] += sign
                figures[2] += sign * (done <= due)
            figures[3] += sign * lead_time(created_at, completed_at, dialect)
    return totals


def values(totals: Totals) -> list[dict[str, Any]]:
    """Rows to add, in key order (concurrent writers lock rows in the same order)."""
    return [
        {"dimension": dimension, "day": day, "key": key, **dict(zip(FIGURES, figures, strict=True))}
        for (dimension, day, key), figures in sorted(totals.items())
        if any(figures)
    ]


def write(connection: Connection, totals: Totals) -> None:
    add_rows(connection, T, KEY, FIGURES, values(totals))


async def add(session: AsyncSession, totals: Totals) -> None:
    given = values(totals)
    if given:
        dialect = session.get_bind().dialect.name
        await session.execute(upsert_adding(T, dialect, KEY, FIGURES), given)


# --- the ORM's flushes ----------------------------------------------------------------------


def _before(connection: Connection, order: WorkOrder) -> Facts:
    """The order's counted values as stored, before this flush changes or deletes it: from the
    attribute history, or from the row for an attribute not loaded."""
    state = inspect(order)
    known: dict[str, Any] = {}
    for name in COUNTED:
        history = state.attrs[name].history
        if history.deleted:
            known[name] = history.deleted[0]
        elif history.unchanged:
            known[name] = history.unchanged[0]
    missing = [name for name in COUNTED if name not in known]
    if missing:
        stored = connection.execute(
            select(*(ORDERS.c[name] for name in missing)).where(ORDERS.c.id == order.id)
        ).one()
        known.update(zip(missing, stored, strict=True))
    return tuple(known[name] for name in COUNTED)


def _after(order: WorkOrder, before: Facts) -> Facts:
    state = inspect(order)
    return tuple(state.dict.get(name, old) for name, old in zip(COUNTED, before, strict=True))


def _pending(session: Session | None) -> Totals:
    """The differences a transaction has made so far: written once, at its commit (below)."""
    if session is None:  # pragma: no cover - a flush always has its session
        raise RuntimeError("a work order flushed outside a session")
    pending: Totals = session.info.setdefault(_PENDING, {})
    return pending


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """One upsert per transaction, its rows in key order, after the last flush: on MariaDB two
    upserts in one transaction could each take a row of the other's next one (a gap lock
    before a key the first had locked), and concurrent writers deadlocked (1213)."""
    if _PENDING not in session.info:
        return
    session.flush()  # what the commit would flush next adds to the pending differences
    pending = session.info.pop(_PENDING, None)
    if pending:
        write(session.connection(), pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(WorkOrder, "after_insert")
def _inserted(_mapper: Any, connection: Connection, order: WorkOrder) -> None:
    stored = inspect(order).dict
    facts = [tuple(stored.get(name) for name in COUNTED)]
    count(facts, _dialect(connection), 1, _pending(object_session(order)))


@event.listens_for(WorkOrder, "before_update")
@event.listens_for(WorkOrder, "before_delete")
def _changing(_mapper: Any, connection: Connection, order: WorkOrder) -> None:
    inspect(order).info[_BEFORE] = _before(connection, order)


@event.listens_for(WorkOrder, "after_update")
def _updated(_mapper: Any, connection: Connection, order: WorkOrder) -> None:
    before: Facts = inspect(order).info.pop(_BEFORE)
    after = _after(order, before)
    if after != before:
        dialect, pending = _dialect(connection), _pending(object_session(order))
        count([after], dialect, 1, count([before], dialect, -1, pending))


@event.listens_for(WorkOrder, "after_delete")
def _deleted(_mapper: Any, connection: Connection, order: WorkOrder) -> None:
    before: Facts = inspect(order).info.pop(_BEFORE)
    count([before], _dialect(connection), -1, _pending(object_session(order)))


def _dialect(connection: Connection) -> str:
    return connection.dialect.name


# --- statements run through a session -------------------------------------------------------


def _counted_columns(statement: Any) -> set[str]:
    values = getattr(statement, "_values", None) or {}
    return {str(getattr(column, "key", column)) for column in values} & set(COUNTED)


@event.listens_for(Session, "do_orm_execute")
def _statement(orm: ORMExecuteState) -> Any:
    statement: Any = orm.statement
    if not (orm.is_insert or orm.is_update or orm.is_delete):
        return None
    if getattr(getattr(statement, "table", None), "name", None) != ORDERS.name:
        return None
    if orm.is_insert:
        raise TypeError(
            "An INSERT statement into work_orders would bypass work_order_day_totals "
            "(app.work_orders.totals): add WorkOrder objects to the session instead"
        )
    if orm.is_update:
        changed = _counted_columns(statement)
        if not changed:
            return None  # nothing the totals count (a WPS linked)
        if "version" not in {str(getattr(c, "key", c)) for c in statement._values}:
            statement = statement.values(version=ORDERS.c.version + 1)
    if isinstance(orm.parameters, list):
        raise TypeError(
            "A bulk UPDATE or DELETE of work_orders by primary key is not counted in "
            "work_order_day_totals: change WorkOrder objects, or use one statement with a WHERE"
        )
    session, where = orm.session, statement.whereclause
    connection = session.connection()
    if orm.is_delete and where is None:  # every order: nothing left to count
        result = orm.invoke_statement(statement=statement)
        connection.execute(delete(T))
        session.info.pop(_PENDING, None)  # differences of orders that are gone
        return result
    criteria = [where] if where is not None else []
    dialect = _dialect(connection)
    matched = session.execute(
        select(ORDERS.c.id, *(ORDERS.c[name] for name in COUNTED))
        .where(*criteria)
        .order_by(ORDERS.c.id)
        .with_for_update()
    ).all()
    result = orm.invoke_statement(statement=statement)
    pending = _pending(session)
    count((row[1:] for row in matched), dialect, -1, pending)
    if orm.is_update and matched:
        ids = [row[0] for row in matched]
        count(session.execute(facts(ORDERS.c.id.in_(ids))).all(), dialect, 1, pending)
    return result

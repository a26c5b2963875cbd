"""The audit trail: every create, update and delete of a resource, written in its transaction.

One mechanism instead of code in every route. The app's sessions are `AuditedSession`s:

- as a flush writes a row of an audited model (`RESOURCES`: model -> the URL's resource name),
  its change is read from the ORM's attribute history (old and new value of each column that
  changed) and kept on the session, with the actor and the request id of the moment;
- writes made with Core statements (bulk UPDATEs, the import undo) call `record()` beside the
  statement;
- just before the commit, what was kept is merged per resource row (one event per row and
  transaction: a PUT that flushes twice, a WPS whose passes are replaced, is one event) and
  inserted through the same transaction. A rollback drops what was kept, and a failed commit
  takes the inserted events with it: a write that did not land leaves no event.

`changes` is `{field: [old, new]}`: a create has `[null, value]` for each field set, a delete
`[value, null]` for each field it had. `id`, `version` and the timestamps are left out (the event
has its own time), and so is every secret-like column (a key's hash): never stored here. Values
are JSON-safe: enums as their values, dates and datetimes in ISO 8601, decimals as numbers.

Who: the actor (a user or an API key, with its name) is set where the request's credential is
resolved (`act_as`, app/auth/deps.py) and scoped to the request (`ActorScope`); anything else
(CLI, scheduler, seed, background work) is `system`. The request id is the one of the log lines
(X-Request-ID). Not audited: workshop entries and day totals (machine data by the million, and
their import is the record), import progress (claim, complete, fail, recheck: the import record
is its own history), derived fields and runtime state kept by the service (a schedule's last
and next run, an inspection's first-of-weld flags, a key's last use). ADR 0029.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from asgi_correlation_id import correlation_id
from sqlalchemy import Table, event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, object_session
from sqlalchemy.orm.state import InstanceState
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core import deletions
from app.core.resources import NAMES
from app.models import (
    ApiKey,
    Attachment,
    AuditEvent,
    ImportSchedule,
    Inspection,
    User,
    WpsPass,
)
from app.models.base import utcnow

# Model -> the resource's name in the URL. A model not here is not audited by the listener.
RESOURCES = NAMES
# Parts recorded in their parent's event, as `<field>.<key>.<column>` (`passes.2.current_max`):
# a WPS's passes are replaced whole on each edit; its event says what that changed.
PARTS: dict[type[Any], tuple[str, str, str, str]] = {
    WpsPass: ("wps", "wps_id", "passes", "seq"),
}
# Never recorded: the event has its own id and time; the version is the ETag's business.
SKIPPED = frozenset({"id", "version", "created_at", "updated_at"})
# Runtime state and derived fields, kept by the services rather than edited.
SKIPPED_PER_MODEL: dict[type[Any], frozenset[str]] = {
    ApiKey: frozenset({"last_used_at"}),
    User: frozenset({"last_login_at"}),
    ImportSchedule: frozenset({"last_run_at", "last_status", "last_message", "next_run_at"}),
    Inspection: frozenset({"first_of_weld", "weld_repaired"}),
    Attachment: frozenset({"storage_key"}),  # where the file lies: the service's business
}
SECRET = re.compile(r"hash|secret|password|token", re.IGNORECASE)
_PENDING = "audit_pending"
EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # user, api_key, system
    id: str | None
    name: str | None


SYSTEM = Actor("system", None, "system")
_actor: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


def act_as(kind: str, id_: object, name: str | None) -> None:
    """The caller of this request, once its credential is resolved."""
    _actor.set(Actor(kind, None if id_ is None else str(id_), name))


@contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """Writes made inside are recorded as `actor`'s (a sign-in's own row updates)."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


class ActorScope:
    """Each request starts with no actor and leaves none behind: the actor a request sets is not
    seen by whatever runs next in the same task (the test client runs the app in its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _actor.set(None)
        try:
            await self.app(scope, receive, send)
        finally:
            _actor.reset(token)


@dataclass(slots=True)
class _Event:
    action: str
    resource: str
    resource_id: str
    changes: dict[str, list[Any]]
    actor: Actor
    request_id: str | None
    at: datetime = field(default_factory=utcnow)


def json_safe(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def record(
    session: AsyncSession | Session,
    action: str,
    resource: str,
    resource_id: object,
    changes: dict[str, tuple[Any, Any]],
) -> None:
    """Record a change made with a Core statement (the ORM's are recorded by themselves); it
    is written with the transaction's commit, and dropped if it rolls back."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    _keep(sync, action, resource, str(resource_id), _pairs(changes))


def _pairs(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {name: [json_safe(old), json_safe(new)] for name, (old, new) in changes.items()}


def _keep(
    session: Session, action: str, resource: str, resource_id: str, changes: dict[str, list[Any]]
) -> None:
    pending: dict[tuple[str, str], _Event] = session.info.setdefault(_PENDING, {})
    key = (resource, resource_id)
    kept = pending.get(key)
    if kept is None:
        actor = _actor.get() or SYSTEM
        pending[key] = _Event(action, resource, resource_id, changes, actor, correlation_id.get())
        return
    if kept.action == "create" and action == "delete":
        del pending[key]  # made and removed in one transaction: nothing happened
        return
    for name, (old, new) in changes.items():
        kept.changes[name] = [kept.changes[name][0] if name in kept.changes else old, new]
    if action == "delete" or kept.action != "create":
        kept.action = action


def _columns(state: InstanceState[Any], model: type[Any]) -> Iterator[tuple[str, str]]:
    """(attribute key, field name) of the columns recorded for `model`."""
    skipped = SKIPPED | SKIPPED_PER_MODEL.get(model, frozenset())
    for prop in state.mapper.column_attrs:
        name = prop.columns[0].name
        if name not in skipped and not SECRET.search(name):
            yield prop.key, name


def _changes(state: InstanceState[Any], model: type[Any], action: str) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for key, name in _columns(state, model):
        if action == "create":
            value = state.dict.get(key)
            if value is not None:
                found[name] = [None, json_safe(value)]
        elif action == "delete":
            if key in state.dict and state.dict[key] is not None:
                found[name] = [json_safe(state.dict[key]), None]
        else:
            history = state.attrs[key].history
            if history.added or history.deleted:
                old = history.deleted[0] if history.deleted else None
                new = history.added[0] if history.added else None
                if json_safe(old) != json_safe(new):
                    found[name] = [json_safe(old), json_safe(new)]
    return found


def _collect(obj: Any, action: str) -> None:
    session = object_session(obj)
    if not isinstance(session, AuditedSession):
        return
    model = type(obj)
    state = inspect(obj)
    changes = _changes(state, model, action)
    if model in PARTS:
        resource, parent, field_name, part_key = PARTS[model]
        changes.pop(parent, None)
        prefix = f"{field_name}.{state.dict.get(part_key)}."
        if changes:
            named = {prefix + name: pair for name, pair in changes.items()}
            _keep(session, "update", resource, str(state.dict[parent]), named)
    elif changes or action != "update":
        _keep(session, action, RESOURCES[model], str(state.dict["id"]), changes)


class AuditedSession(Session):
    """The sync session behind the app's AsyncSessions: records changes, writes them on commit."""


# Mapper events see every row the flush writes, orphans and cascades included, with the
# attributes' history still in place.
for _model in (*RESOURCES, *PARTS):
    for _action, _name in (
        ("create", "after_insert"),
        ("update", "after_update"),
        ("delete", "after_delete"),
    ):
        event.listen(_model, _name, lambda _m, _c, obj, action=_action: _collect(obj, action))
# The deletions feed (app/core/deletions.py): what the database deletes with a row is recorded
# while it is still there.
for _model in RESOURCES:
    event.listen(
        _model,
        "before_delete",
        lambda _m, connection, obj: deletions.cascade(connection, obj.__table__, [obj.id]),
    )


@event.listens_for(AuditedSession, "before_commit")
def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this event: its changes count too
    pending: dict[tuple[str, str], _Event] = session.info.pop(_PENDING, {})
    rows = [_row(e) for e in pending.values() if e.action != "update" or _net(e)]
    if rows:
        session.connection().execute(EVENTS.insert(), rows)
    gone = [(e.resource, e.resource_id, e.at) for e in pending.values() if e.action == "delete"]
    if gone:
        deletions.write(session.connection(), gone)  # the deletions feed's, from the same hook


def _net(event_: _Event) -> bool:
    """Drop the fields that ended where they started (a pass replaced by its equal)."""
    event_.changes = {k: v for k, v in event_.changes.items() if v[0] != v[1]}
    return bool(event_.changes)


def _row(e: _Event) -> dict[str, Any]:
    if e.action != "update":
        _net(e)
    return {
        "at": e.at,
        "actor_kind": e.actor.kind,
        "actor_id": e.actor.id,
        "actor_name": e.actor.name,
        "action": e.action,
        "resource": e.resource,
        "resource_id": e.resource_id,
        "changes": e.changes,
        "request_id": e.request_id,
    }


@event.listens_for(AuditedSession, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (written above) or rolled back: nothing kept
        session.info.pop(_PENDING, None)

"""The generic data layer: get, add, update, delete for any resource model.

It flushes, never commits (the request's session dependency commits). It turns the database's
answers into the API's: a missing row is 404, a reference to a missing row is 422 naming the
field, a unique-key clash is 409 naming the field, a row others still refer to is 409 naming
them, and a stale `If-Match` is 412.
"""

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

from sqlalchemy import ForeignKey, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.attached import drop_attachments
from app.core.errors import Conflict, NotFound, PreconditionFailed, field_error, invalid_fields
from app.models.base import Base, Resource

M = TypeVar("M", bound=Resource)

_UNIQUE_NAME = re.compile(r"uq_(?P<table>[a-z_]+?)_(?P<columns>[a-z0-9_]+)")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<cols>[\w., ]+)")


def label(model: type[Base]) -> str:
    return getattr(model, "__label__", model.__name__)


def etag(obj: Resource) -> str:
    return f'"{obj.version}"'


def check_if_match(obj: Resource, if_match: str | None) -> None:
    """412 unless `If-Match` is absent, `*`, or lists the row's current ETag."""
    if if_match is None or if_match.strip() == "*":
        return
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if etag(obj) not in tags:
        raise PreconditionFailed(
            f"{label(type(obj))} {obj.id} is at version {obj.version}; "
            "someone changed it since you read it. Reload and try again.",
            extra={"current_version": obj.version},
        )


class Repository(Generic[M]):
    def __init__(self, session: AsyncSession, model: type[M]) -> None:
        self.session = session
        self.model = model

    async def get(self, id_: int, *options: Any) -> M:
        obj = await self.session.get(self.model, id_, options=options or None)
        if obj is None:
            raise NotFound(f"{label(self.model)} {id_} does not exist")
        return obj

    async def get_for_write(self, id_: int, if_match: str | None, *options: Any) -> M:
        obj = await self.get(id_, *options)
        check_if_match(obj, if_match)
        return obj

    async def add(self, values: dict[str, Any]) -> M:
        await check_references(self.session, self.model, values)
        obj = self.model(**values)
        self.session.add(obj)
        await self.flush()
        return obj

    async def update(self, obj: M, values: dict[str, Any]) -> M:
        changed = {k: v for k, v in values.items() if getattr(obj, k) != v}
        await check_references(self.session, self.model, changed)
        for key, value in changed.items():
            setattr(obj, key, value)
        await self.flush()
        return obj

    async def delete(self, obj: M) -> None:
        """Delete `obj` with its attachments and those of the rows deleted with it."""
        await check_dependents(self.session, obj)
        await drop_attachments(self.session, obj)
        await self.session.delete(obj)
        await self.flush()

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            conflict = unique_conflict(self.model, exc)
            if conflict is None:
                raise
            raise conflict from exc


def unique_conflict(model: type[Base], exc: IntegrityError) -> Conflict | None:
    """A Conflict naming the field when `exc` is a unique-key clash, else None."""
    text = str(exc.orig)
    columns: list[str] = []
    if match := _SQLITE_UNIQUE.search(text):
        columns = [part.strip().split(".")[-1] for part in match["cols"].split(",")]
    else:
        table = model.__tablename__
        for constraint in model.__table__.constraints:  # type: ignore[attr-defined]
            name = str(constraint.name or "")
            if name.startswith("uq_") and name in text and name.startswith(f"uq_{table}"):
                columns = [c.name for c in constraint.columns]
        if not columns and (match := _UNIQUE_NAME.search(text)):
            columns = [match["columns"]]
    if not columns:
        return None
    fields = ", ".join(columns)
    return Conflict(
        f"A {label(model).lower()} with this {fields} exists already",
        extra={"fields": columns},
    )


async def check_references(
    session: AsyncSession, model: type[Base], values: dict[str, Any]
) -> None:
    """422 naming the field for every foreign key in `values` whose row does not exist."""
    errors: list[dict[str, Any]] = []
    for column in model.__table__.columns:
        value = values.get(column.key)
        if value is None or not column.foreign_keys:
            continue
        fk: ForeignKey = next(iter(column.foreign_keys))
        target = fk.column
        exists = await session.scalar(select(target).where(target == value).limit(1))
        if exists is None:
            message = f"{target.table.name} {value} does not exist"
            errors.append(field_error(column.key, message, "reference"))
    if errors:
        raise invalid_fields(errors)


async def check_dependents(session: AsyncSession, obj: Resource) -> None:
    """409 naming the tables (and counts) whose rows still refer to `obj`.

    Children that are part of the row (foreign keys with ON DELETE CASCADE, like an employee's
    qualifications or a work order's welds) go with it and do not block the delete, but what
    refers to them does: a work order whose weld has imported runs is still referred to by
    those runs.
    """
    blocking: dict[str, int] = {}
    await _dependents(session, obj.__table__, [obj.id], blocking, depth=0)
    if blocking:
        named = ", ".join(f"{n} {ref.split('.')[0]}" for ref, n in blocking.items())
        raise Conflict(
            f"{label(type(obj))} {obj.id} is still referred to by {named}",
            extra={"dependents": blocking},
        )


async def _dependents(
    session: AsyncSession, table: Any, keys: Any, blocking: dict[str, int], depth: int
) -> None:
    """Count what refers to the rows `keys` (ids, or a subquery of them) of `table`, following
    cascading children down a few levels."""
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column.table is not table or fk.ondelete == "SET NULL":
                continue
            if fk.ondelete == "CASCADE":
                if depth < 3 and "id" in other.c:
                    children = select(other.c.id).where(fk.parent.in_(keys))
                    await _dependents(session, other, children, blocking, depth + 1)
                continue
            count = await session.scalar(
                select(func.count()).select_from(other).where(fk.parent.in_(keys))
            )
            if count:
                ref = f"{other.name}.{fk.parent.name}"
                blocking[ref] = blocking.get(ref, 0) + int(count)

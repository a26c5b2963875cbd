"""Create, replace and patch through the resource's own Create schema.

PATCH is "PUT of (stored row + the fields sent)": the merge is validated by the same Create
schema as POST and PUT, so a partial update can never store what a full one could not (a
`null` in a required field, a range whose ends cross, an unknown reference).

Every helper takes the session and the resource's model; the Repository it builds does the
work and turns the database's answers into the API's (404, 409, 412, 422 for a reference).
Routers call these for plain CRUD; a domain service calls them around its own rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import repository
from app.core.errors import field_error, invalid_fields
from app.core.repository import M, Repository
from app.core.schemas import InputModel

C = TypeVar("C", bound=InputModel)


def to_columns(model: type[InputModel], values: dict[str, Any]) -> dict[str, Any]:
    """API field names to ORM attribute names (`metadata` -> `metadata_`)."""
    renames = model.orm_names()
    return {renames.get(k, k): v for k, v in values.items()}


def current_values(schema: type[InputModel], obj: Any) -> dict[str, Any]:
    renames = schema.orm_names()
    return {name: getattr(obj, renames.get(name, name)) for name in schema.model_fields}


def validation_failed(exc: ValidationError) -> Exception:
    return invalid_fields(
        [
            field_error(".".join(str(p) for p in e["loc"]) or "body", e["msg"], e["type"])
            for e in exc.errors()
        ]
    )


def merge(schema: type[C], obj: Any, patch: BaseModel) -> C:
    """The Create schema of `obj` with the fields `patch` set, validated as a whole."""
    values = current_values(schema, obj)
    values.update(patch.model_dump(exclude_unset=True))
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        raise validation_failed(exc) from exc


async def get(session: AsyncSession, model: type[M], id_: int, *options: Any) -> M:
    return await Repository(session, model).get(id_, *options)


async def get_for_write(
    session: AsyncSession, model: type[M], id_: int, if_match: str | None, *options: Any
) -> M:
    """The row a write will change, if `If-Match` still holds."""
    return await Repository(session, model).get_for_write(id_, if_match, *options)


async def create(session: AsyncSession, model: type[M], body: InputModel, **columns: Any) -> M:
    """POST: a row as `body` says, with `columns` the schema does not hold (a parent's id)."""
    values = to_columns(type(body), body.model_dump())
    return await Repository(session, model).add({**values, **columns})


async def update(session: AsyncSession, obj: M, body: InputModel, **columns: Any) -> M:
    """The loaded row `obj` as `body` says, with `columns` the schema does not hold."""
    values = to_columns(type(body), body.model_dump())
    return await Repository(session, type(obj)).update(obj, {**values, **columns})


async def replace(
    session: AsyncSession, model: type[M], id_: int, body: InputModel, if_match: str | None
) -> M:
    """PUT: the row as `body` says, if `If-Match` still holds."""
    return await update(session, await get_for_write(session, model, id_, if_match), body)


async def patch(
    session: AsyncSession,
    model: type[M],
    schema: type[C],
    id_: int,
    body: BaseModel,
    if_match: str | None,
    derive: Callable[[C], C] | None = None,
) -> M:
    """PATCH: merge, validate as a whole, apply `derive` (computed fields), write."""
    obj = await get_for_write(session, model, id_, if_match)
    merged = merge(schema, obj, body)
    return await update(session, obj, derive(merged) if derive else merged)


async def delete(session: AsyncSession, model: type[M], id_: int, if_match: str | None) -> None:
    await remove(session, await get_for_write(session, model, id_, if_match))


async def check_references(session: AsyncSession, model: type[M], values: dict[str, Any]) -> None:
    """422 naming each field of `values` whose referenced row does not exist."""
    await repository.check_references(session, model, values)


async def flush(session: AsyncSession, model: type[M]) -> None:
    """Flush what a service built by hand (a row with its children): a unique-key clash is a
    409 naming the field, as for the helpers above."""
    await Repository(session, model).flush()


async def remove(session: AsyncSession, obj: M) -> None:
    """Delete the loaded row `obj` (409 naming the rows that still refer to it)."""
    await Repository(session, type(obj)).delete(obj)

"""Create, replace and patch through the resource's own Create schema.

PATCH is "PUT of (stored row + the fields sent)": the merge is validated by the same Create
schema as POST and PUT, so a partial update can never store what a full one could not (a
`null` in a required field, a range whose ends cross, an unknown reference).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

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


async def create(repo: Repository[M], body: InputModel) -> M:
    return await repo.add(to_columns(type(body), body.model_dump()))


async def replace(repo: Repository[M], obj: M, body: InputModel) -> M:
    return await repo.update(obj, to_columns(type(body), body.model_dump()))


async def replace_by_id(repo: Repository[M], id_: int, body: InputModel, if_match: str | None) -> M:
    """PUT: the row as `body` says, if `If-Match` still holds."""
    return await replace(repo, await repo.get_for_write(id_, if_match), body)


async def patch_by_id(
    repo: Repository[M],
    schema: type[C],
    id_: int,
    patch: BaseModel,
    if_match: str | None,
    derive: Callable[[C], C] | None = None,
) -> M:
    """PATCH: merge, validate as a whole, apply `derive` (computed fields), write."""
    obj = await repo.get_for_write(id_, if_match)
    merged = merge(schema, obj, patch)
    return await replace(repo, obj, derive(merged) if derive else merged)


async def delete_by_id(repo: Repository[M], id_: int, if_match: str | None) -> None:
    await repo.delete(await repo.get_for_write(id_, if_match))

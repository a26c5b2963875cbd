"""Schema bases: inputs refuse unknown fields; outputs read from ORM attributes."""

from __future__ import annotations

from copy import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    create_model,
)


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # API field name -> ORM attribute, where they differ.
    __orm_names__: ClassVar[dict[str, str]] = {}

    @classmethod
    def orm_names(cls) -> dict[str, str]:
        return cls.__orm_names__


def partial(model: type[InputModel], name: str) -> type[InputModel]:
    """The PATCH schema of a Create schema: same fields and constraints, all optional.

    Only for documentation and unknown-field rejection; the merged result is validated by
    the Create schema itself (see app.core.crud.merge).
    """
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        optional = copy(info)
        optional.default = None
        optional.default_factory = None
        fields[field_name] = (info.annotation | None, optional)  # type: ignore[operator]
    return create_model(
        name, __base__=InputModel, __doc__=f"Any fields of {model.__name__}.", **fields
    )


# Exact decimals in the database, JSON numbers on the wire (what the Flutter app expects).
Decimal3 = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ResourceRead(ReadModel):
    id: int
    created_at: datetime
    updated_at: datetime
    version: int


# Input datetimes must carry an offset and are stored (and echoed) in UTC.
UTCDateTime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]

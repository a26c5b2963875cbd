"""Schema bases: inputs refuse unknown fields; outputs read from ORM attributes."""

from __future__ import annotations

import re
from copy import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    create_model,
    model_validator,
)

MAX_INT = 2**63 - 1
YEARS = range(1900, 3000)
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def check_values(value: Any, where: str = "") -> None:
    """What every database can store: text without NUL or lone surrogates, 64-bit integers,
    years 1900-2999. Raises ValueError naming the first offending field."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where or 'value'}: text may not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where or 'value'}: text is not valid Unicode") from None
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -MAX_INT - 1 <= value <= MAX_INT:
            raise ValueError(f"{where or 'value'}: number out of range")
    elif isinstance(value, datetime | date):
        if value.year not in YEARS:
            raise ValueError(f"{where or 'value'}: year must be between 1900 and 2999")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            check_values(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_values(key, where)
            check_values(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            check_values(item, where)


def _is_temporal(annotation: Any) -> bool:
    if annotation in (date, datetime, AwareDatetime):
        return True
    return any(_is_temporal(arg) for arg in get_args(annotation))


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and NUMBER.fullmatch(value.strip()) is not None


class SafeValues(BaseModel):
    """Refuses (422) values a database would choke on, instead of a 500 at write time, and
    dates given as numbers (pydantic would read `0` as 1970-01-01): dates are ISO 8601 text."""

    @model_validator(mode="before")
    @classmethod
    def _as_sent(cls, data: Any) -> Any:
        """Checks on the values as sent: dates are text; a length limit counts the text before
        surrounding spaces are stripped, as the spec's `maxLength` does."""
        if isinstance(data, dict):
            for name, info in cls.model_fields.items():
                value = data.get(info.alias or name, data.get(name))
                if _is_number(value) and _is_temporal(info.annotation):
                    raise ValueError(f"{name}: use an ISO 8601 date, not a number")
                if isinstance(value, str):
                    for limit in (getattr(m, "max_length", None) for m in info.metadata):
                        if limit is not None and len(value) > limit:
                            raise ValueError(f"{name}: at most {limit} characters")
        return data

    @model_validator(mode="after")
    def _storable(self) -> Any:
        for name in type(self).model_fields:
            check_values(getattr(self, name), name)
        return self


class InputModel(SafeValues):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # API field name -> ORM attribute, where they differ.
    __orm_names__: ClassVar[dict[str, str]] = {}

    @classmethod
    def orm_names(cls) -> dict[str, str]:
        return cls.__orm_names__


def partial(model: type[InputModel], name: str) -> type[InputModel]:
    """The PATCH schema of a Create schema: same fields and constraints, all optional (a field
    that may not be null in the Create schema may not be sent as null here either).

    Only for documentation and unknown-field rejection; the merged result is validated by
    the Create schema itself (see app.core.crud.merge).
    """
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        optional = copy(info)
        optional.default = None
        optional.default_factory = None
        fields[field_name] = (info.annotation, optional)
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

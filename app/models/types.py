"""Column helpers shared by the models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum
from sqlalchemy.orm import MappedColumn, mapped_column


def enum_column(enum: type[StrEnum], **kwargs: Any) -> MappedColumn[Any]:
    """A string column checked against the enum's values (a CHECK constraint, not a DB enum
    type, so adding a value is a plain migration on every database)."""
    return mapped_column(
        Enum(
            enum,
            native_enum=False,
            create_constraint=True,
            length=max(len(m.value) for m in enum) + 8,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
            name=enum.__name__.lower(),
        ),
        **kwargs,
    )

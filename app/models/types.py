"""Column helpers shared by the models."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, Numeric
from sqlalchemy.dialects.postgresql import JSONB
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


# JSONB on PostgreSQL (indexable, compact); JSON elsewhere (MariaDB checks json_valid).
Json = JSON().with_variant(JSONB(), "postgresql")
# The same, for a column that may be empty: None is SQL NULL (not the JSON text `null`), and
# costs no serialising (a weld run that passes stores no conformance JSON).
OptionalJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# Stock quantities: exact decimals (kg of wire, litres of gas, pieces).
Quantity = Numeric(14, 3)
Money = Numeric(12, 2)

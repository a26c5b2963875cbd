from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow
from app.models.types import Json


class WorkshopEntry(Base):
    """One row of a machine's Excel export, mapped and typed by its template.

    Written only by imports (in bulk), read in pages of a keyset cursor; expect millions.
    """

    __tablename__ = "workshop_entries"
    __table_args__ = (
        Index("ix_workshop_entries_machine_id_recorded_at", "machine_id", "recorded_at"),
        Index("ix_workshop_entries_template_id_recorded_at", "template_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("templates.id"))
    machine_id: Mapped[int] = mapped_column(BigId, ForeignKey("machines.id"))
    import_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("imports.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""Facts about the database's contents that the app checks at start (one row per name)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

# The WORKSHOP_TIMEZONE whose days key the day totals (ADR 0036); no row: UTC.
DAY_TOTALS_ZONE = "day_totals_zone"


class AppState(Base):
    """A named fact, e.g. `day_totals_zone`: checked by app.dashboards.day_totals at start."""

    __tablename__ = "app_state"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))

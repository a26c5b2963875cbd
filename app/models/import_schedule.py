from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import BigId, Resource, UTCDateTime


class ImportSchedule(Resource):
    """A folder or S3 prefix watched on a cron: new files matching `pattern` are imported."""

    __tablename__ = "import_schedules"
    __label__ = "Import schedule"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("templates.id"), index=True)
    source_uri: Mapped[str] = mapped_column(String(500))
    pattern: Mapped[str] = mapped_column(String(200), default="*.xlsx")
    cron: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_message: Mapped[str | None] = mapped_column(String(1000))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

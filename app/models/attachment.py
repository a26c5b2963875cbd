"""Files attached to rows of other tables: certificates, NDT reports, photos, drawings.

An attachment names its owner by resource name and id (`owner`, `owner_id`) rather than by a
foreign key per owner table: one table serves every owner, and the owners are the rows of
`OWNERS`. Adding an owner is one line there (no migration: `owner` is plain text); its
routes (app/attachments/router.py) and the deletion of its attachments with it
(app/core/attached.py) follow from the line.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import BigId, Resource
from app.models.employee import Qualification
from app.models.equipment import Equipment
from app.models.inspection import Inspection
from app.models.item import Lot
from app.models.machine import Machine
from app.models.weld import Weld
from app.models.work_order import WorkOrder
from app.models.wps import Wps

# The owners: the name in the URL (`/api/v1/{owner}/{id}/attachments`) and in `owner`.
OWNERS: dict[str, type[Resource]] = {
    "qualifications": Qualification,
    "inspections": Inspection,
    "workorders": WorkOrder,
    "welds": Weld,
    "equipment": Equipment,
    "machines": Machine,
    "wps": Wps,
    "lots": Lot,
}


class Attachment(Resource):
    """One stored file of an owner row. `filename` is for display and download only (the last
    part of the uploaded name, cleaned, with the extension of what the bytes are); the file
    lives under `storage_key`, a generated key."""

    __tablename__ = "attachments"
    __label__ = "Attachment"
    __table_args__ = (Index("ix_attachments_owner_owner_id", "owner", "owner_id"),)

    owner: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int] = mapped_column(BigId)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    created_by: Mapped[str | None] = mapped_column(String(100))

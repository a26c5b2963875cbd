from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.pagination import ListQuery
from app.core.schemas import ResourceRead
from app.models import Attachment


class AttachmentRead(ResourceRead):
    owner: str = Field(description="The owner's resource, e.g. `machines`")
    owner_id: int
    filename: str = Field(
        description="The uploaded name's last part, cleaned, with the extension of the file's "
        "type: the name a download gets"
    )
    content_type: str = Field(examples=["application/pdf", "image/jpeg"])
    size: int = Field(description="Bytes")
    sha256: str
    created_by: str | None
    download_path: str = Field(description="`GET` it for the file")

    @classmethod
    def of(cls, row: Attachment, download_path: str) -> AttachmentRead:
        values = {name: getattr(row, name) for name in cls.model_fields if name != "download_path"}
        return cls(**values, download_path=download_path)


class AttachmentQuery(ListQuery):
    sort_by: Literal["id", "filename", "size", "created_at"] = "id"

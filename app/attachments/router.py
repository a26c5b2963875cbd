"""Attachments: the same four routes for every owner of `app.models.OWNERS`, made by one
function (`owner_routes`), so an owner added there has its routes, its place in the spec and
in the role matrix without another line here:

    POST   /api/v1/{owner}/{id}/attachments          upload (operator and up)
    GET    /api/v1/{owner}/{id}/attachments          list
    GET    /api/v1/{owner}/{id}/attachments/{aid}    download (S3: 307 to a time-limited URL)
    DELETE /api/v1/{owner}/{id}/attachments/{aid}    delete (manager and up)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.attachments import service
from app.attachments.schemas import AttachmentQuery, AttachmentRead
from app.auth.deps import CanAttach, CanRead, CanWrite
from app.core.db import SessionDep
from app.core.http import UPLOAD_ATTACHMENT, IfMatch, Router, SettingsDep, created, path_for
from app.core.openapi import errors
from app.core.pagination import Page
from app.imports.deps import StorageDep
from app.imports.upload import multipart_file, uploaded_file
from app.models import OWNERS, Attachment

ATTACHMENT_BODY = multipart_file("A PDF, JPEG, PNG or TIFF file (decided by its bytes)")
TYPES = ("application/pdf", "image/jpeg", "image/png", "image/tiff")


def route_name(owner: str) -> str:
    """The name of an owner's download route (`path_for`)."""
    return f"get_{owner}_attachment"


def reader(request: Request) -> service.Reader:
    """An attachment as the API shows it, with the path to download it."""

    def read(attachment: Attachment) -> AttachmentRead:
        path = path_for(
            request,
            route_name(attachment.owner),
            owner_id=attachment.owner_id,
            attachment_id=attachment.id,
        )
        return AttachmentRead.of(attachment, path)

    return read


def owner_routes(owner: str) -> Router:
    """The attachment routes of one owner, under `/{owner}`."""
    what = service.owner_label(owner)
    router = Router(prefix=f"/{owner}", tags=["attachments"])
    one = "/{owner_id:int}/attachments/{attachment_id:int}"

    @router.post(
        "/{owner_id:int}/attachments",
        name=f"upload_{owner}_attachment",
        summary=f"{what}: attach a file",
        status_code=status.HTTP_201_CREATED,
        response_model=AttachmentRead,
        responses=errors(401, 403, 404, 413, 415, 422, 503, 507),
        dependencies=[UPLOAD_ATTACHMENT],
        openapi_extra=ATTACHMENT_BODY,
    )
    async def upload(
        owner_id: int,
        request: Request,
        response: Response,
        session: SessionDep,
        storage: StorageDep,
        settings: SettingsDep,
        principal: CanAttach,
    ) -> AttachmentRead:
        """Attach a PDF, JPEG, PNG or TIFF (multipart field `file`): the type is decided by
        the file's bytes, never its name. 413 over ATTACHMENT_MAX_SIZE, 415 for any other
        type, 422 for an empty file or no `file` field. 201 with `Location`, the path to
        download it."""
        async with uploaded_file(request) as file:  # read now: the caller may upload
            attachment = await service.attach(
                session,
                storage,
                owner,
                owner_id,
                file,
                principal.label,
                settings.attachment_max_size,
            )
        read = reader(request)(attachment)
        ids = {"owner_id": owner_id, "attachment_id": attachment.id}
        return created(request, response, route_name(owner), read, **ids)

    @router.get(
        "/{owner_id:int}/attachments",
        name=f"list_{owner}_attachments",
        summary=f"{what}: list attachments",
        response_model=Page[AttachmentRead],
        responses=errors(401, 403, 404, 422),
    )
    async def list_attachments(
        owner_id: int,
        query: Annotated[AttachmentQuery, Query()],
        request: Request,
        session: SessionDep,
        _: CanRead,
    ) -> Page[AttachmentRead]:
        """The files attached to it, with the path to download each."""
        return await service.list_attachments(session, owner, owner_id, query, reader(request))

    @router.get(
        one,
        name=route_name(owner),
        summary=f"{what}: download an attachment",
        responses={
            **errors(401, 403, 404, 410, 503),
            200: {"content": {t: {} for t in TYPES}, "description": "The file"},
            307: {"description": "Redirect to a time-limited download URL (S3)"},
        },
        response_class=StreamingResponse,
    )
    async def download(
        owner_id: int, attachment_id: int, session: SessionDep, storage: StorageDep, _: CanRead
    ) -> Response:
        """The file, named by `Content-Disposition` (RFC 5987); from S3 a redirect to a
        time-limited URL. 404 for an attachment of another owner; 410 when its file is gone
        from the storage."""
        stored, content_type = await service.open_attachment(
            session, storage, owner, owner_id, attachment_id
        )
        return stored.response(content_type)

    @router.delete(
        one,
        name=f"delete_{owner}_attachment",
        summary=f"{what}: delete an attachment",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=errors(401, 403, 404, 412, 503),
    )
    async def delete(
        owner_id: int,
        attachment_id: int,
        session: SessionDep,
        _: CanWrite,
        if_match: IfMatch = None,
    ) -> None:
        """Delete the attachment and its file (503 when the storage cannot delete the file:
        then nothing is deleted)."""
        await service.delete_attachment(session, owner, owner_id, attachment_id, if_match)

    return router


routers = [owner_routes(owner) for owner in OWNERS]

"""Uploads and import records. The same upload is served at its alias `/upload/{template_id}`
(kept from the first version): one endpoint, two routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from app.auth.deps import CanManageImports, CanRead, CanUpload
from app.core.db import SessionDep
from app.core.export import XLSX
from app.core.http import UPLOAD, IfMatch, path_for, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.imports import records
from app.imports.deps import ImporterDep, StorageDep
from app.imports.schemas import DryRunReport, ImportOptions, ImportQuery, ImportRead, import_read
from app.imports.upload import UPLOAD_BODY, uploaded_file
from app.models import ImportStatus
from app.storage.base import content_disposition

router = APIRouter(tags=["imports"])
alias = APIRouter(tags=["imports"])
UPLOAD_RESPONSES = {
    **errors(401, 403, 404, 409, 413, 415, 422, 503, 507),
    200: {"model": DryRunReport, "description": "dry_run=true: what the import would do"},
    201: {"model": ImportRead, "description": "Imported"},
    202: {"model": ImportRead, "description": "Large file: importing in the background"},
}
# The upload and its alias: one endpoint, declared the same way on both routes.
UPLOAD_ROUTE: dict[str, Any] = {
    "status_code": status.HTTP_201_CREATED,
    "response_model": ImportRead,
    "responses": UPLOAD_RESPONSES,
    "dependencies": [UPLOAD],
    "openapi_extra": UPLOAD_BODY,
}


@router.post("/templates/{template_id:int}/imports", operation_id="imports_upload", **UPLOAD_ROUTE)
async def upload_import(
    template_id: int,
    options: Annotated[ImportOptions, Query()],
    request: Request,
    importer: ImporterDep,
    principal: CanUpload,
) -> Response:
    """Import a machine's Excel export (.xlsx or .xls, multipart field `file`) with this
    template. 201 when done; 202 with `Location` when a large file continues in the
    background; 409 when the same file was imported before (`force=true` to repeat);
    422 with `row_errors` when rows are invalid and `on_error=abort`."""
    async with uploaded_file(request) as file:  # read now: the caller may upload
        outcome = await importer.submit(template_id, file, options, created_by=principal.label)
    if isinstance(outcome, DryRunReport):
        return JSONResponse(outcome.model_dump(mode="json"))
    record, background = outcome
    body = import_read(record, importer.progress.get(record.id)).model_dump(mode="json")
    headers = {
        "Location": path_for(request, "get_import", import_id=record.id),
        "ETag": f'"{record.version}"',
    }
    code = status.HTTP_202_ACCEPTED if background else status.HTTP_201_CREATED
    return JSONResponse(body, status_code=code, headers=headers)


alias.post(
    "/upload/{template_id:int}",
    **UPLOAD_ROUTE,
    name="upload_alias",
    operation_id="imports_upload_alias",
    description="Alias of `POST /api/v1/templates/{template_id}/imports`, kept from the first "
    "version.",
)(upload_import)


@router.get("/imports", response_model=Page[ImportRead], responses=errors(401, 403, 422))
async def list_imports(
    query: Annotated[ImportQuery, Query()], session: SessionDep, importer: ImporterDep, _: CanRead
) -> Page[ImportRead]:
    """Import records, newest first; filter by template, status, source and date."""
    return await records.list_imports(session, query, importer)


@router.get("/imports/{import_id:int}", response_model=ImportRead, responses=errors(401, 403, 404))
async def get_import(
    import_id: int, session: SessionDep, response: Response, importer: ImporterDep, _: CanRead
) -> ImportRead:
    """One import with its row errors; live progress while it runs. A running import's
    `ETag` follows its progress (a hash of the answer), so `If-None-Match` never hides it;
    once done, its `ETag` is its version, as for any resource."""
    read = await records.get_import(session, import_id, importer)
    if read.status in (ImportStatus.pending, ImportStatus.running):
        return read  # tagged by the answer's hash (app/core/conditional.py)
    return with_etag(response, read)


@router.get(
    "/imports/{import_id:int}/file",
    responses={
        **errors(401, 403, 404, 410, 503),
        200: {"content": {"application/octet-stream": {}}, "description": "The stored file"},
        307: {"description": "Redirect to a time-limited download URL (S3)"},
    },
    response_class=StreamingResponse,
)
async def download_file(
    import_id: int, session: SessionDep, storage: StorageDep, _: CanRead
) -> Response:
    """The file as uploaded (from S3: a redirect to a time-limited URL)."""
    stored = await records.open_file(session, storage, import_id)
    return stored.response("application/octet-stream")


@router.get(
    "/imports/{import_id:int}/errors.xlsx",
    responses={
        **errors(401, 403, 404, 410, 422, 503),
        200: {
            "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
            "description": "The failed rows with an error column",
        },
    },
    response_class=StreamingResponse,
)
async def errors_workbook(
    import_id: int, session: SessionDep, storage: StorageDep, importer: ImporterDep, _: CanRead
) -> Response:
    """The rows that failed, as uploaded, with an `Error` column: fix them and upload again."""
    chunks = await records.errors_workbook(session, storage, importer, import_id)
    disposition = content_disposition(f"import-{import_id}-errors.xlsx")
    return StreamingResponse(chunks, media_type=XLSX, headers={"Content-Disposition": disposition})


@router.post(
    "/imports/{import_id:int}/recheck",
    response_model=ImportRead,
    responses={
        **errors(401, 403, 404, 409, 503),
        202: {"model": ImportRead, "description": "A large import: re-checking in the background"},
    },
)
async def recheck_import(
    import_id: int,
    request: Request,
    session: SessionDep,
    importer: ImporterDep,
    _: CanManageImports,
) -> Response:
    """Judge the import's weld runs again: after a WPS revision, a job map or a badge put
    right. Verdicts, the `conformance` summary and the unresolved parts among `errors` are
    replaced. 409 for an import without runs, or not completed; 202 with `Location` when it
    has more rows than IMPORT_SYNC_MAX_ROWS (the summary's `checked_at` moves when done)."""
    record, background = await records.recheck_import(session, importer, import_id)
    headers = {"Location": path_for(request, "get_import", import_id=import_id)}
    code = status.HTTP_202_ACCEPTED if background else status.HTTP_200_OK
    return JSONResponse(record.model_dump(mode="json"), status_code=code, headers=headers)


@router.delete(
    "/imports/{import_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412, 503),
)
async def delete_import(
    import_id: int,
    session: SessionDep,
    storage: StorageDep,
    _: CanManageImports,
    if_match: IfMatch = None,
) -> None:
    """Undo an import: delete its entries, its file and its record."""
    await records.delete_import(session, storage, import_id, if_match)

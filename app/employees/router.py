from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status

from app.auth.deps import CanRead, CanWrite
from app.core import crud
from app.core.db import SessionDep
from app.core.http import IfMatch, Router, created, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.employees import service
from app.employees.schemas import (
    EmployeeCreate,
    EmployeeQuery,
    EmployeeRead,
    EmployeeUpdate,
    QualificationCreate,
    QualificationQuery,
    QualificationRead,
    QualificationUpdate,
)
from app.models import Employee
from app.qualifications import service as qualifications
from app.qualifications.schemas import Qualified, QualifiedQuery
from app.welds.service import today

router = Router(prefix="/employees", tags=["employees"])
WRITE_ERRORS = errors(401, 403, 404, 409, 412, 422)


@router.get("", response_model=Page[EmployeeRead], responses=errors(401, 403, 422))
async def list_employees(
    query: Annotated[EmployeeQuery, Query()], session: SessionDep, _: CanRead
) -> Page[EmployeeRead]:
    """List employees; filter by role, activity, department, name, hire date, or a
    qualification expiring before a date."""
    return await service.list_employees(session, query)


@router.get("/{employee_id:int}", response_model=EmployeeRead, responses=errors(401, 403, 404))
async def get_employee(
    employee_id: int, session: SessionDep, response: Response, _: CanRead
) -> EmployeeRead:
    """One employee, with its `ETag`."""
    employee = await crud.get(session, Employee, employee_id)
    return with_etag(response, EmployeeRead.model_validate(employee))


@router.post(
    "",
    response_model=EmployeeRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 409, 422),
)
async def create_employee(
    body: EmployeeCreate, session: SessionDep, request: Request, response: Response, _: CanWrite
) -> EmployeeRead:
    """Add an employee. `employee_number` is unique."""
    employee = await crud.create(session, Employee, body)
    read = EmployeeRead.model_validate(employee)
    return created(request, response, "get_employee", read, employee_id=employee.id)


@router.put("/{employee_id:int}", response_model=EmployeeRead, responses=WRITE_ERRORS)
async def replace_employee(
    employee_id: int,
    body: EmployeeCreate,
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> EmployeeRead:
    """Replace an employee: fields left out go back to their defaults."""
    employee = await crud.replace(session, Employee, employee_id, body, if_match)
    return with_etag(response, EmployeeRead.model_validate(employee))


@router.patch("/{employee_id:int}", response_model=EmployeeRead, responses=WRITE_ERRORS)
async def patch_employee(
    employee_id: int,
    body: EmployeeUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> EmployeeRead:
    """Change only the fields sent; `null` clears an optional field."""
    employee = await crud.patch(session, Employee, EmployeeCreate, employee_id, body, if_match)
    return with_etag(response, EmployeeRead.model_validate(employee))


@router.delete(
    "/{employee_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409, 412),
)
async def delete_employee(
    employee_id: int, session: SessionDep, _: CanWrite, if_match: IfMatch = None
) -> None:
    """Delete an employee and their qualifications; 409 while work orders or inspections
    name them."""
    await crud.delete(session, Employee, employee_id, if_match)


@router.get(
    "/{employee_id:int}/qualified",
    response_model=Qualified,
    responses=errors(401, 403, 404, 422),
)
async def qualified(
    employee_id: int,
    query: Annotated[QualifiedQuery, Query()],
    session: SessionDep,
    _: CanRead,
) -> Qualified:
    """May this employee do this weld on this day, and why not: per variable, the value, the
    range that covers it and the qualification it comes from, or the reason it is not
    covered; and what has lapsed (expiry, 6-month confirmation, ASME process clock)."""
    return await qualifications.qualified_for(session, employee_id, query, today())


@router.get(
    "/{employee_id:int}/qualifications",
    response_model=Page[QualificationRead],
    responses=errors(401, 403, 404, 422),
)
async def list_qualifications(
    employee_id: int,
    query: Annotated[QualificationQuery, Query()],
    session: SessionDep,
    _: CanRead,
) -> Page[QualificationRead]:
    """An employee's welding qualifications (certificates)."""
    return await service.list_qualifications(session, employee_id, query)


@router.get(
    "/{employee_id:int}/qualifications/{qualification_id:int}",
    response_model=QualificationRead,
    responses=errors(401, 403, 404),
)
async def get_qualification(
    employee_id: int, qualification_id: int, session: SessionDep, response: Response, _: CanRead
) -> QualificationRead:
    """One qualification of an employee."""
    qualification = await service.get_qualification(session, employee_id, qualification_id)
    return with_etag(response, service.qualification_read(qualification))


@router.post(
    "/{employee_id:int}/qualifications",
    response_model=QualificationRead,
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 404, 409, 422),
)
async def create_qualification(
    employee_id: int,
    body: QualificationCreate,
    session: SessionDep,
    request: Request,
    response: Response,
    _: CanWrite,
) -> QualificationRead:
    """Record a qualification. `certificate_number` is unique."""
    qualification = await service.create_qualification(session, employee_id, body)
    read = service.qualification_read(qualification)
    return created(
        request,
        response,
        "get_qualification",
        read,
        employee_id=employee_id,
        qualification_id=qualification.id,
    )


@router.put(
    "/{employee_id:int}/qualifications/{qualification_id:int}",
    response_model=QualificationRead,
    responses=WRITE_ERRORS,
)
async def replace_qualification(
    employee_id: int,
    qualification_id: int,
    body: QualificationCreate,
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> QualificationRead:
    """Replace a qualification."""
    qualification = await service.replace_qualification(
        session, employee_id, qualification_id, body, if_match
    )
    return with_etag(response, service.qualification_read(qualification))


@router.patch(
    "/{employee_id:int}/qualifications/{qualification_id:int}",
    response_model=QualificationRead,
    responses=WRITE_ERRORS,
)
async def patch_qualification(
    employee_id: int,
    qualification_id: int,
    body: QualificationUpdate,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanWrite,
    if_match: IfMatch = None,
) -> QualificationRead:
    """Change only the fields sent, e.g. `last_confirmed_on` after the 6-month confirmation."""
    qualification = await service.patch_qualification(
        session, employee_id, qualification_id, body, if_match
    )
    return with_etag(response, service.qualification_read(qualification))


@router.delete(
    "/{employee_id:int}/qualifications/{qualification_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 412),
)
async def delete_qualification(
    employee_id: int,
    qualification_id: int,
    session: SessionDep,
    _: CanWrite,
    if_match: IfMatch = None,
) -> None:
    """Delete a qualification."""
    await service.delete_qualification(session, employee_id, qualification_id, if_match)

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.errors import NotFound
from app.core.pagination import Page, between, contains_any, eq, page_of, paginate, where
from app.core.repository import Repository
from app.employees.schemas import (
    EmployeeCreate,
    EmployeeQuery,
    EmployeeRead,
    QualificationCreate,
    QualificationQuery,
    QualificationRead,
)
from app.models import Employee, Qualification


def repo(session: AsyncSession) -> Repository[Employee]:
    return Repository(session, Employee)


async def list_employees(session: AsyncSession, query: EmployeeQuery) -> Page[EmployeeRead]:
    expiring = None
    if query.qualification_expires_before is not None:
        expiring = exists().where(
            Qualification.employee_id == Employee.id,
            Qualification.expires_on < query.qualification_expires_before,
        )
    stmt = select(Employee).where(
        *where(
            eq(Employee.role, query.role),
            eq(Employee.active, query.active),
            eq(Employee.department, query.department),
            contains_any(
                query.q, Employee.employee_number, Employee.first_name, Employee.last_name
            ),
            between(Employee.hire_date, query.hire_from, query.hire_to),
            expiring,
        )
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Employee, query.sort_by), tiebreak=Employee.id
    )
    return page_of([EmployeeRead.model_validate(r) for r in rows], counted, query)


async def create_employee(session: AsyncSession, body: EmployeeCreate) -> Employee:
    return await crud.create(repo(session), body)


async def replace_employee(
    session: AsyncSession, employee_id: int, body: EmployeeCreate, if_match: str | None
) -> Employee:
    return await crud.replace_by_id(repo(session), employee_id, body, if_match)


async def patch_employee(
    session: AsyncSession, employee_id: int, patch: BaseModel, if_match: str | None
) -> Employee:
    return await crud.patch_by_id(repo(session), EmployeeCreate, employee_id, patch, if_match)


async def delete_employee(session: AsyncSession, employee_id: int, if_match: str | None) -> None:
    """Delete an employee with their qualifications; 409 while work orders or inspections
    name them (deactivate instead: `active=false`)."""
    await crud.delete_by_id(repo(session), employee_id, if_match)


# --- qualifications: a sub-resource, always reached through its employee -------------------


def qualifications(session: AsyncSession) -> Repository[Qualification]:
    return Repository(session, Qualification)


async def get_qualification(
    session: AsyncSession, employee_id: int, qualification_id: int, if_match: str | None = None
) -> Qualification:
    await repo(session).get(employee_id)
    qualification = await qualifications(session).get_for_write(qualification_id, if_match)
    if qualification.employee_id != employee_id:
        raise NotFound(
            f"Qualification {qualification_id} does not exist for employee {employee_id}"
        )
    return qualification


async def list_qualifications(
    session: AsyncSession, employee_id: int, query: QualificationQuery
) -> Page[QualificationRead]:
    await repo(session).get(employee_id)
    stmt = select(Qualification).where(
        Qualification.employee_id == employee_id,
        *where(
            eq(Qualification.standard, query.standard),
            eq(Qualification.process, query.process),
            between(Qualification.expires_on, query.expires_from, query.expires_to),
        ),
    )
    rows, counted = await paginate(
        session, stmt, query, sort=getattr(Qualification, query.sort_by), tiebreak=Qualification.id
    )
    return page_of([QualificationRead.model_validate(r) for r in rows], counted, query)


async def create_qualification(
    session: AsyncSession, employee_id: int, body: QualificationCreate
) -> Qualification:
    await repo(session).get(employee_id)
    return await qualifications(session).add({**body.model_dump(), "employee_id": employee_id})


async def replace_qualification(
    session: AsyncSession,
    employee_id: int,
    qualification_id: int,
    body: QualificationCreate,
    if_match: str | None,
) -> Qualification:
    qualification = await get_qualification(session, employee_id, qualification_id, if_match)
    return await crud.replace(qualifications(session), qualification, body)


async def patch_qualification(
    session: AsyncSession,
    employee_id: int,
    qualification_id: int,
    patch: BaseModel,
    if_match: str | None,
) -> Qualification:
    qualification = await get_qualification(session, employee_id, qualification_id, if_match)
    merged = crud.merge(QualificationCreate, qualification, patch)
    return await crud.replace(qualifications(session), qualification, merged)


async def delete_qualification(
    session: AsyncSession, employee_id: int, qualification_id: int, if_match: str | None
) -> None:
    qualification = await get_qualification(session, employee_id, qualification_id, if_match)
    await qualifications(session).delete(qualification)

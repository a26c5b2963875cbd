from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import crud
from app.core.errors import NotFound
from app.core.pagination import Page, between, contains_any, eq, page_of, paginate, where
from app.employees.schemas import (
    EmployeeQuery,
    EmployeeRead,
    QualificationCreate,
    QualificationQuery,
    QualificationRead,
)
from app.models import Employee, Qualification
from app.qualifications import service as qualifications


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
            eq(Employee.badge, query.badge),
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


# --- qualifications: a sub-resource, always reached through its employee -------------------


async def get_qualification(
    session: AsyncSession, employee_id: int, qualification_id: int, if_match: str | None = None
) -> Qualification:
    """The qualification, only through its own employee (404 for another employee's)."""
    await crud.get(session, Employee, employee_id)
    qualification = await crud.get_for_write(session, Qualification, qualification_id, if_match)
    if qualification.employee_id != employee_id:
        raise NotFound(
            f"Qualification {qualification_id} does not exist for employee {employee_id}"
        )
    return qualification


async def list_qualifications(
    session: AsyncSession, employee_id: int, query: QualificationQuery
) -> Page[QualificationRead]:
    await crud.get(session, Employee, employee_id)
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
    return page_of([qualification_read(r) for r in rows], counted, query)


def qualification_read(q: Qualification) -> QualificationRead:
    """With the ranges the rule tables derive from its test piece."""
    ranges = qualifications.ranges_of(q)
    derived = None
    if ranges is not None:
        derived = {
            **{k: v for k, v in vars(ranges).items() if not isinstance(v, frozenset)},
            **{k: sorted(v) for k, v in vars(ranges).items() if isinstance(v, frozenset)},
        }
    values = {k: getattr(q, k) for k in QualificationRead.model_fields if k != "ranges"}
    return QualificationRead.model_validate({**values, "ranges": derived})


async def create_qualification(
    session: AsyncSession, employee_id: int, body: QualificationCreate
) -> Qualification:
    """Record a qualification of an existing employee (404 otherwise)."""
    await crud.get(session, Employee, employee_id)
    qualification = await crud.create(session, Qualification, body, employee_id=employee_id)
    qualifications.check_piece(qualification)
    return qualification


async def replace_qualification(
    session: AsyncSession,
    employee_id: int,
    qualification_id: int,
    body: QualificationCreate,
    if_match: str | None,
) -> Qualification:
    """Replace, only through its own employee (`get_qualification`)."""
    qualification = await get_qualification(session, employee_id, qualification_id, if_match)
    await crud.update(session, qualification, body)
    qualifications.check_piece(qualification)
    return qualification


async def patch_qualification(
    session: AsyncSession,
    employee_id: int,
    qualification_id: int,
    patch: BaseModel,
    if_match: str | None,
) -> Qualification:
    """Patch, only through its own employee (`get_qualification`)."""
    qualification = await get_qualification(session, employee_id, qualification_id, if_match)
    merged = crud.merge(QualificationCreate, qualification, patch)
    await crud.update(session, qualification, merged)
    qualifications.check_piece(qualification)
    return qualification


async def delete_qualification(
    session: AsyncSession, employee_id: int, qualification_id: int, if_match: str | None
) -> None:
    """Delete, only through its own employee (`get_qualification`)."""
    qualification = await get_qualification(session, employee_id, qualification_id, if_match)
    await crud.remove(session, qualification)

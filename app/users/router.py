from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from app.auth.deps import FORGET_CREDENTIALS, CanManageUsers
from app.core import crud
from app.core.db import SessionDep
from app.core.http import IfMatch, Router, SettingsDep, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.models import User
from app.users import service
from app.users.schemas import UserPatch, UserQuery, UserRead

router = Router(prefix="/users", tags=["users"])


@router.get("", response_model=Page[UserRead], responses=errors(401, 403, 422))
async def list_users(
    query: Annotated[UserQuery, Query()], session: SessionDep, _: CanManageUsers
) -> Page[UserRead]:
    """People who signed in with Firebase, with their roles (admins)."""
    return await service.list_users(session, query)


@router.get("/{user_id:int}", response_model=UserRead, responses=errors(401, 403, 404))
async def get_user(
    user_id: int, session: SessionDep, response: Response, _: CanManageUsers
) -> UserRead:
    """One user (admins)."""
    return with_etag(response, UserRead.model_validate(await crud.get(session, User, user_id)))


@router.patch(
    "/{user_id:int}",
    response_model=UserRead,
    responses=errors(401, 403, 404, 412, 422),
    dependencies=[FORGET_CREDENTIALS],
)
async def update_user(
    user_id: int,
    body: UserPatch,  # type: ignore[valid-type]
    session: SessionDep,
    response: Response,
    _: CanManageUsers,
    settings: SettingsDep,
    if_match: IfMatch = None,
) -> UserRead:
    """Set a user's `role` or `active` (admins). The role is the admin's grant: it is in force
    unless ADMIN_EMAILS or a role claim gives the user another, and stays when those stop;
    `pending` takes it back. Applies on the user's next request (within `AUTH_CACHE_SECONDS` on
    other workers). The answer shows the role in force, its source and the admin's grant."""
    user = await service.update_user(session, user_id, body, if_match, settings)
    return with_etag(response, UserRead.model_validate(user))

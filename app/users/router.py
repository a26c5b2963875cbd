from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from app.auth.deps import FORGET_CREDENTIALS, CanManageUsers
from app.core import crud
from app.core.db import SessionDep
from app.core.http import IfMatch, Router, with_etag
from app.core.openapi import errors
from app.core.pagination import Page
from app.models import User
from app.users import service
from app.users.schemas import UserPatch, UserQuery, UserRead, UserUpdate

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
    if_match: IfMatch = None,
) -> UserRead:
    """Set a user's `role` or `active` (admins). Applies on the user's next request (within
    `AUTH_CACHE_SECONDS` on other workers); a role claim in the user's Firebase token takes
    precedence over the stored role."""
    user = await crud.patch(session, User, UserUpdate, user_id, body, if_match)
    return with_etag(response, UserRead.model_validate(user))

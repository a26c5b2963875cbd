"""Mounts every domain router under /api/v1."""

from fastapi import APIRouter

from app.api_keys.router import router as api_keys_router
from app.auth.router import router as auth_router

api_router = APIRouter(prefix="/api/v1")
for router in (auth_router, api_keys_router):
    api_router.include_router(router)

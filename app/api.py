"""Mounts every domain router under /api/v1."""

from fastapi import APIRouter

from app.api_keys.router import router as api_keys_router
from app.auth.router import router as auth_router
from app.employees.router import router as employees_router
from app.machines.router import router as machines_router
from app.templates.router import router as templates_router

api_router = APIRouter(prefix="/api/v1")
for router in (
    auth_router,
    api_keys_router,
    machines_router,
    templates_router,
    employees_router,
):
    api_router.include_router(router)

"""Mounts every domain router under /api/v1."""

from app.api_keys.router import router as api_keys_router
from app.attachments.router import routers as attachment_routers
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.core.http import Router
from app.dashboards.router import router as dashboards_router
from app.deletions.router import router as deletions_router
from app.dossier.router import router as dossier_router
from app.employees.router import router as employees_router
from app.entries.router import router as entries_router
from app.equipment.router import router as equipment_router
from app.imports.router import router as imports_router
from app.inspections.router import router as inspections_router
from app.inventory.lots_router import router as lots_router
from app.inventory.router import router as items_router
from app.machines.router import router as machines_router
from app.qualifications.router import router as qualifications_router
from app.scheduler.router import router as scheduler_router
from app.templates.router import router as templates_router
from app.users.router import router as users_router
from app.webhooks.router import router as webhooks_router
from app.welds.router import router as welds_router
from app.work_orders.router import router as work_orders_router
from app.wps.router import router as wps_router

api_router = Router(prefix="/api/v1")
for router in (
    auth_router,
    api_keys_router,
    users_router,
    machines_router,
    templates_router,
    work_orders_router,
    dossier_router,
    wps_router,
    welds_router,
    qualifications_router,
    equipment_router,
    inspections_router,
    employees_router,
    items_router,
    lots_router,
    entries_router,
    imports_router,
    scheduler_router,
    dashboards_router,
    audit_router,
    webhooks_router,
    deletions_router,
    *attachment_routers,
):
    api_router.include_router(router)

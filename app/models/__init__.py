"""Every ORM model, imported here so Alembic and the app see the whole metadata."""

from app.models.api_key import ApiKey
from app.models.app_state import DAY_TOTALS_ZONE, AppState
from app.models.attachment import OWNERS, Attachment
from app.models.audit_event import AuditAction, AuditEvent
from app.models.base import Base
from app.models.calibration import Calibration, CheckResult, MachineValidation
from app.models.deletion import Deletion
from app.models.employee import (
    Employee,
    EmployeeRole,
    Product,
    Qualification,
    QualificationConfirmation,
    QualificationStandard,
    Revalidation,
    TransferMode,
)
from app.models.equipment import Equipment, EquipmentStatus
from app.models.idempotency_key import IdempotencyKey
from app.models.import_record import ImportProgress, ImportRecord, ImportSource, ImportStatus
from app.models.import_schedule import ImportSchedule
from app.models.inspection import (
    Inspection,
    InspectionDayTotal,
    InspectionMethod,
    InspectionResult,
    QualityLevel,
)
from app.models.item import Item, ItemCategory, Lot, StockMovement
from app.models.machine import Machine, MachineStatus, MachineType
from app.models.template import Template
from app.models.user import User
from app.models.webhook import DeliveryStatus, WebhookDelivery, WebhookSubscription
from app.models.weld import Weld, WeldStatus
from app.models.work_order import Priority, WorkOrder, WorkOrderDayTotal, WorkOrderStatus
from app.models.workshop_entry import ConformanceDayTotal, EntryDayTotal, WorkshopEntry
from app.models.wps import Joint, PassLayer, Progression, Wps, WpsPass, WpsStandard, WpsStatus

__all__ = [
    "DAY_TOTALS_ZONE",
    "OWNERS",
    "ApiKey",
    "AppState",
    "Attachment",
    "AuditAction",
    "AuditEvent",
    "Base",
    "Calibration",
    "CheckResult",
    "ConformanceDayTotal",
    "Deletion",
    "DeliveryStatus",
    "Employee",
    "EmployeeRole",
    "EntryDayTotal",
    "Equipment",
    "EquipmentStatus",
    "IdempotencyKey",
    "ImportProgress",
    "ImportRecord",
    "ImportSchedule",
    "ImportSource",
    "ImportStatus",
    "Inspection",
    "InspectionDayTotal",
    "InspectionMethod",
    "InspectionResult",
    "Item",
    "ItemCategory",
    "Joint",
    "Lot",
    "Machine",
    "MachineStatus",
    "MachineType",
    "MachineValidation",
    "PassLayer",
    "Priority",
    "Product",
    "Progression",
    "Qualification",
    "QualificationConfirmation",
    "QualificationStandard",
    "QualityLevel",
    "Revalidation",
    "StockMovement",
    "Template",
    "TransferMode",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "Weld",
    "WeldStatus",
    "WorkOrder",
    "WorkOrderDayTotal",
    "WorkOrderStatus",
    "WorkshopEntry",
    "Wps",
    "WpsPass",
    "WpsStandard",
    "WpsStatus",
]

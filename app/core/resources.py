"""The resources the API creates, edits and deletes, by model: each one's name in the URL.

One map for the two things that name them: the audit trail records their changes under these
names (app/core/audit.py), and the deletions feed gives their deleted rows under the same
(app/core/deletions.py), so a resource added here is in both.
"""

from __future__ import annotations

from typing import Any

from app.models import (
    ApiKey,
    Attachment,
    Calibration,
    Employee,
    Equipment,
    ImportSchedule,
    Inspection,
    Item,
    Lot,
    Machine,
    MachineValidation,
    Qualification,
    Template,
    User,
    WebhookSubscription,
    Weld,
    WorkOrder,
    Wps,
)

NAMES: dict[type[Any], str] = {
    Machine: "machines",
    Template: "templates",
    WorkOrder: "workorders",
    Wps: "wps",
    Weld: "welds",
    Inspection: "inspections",
    Employee: "employees",
    Qualification: "qualifications",
    Equipment: "equipment",
    Calibration: "calibrations",
    MachineValidation: "validations",
    Item: "items",
    Lot: "lots",
    ImportSchedule: "import-schedules",
    User: "users",
    ApiKey: "api-keys",
    Attachment: "attachments",
    WebhookSubscription: "webhooks",
}

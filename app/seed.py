"""Demo data: a small, realistic welding workshop, built through the same services as the API
(so it obeys the same rules). Dates are relative to today, so the dashboards always have
something overdue, something due soon and something expiring."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from app.attachments import service as attachments
from app.auth.principal import Principal
from app.auth.roles import Role
from app.conformance import service as conformance
from app.conformance import totals as conformance_totals
from app.conformance.runs import Judge
from app.core import clock, crud, history
from app.core.clock import workshop_day
from app.employees import service as employees
from app.employees.schemas import EmployeeCreate, QualificationCreate
from app.entries import totals as entry_totals
from app.equipment import service as equipment
from app.equipment.schemas import CalibrationCreate, EquipmentCreate
from app.inspections import service as inspections
from app.inspections.schemas import InspectionCreate
from app.inventory import lots
from app.inventory import service as inventory
from app.inventory.schemas import ItemCreate, LotCreate, StockAdjust
from app.machines import service as machines
from app.machines.schemas import MachineCreate, ValidationCreate
from app.machines.validation import lapsed_days
from app.models import (
    ApiKey,
    Attachment,
    AuditEvent,
    Base,
    CheckResult,
    Employee,
    Equipment,
    Item,
    Lot,
    Machine,
    Template,
    User,
    WebhookSubscription,
    Weld,
    WorkOrder,
    WorkshopEntry,
)
from app.storage import Storage
from app.templates.schemas import TemplateCreate
from app.webhooks.events import EventType
from app.webhooks.service import new_secret
from app.welds import service as welds
from app.welds.schemas import WeldCreate
from app.work_orders import service as work_orders
from app.work_orders.schemas import WorkOrderCreate
from app.wps import service as wps_service
from app.wps.schemas import PassCreate, WpsCreate

# What --force keeps: the accounts and the audit trail (the record of changes), not workshop data.
KEPT_TABLES = frozenset({User.__tablename__, ApiKey.__tablename__, AuditEvent.__tablename__})
SEEDER = Principal("api_key", 0, "seed", Role.admin)


async def is_empty(session: AsyncSession) -> bool:
    for model in (Machine, Employee, WorkOrder, Item):
        if await session.scalar(select(func.count()).select_from(model)):
            return False
    return True


async def wipe(session: AsyncSession, storage: Storage) -> None:
    # The attachments' files first: without their rows nothing would find them again.
    for key in await session.scalars(select(Attachment.storage_key)):
        await storage.delete(key)
    # Children before parents, read from the metadata when called, so a table added later is
    # wiped too instead of blocking its parent's delete.
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in KEPT_TABLES:
            await session.execute(table.delete())


def one_page_pdf(text: str) -> bytes:
    """A one-page PDF of one line of (latin-1) text: the smallest valid file."""
    stream = f"BT /F1 14 Tf 72 770 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def _days(n: int) -> date:
    return clock.today() + timedelta(days=n)


def _at(days: int, hour: int = 9) -> datetime:
    return datetime.combine(_days(days), datetime.min.time(), UTC).replace(hour=hour)


async def seed(session: AsyncSession, storage: Storage) -> dict[str, int]:
    """Fill an empty database; returns how many rows of each kind were made. `storage` keeps
    the attached files (a calibration certificate)."""
    made: dict[str, int] = {}

    machine_rows: list[dict[str, Any]] = [
        {
            "code": "MIG-01",
            "name": "Fronius TPS 500i, cell 1",
            "type": "MIG/MAG",
            "manufacturer": "Fronius",
            "model": "TPS 500i",
            "serial_number": "28170123",
            "location": "Hall A",
            "metadata": {"wire_feeder": "WF 25i", "torch": "MTW 500i"},
        },
        {
            "code": "MIG-02",
            "name": "Kemppi X5 FastMig, cell 2",
            "type": "MIG/MAG",
            "manufacturer": "Kemppi",
            "model": "X5 FastMig 500",
            "location": "Hall A",
        },
        {
            "code": "TIG-01",
            "name": "Kemppi MasterTig 335",
            "type": "TIG",
            "manufacturer": "Kemppi",
            "model": "MasterTig 335ACDC",
            "location": "Hall B",
        },
        {
            "code": "MMA-01",
            "name": "ESAB Renegade ES 300i",
            "type": "MMA",
            "manufacturer": "ESAB",
            "model": "Renegade ES 300i",
            "location": "Site kit",
        },
        {
            "code": "SAW-01",
            "name": "Lincoln Power Wave AC/DC 1000 SD",
            "type": "SAW",
            "manufacturer": "Lincoln Electric",
            "location": "Hall C",
            "status": "maintenance",
        },
        {
            "code": "ROB-01",
            "name": "Yaskawa AR1440 robot cell",
            "type": "robot",
            "manufacturer": "Yaskawa",
            "model": "AR1440",
            "location": "Hall C",
            "metadata": {"controller": "YRC1000", "positioner": "2-axis"},
        },
    ]
    machine_ids = {}
    for row in machine_rows:
        if row["type"] in ("MIG/MAG", "TIG", "MMA"):  # arc welding power sources
            row["validation_interval_days"] = 365
        machine = await crud.create(session, Machine, MachineCreate.model_validate(row))
        machine_ids[row["code"]] = machine.id
    made["machines"] = len(machine_ids)

    export_columns = [
        {"column": "Timestamp", "field": "ts", "type": "datetime", "required": True},
        {"column": "Job", "field": "job", "type": "integer"},
        {"column": "Seam", "field": "seam", "type": "string"},
        {"column": "Arc time [s]", "field": "arc_time_s", "type": "number", "required": True},
        {"column": "Current [A]", "field": "current_a", "type": "number"},
        {"column": "Voltage [V]", "field": "voltage_v", "type": "number"},
        {"column": "Wire [m]", "field": "wire_m", "type": "number"},
        {"column": "Gas [l]", "field": "gas_l", "type": "number"},
    ]
    for name, code in (("Fronius WeldCube export", "MIG-01"), ("Yaskawa cell log", "ROB-01")):
        await crud.create(
            session,
            Template,
            TemplateCreate.model_validate(
                {
                    "name": name,
                    "machine_id": machine_ids[code],
                    "sheet": None,
                    "header_row": 1,
                    "mapping": export_columns,
                    "timestamp_field": "ts",
                    "timezone": "Europe/Ljubljana",
                }
            ),
        )
    made["templates"] = 2

    people = [
        ("E-001", "Ana", "Novak", "welder", "Fabrication", 2016),
        ("E-002", "Marko", "Horvat", "welder", "Fabrication", 2019),
        ("E-003", "Luka", "Kranjc", "welder", "Fabrication", 2021),
        ("E-004", "Petra", "Zupan", "welder", "Robot cell", 2018),
        ("E-005", "Jure", "Potočnik", "welder", "Site", 2023),
        ("E-006", "Nina", "Kovač", "inspector", "Quality", 2015),
        ("E-007", "Tomaž", "Mlakar", "supervisor", "Fabrication", 2012),
        ("E-008", "Maja", "Vidmar", "manager", "Operations", 2010),
    ]
    # The welders' badges, as the machines log them (leading zeros kept: text, not numbers).
    badges = {"E-001": "0457", "E-002": "0458", "E-003": "0461", "E-004": "0502", "E-005": "0519"}
    staff = {}
    for number, first, surname, role, department, year in people:
        person = await crud.create(
            session,
            Employee,
            EmployeeCreate(
                employee_number=number,
                badge=badges.get(number),
                first_name=first,
                last_name=surname,
                email=f"{first.lower()}.{number.lower()}@workshop.example",
                role=role,
                department=department,
                hire_date=date(year, 3, 1),
            ),
        )
        staff[number] = person.id
    made["employees"] = len(staff)

    # Test pieces (ISO 9606-1): process, material group, product, joint, s or t, D, position.
    certificates = [
        ("E-001", "135", "1.1", "P", "BW", 10, None, "PF", 400, -30),  # 3-20 mm, PA PF
        ("E-001", "141", "8.1", "T", "BW", 3, 60, "H-L045", 200, -60),
        ("E-002", "135", "1.1", "P", "FW", 10, None, "PB", 20, -200),  # expires soon, overdue
        ("E-003", "111", "1.2", "P", "BW", 12, None, "PC", 500, -10),
        ("E-004", "135", "1.1", "P", "BW", 8, None, "PA", 700, -90),
        ("E-005", "111", "1.1", "P", "BW", 8, None, "PF", -5, -100),  # expired last week
    ]
    for i, (who, process, group, product, joint, s, d, position, expires, confirmed) in enumerate(
        certificates, 1
    ):
        await employees.create_qualification(
            session,
            staff[who],
            QualificationCreate(
                standard="ISO 9606-1",
                process=process,
                certificate_number=f"TÜV-9606-{2026000 + i}",
                material_group=group,
                product=product,
                joint=joint,
                test_thickness=s,
                test_diameter=d,
                test_position=position,
                transfer_mode="short_circuit" if process == "135" else None,
                revalidation="9.3c",
                issued_on=_days(expires - 1095),
                expires_on=_days(expires),
                last_confirmed_on=_days(confirmed),
            ),
        )
    made["qualifications"] = len(certificates)

    orders = [
        (
            "Acme Cranes d.o.o.",
            "Crane girder HEB 400, 24 fillet welds",
            "E-001",
            "MIG-01",
            "completed",
            "normal",
            -20,
            -30,
            -22,
        ),
        (
            "Acme Cranes d.o.o.",
            "End carriages, 8 pcs",
            "E-002",
            "MIG-02",
            "completed",
            "high",
            -10,
            -18,
            -12,
        ),  # completed late
        (
            "Brodogradilište Split",
            "Deck stiffeners, SAW",
            "E-004",
            "SAW-01",
            "on_hold",
            "normal",
            10,
            -5,
            None,
        ),
        (
            "Brodogradilište Split",
            "Hatch coaming repair",
            "E-003",
            "MMA-01",
            "in_progress",
            "urgent",
            -2,
            -6,
            None,
        ),  # overdue
        (
            "Steel & Co",
            "Stair stringers with landings",
            "E-005",
            "MIG-01",
            "in_progress",
            "normal",
            5,
            -1,
            None,
        ),
        (
            "Steel & Co",
            "Handrails, stainless, TIG",
            "E-001",
            "TIG-01",
            "open",
            "low",
            14,
            None,
            None,
        ),
        (
            "Hidro Gradnja",
            "Penstock segment, root TIG + fill MAG",
            "E-004",
            "ROB-01",
            "open",
            "high",
            3,
            None,
            None,
        ),
        (
            "Hidro Gradnja",
            "Flange welding DN 800",
            None,
            None,
            "open",
            "normal",
            -1,
            None,
            None,
        ),  # overdue, unassigned
        (
            "Agro Tech",
            "Trailer frame prototype",
            "E-002",
            "MIG-02",
            "cancelled",
            "low",
            -15,
            None,
            None,
        ),
        ("Agro Tech", "Frame series, batch 1", "E-003", "MIG-02", "open", "normal", 21, None, None),
    ]
    order_ids = []
    for n, (client, text, welder, on_machine, status, priority, due, start, done) in enumerate(
        orders, 1
    ):
        order = await work_orders.create_work_order(
            session,
            WorkOrderCreate(
                order_id=f"WO-{date.today().year}-{n:04}",
                client=client,
                description=text,
                assigned_welder_id=staff[welder] if welder else None,
                machine_id=machine_ids[on_machine] if on_machine else None,
                wps_number=f"WPS-{100 + n}",
                quantity=1 + n % 4,
                status=status,
                priority=priority,
                due_date=_days(due),
                started_at=_at(start) if start is not None else None,
                completed_at=_at(done, 15) if done is not None else None,
            ),
        )
        order_ids.append(order.id)
    made["work_orders"] = len(order_ids)

    # Two WPS: one approved with its passes, one draft; the welds of the first order use it.
    mag = WpsCreate(
        number="WPS-101",
        standard="ISO 15614-1",
        pqr_references=["WPQR-2024-017"],
        process="135",
        joint="BW",
        material_groups=["1.1", "1.2"],
        thickness_min=3,
        thickness_max=20,
        positions=["PA", "PF"],
        progression="up",
        filler="ISO 14341-A G 42 4 M21 3Si1",
        filler_diameter=1.2,
        gas="M21",
        gas_flow_min=12,
        gas_flow_max=18,
        preheat_min_c=20,
        interpass_max_c=250,
        passes=[
            PassCreate(
                seq=1,
                layer="root",
                current_min=110,
                current_max=150,
                voltage_min=17,
                voltage_max=20,
                travel_speed_min=2,
                travel_speed_max=4,
                heat_input_min=0.4,
                heat_input_max=1.0,
            ),
            PassCreate(
                seq=2,
                layer="fill",
                current_min=200,
                current_max=260,
                voltage_min=24,
                voltage_max=28,
                travel_speed_min=4,
                travel_speed_max=7,
                heat_input_min=0.6,
                heat_input_max=1.4,
            ),
            PassCreate(
                seq=3,
                layer="cap",
                current_min=180,
                current_max=240,
                voltage_min=23,
                voltage_max=27,
                travel_speed_min=3,
                travel_speed_max=6,
                heat_input_min=0.6,
                heat_input_max=1.5,
            ),
        ],
    )
    wps = await wps_service.create_wps(session, mag)
    await wps_service.approve_wps(session, wps.id, SEEDER, None)
    await wps_service.create_wps(
        session,
        WpsCreate.model_validate(
            {**mag.model_dump(), "number": "WPS-102", "joint": "FW", "positions": ["PB"]}
        ),
    )
    made["wps"] = 2
    joints = [("W-1", 10, "PF", "E-001"), ("W-2", 20, "PA", "E-004"), ("W-3", 8, "PA", None)]
    for reference, thickness, position, welder in joints:
        await welds.create_weld(
            session,
            order_ids[0],
            WeldCreate(
                reference=reference,
                wps_id=wps.id,
                joint="BW",
                thickness=thickness,
                position=position,
                material_group="1.1",
                length_mm=1200,
                welder_id=staff[welder] if welder else None,
                override_reason=None
                if welder != "E-004"
                else "Retest booked for next week; supervised by the welding coordinator",
            ),
            SEEDER,
        )
    made["welds"] = len(joints)

    # Equipment with its calibration history: the latest calibration `last` days from today,
    # the one before an interval earlier; CLM-01 is overdue, GAU-01 due within a month.
    assets = [
        ("POS-01", "Positioner 2 t", "positioner", "MIG-01", "operational", -100, 365),
        ("OVN-01", "Electrode drying oven 350 °C", "oven", "MMA-01", "operational", -170, 180),
        ("GAU-01", "Weld gauge set", "gauge", None, "operational", -350, 365),  # due soon
        ("CLM-01", "Clamp meter for WPS checks", "gauge", None, "operational", -400, 365),
        ("FUM-01", "Fume extractor, mobile", "fume_extractor", "TIG-01", "maintenance", None, None),
    ]
    calibrations = 0
    for code, name, kind, on_machine, status, last, interval in assets:
        asset = await equipment.create_equipment(
            session,
            EquipmentCreate(
                code=code,
                name=name,
                type=kind,
                machine_id=machine_ids[on_machine] if on_machine else None,
                status=status,
                calibration_interval_days=interval,
                location="Tool store",
            ),
        )
        if last is None or interval is None:
            continue
        for n, (day, result) in enumerate(((last - interval, "pass"), (last, "adjusted"))):
            await history.add_record(
                session,
                equipment.CALIBRATIONS,
                asset.id,
                CalibrationCreate(
                    calibrated_on=_days(day),
                    result=CheckResult(result if code == "CLM-01" else "pass"),
                    performed_by="Kalibra d.o.o.",
                    certificate_number=f"K-{code}-{n + 1}",
                ),
            )
            calibrations += 1
    made["calibrations"] = calibrations

    # IEC 60974-14: the meters of the arc welding machines are validated once a year; MIG-02's
    # validation has lapsed (and the failed one before it shows in its history).
    validations = [
        ("MIG-01", -120, "pass"),
        ("MIG-02", -420, "fail"),
        ("MIG-02", -410, "pass"),
        ("TIG-01", -340, "pass"),
        ("MMA-01", -30, "adjusted"),
    ]
    for code, day, result in validations:
        await history.add_record(
            session,
            machines.VALIDATIONS,
            machine_ids[code],
            ValidationCreate(
                validated_on=_days(day),
                result=CheckResult(result),
                performed_by="Fronius service" if code.startswith("MIG") else "Kalibra d.o.o.",
                certificate_number=f"V-{code}-{-day}",
            ),
        )
    made["validations"] = len(validations)
    # After the validations: a run is judged with its machine's validation of the day.
    made["runs"] = await _runs(session, machine_ids["MIG-01"])
    made["equipment"] = len(assets)
    gauge = await session.scalar(select(Equipment.id).where(Equipment.code == "GAU-01"))
    assert gauge is not None
    certificate = one_page_pdf(
        f"Calibration certificate - GAU-01 Weld gauge set - calibrated {_days(-350).isoformat()}"
    )
    await attachments.attach(
        session,
        storage,
        "equipment",
        gauge,
        UploadFile(io.BytesIO(certificate), filename="GAU-01 calibration certificate.pdf"),
        SEEDER.label,
        len(certificate),
    )
    made["attachments"] = 1

    inspector = staff["E-006"]
    findings: list[tuple[int, str, str, str, list[dict[str, Any]], str]] = [
        (0, "E-001", "VT", "Pass", [], "C"),
        (0, "E-001", "UT", "Pass", [], "C"),
        (1, "E-002", "VT", "Fail", [{"code": 5011, "description": "undercut", "count": 2}], "C"),
        (1, "E-002", "VT", "Pass", [], "C"),
        (1, "E-002", "MT", "Pass", [], "C"),
        (
            3,
            "E-003",
            "VT",
            "Rework",
            [{"code": 2017, "description": "surface pore", "count": 3}],
            "D",
        ),
        (
            3,
            "E-003",
            "RT",
            "Fail",
            [
                {"code": 2011, "description": "gas pore", "count": 5},
                {"code": 402, "description": "lack of penetration"},
            ],
            "C",
        ),
        (4, "E-005", "VT", "Pass", [{"code": 602, "description": "spatter", "count": 8}], "D"),
        (2, "E-004", "VT", "Pass", [], "B"),
        (2, "E-004", "UT", "Fail", [{"code": 401, "description": "lack of fusion"}], "B"),
        (6, "E-004", "PT", "Pass", [], "B"),
        (
            4,
            "E-005",
            "VT",
            "Rework",
            [
                {"code": 5011, "description": "undercut"},
                {"code": 502, "description": "excess weld metal"},
            ],
            "C",
        ),
    ]
    for n, (order_no, by, method, result, defects, level) in enumerate(findings):
        await inspections.create_inspection(
            session,
            InspectionCreate.model_validate(
                {
                    "work_order_id": order_ids[order_no],
                    "welder_id": staff[by],
                    "inspector_id": inspector,
                    "method": method,
                    "result": result,
                    "weld_reference": f"W-{order_no + 1}-{n % 3 + 1}",
                    "quality_level": level,
                    "defects": defects,
                    "inspected_at": _at(-14 + n),
                }
            ),
        )
    # The first order's registered welds, inspected: what its dossier shows.
    registered = dict(
        (
            await session.execute(
                select(Weld.reference, Weld.id).where(Weld.work_order_id == order_ids[0])
            )
        ).all()
    )
    weld_findings: list[tuple[str, str, str, str, list[dict[str, Any]], str, int]] = [
        ("W-1", "E-001", "VT", "Pass", [], "B", -6),
        (
            "W-2",
            "E-004",
            "RT",
            "Rework",
            [
                {"code": 2011, "description": "gas pore", "count": 3},
                {"code": 401, "description": "lack of fusion", "count": 1},
            ],
            "C",
            -5,
        ),
    ]
    for reference, by, method, result, defects, level, ago in weld_findings:
        await inspections.create_inspection(
            session,
            InspectionCreate.model_validate(
                {
                    "weld_id": registered[reference],
                    "welder_id": staff[by],
                    "inspector_id": inspector,
                    "method": method,
                    "result": result,
                    "quality_level": level,
                    "defects": defects,
                    "inspected_at": _at(ago),
                }
            ),
        )
    made["inspections"] = len(findings) + len(weld_findings)

    stock = [
        ("WIRE-G3SI1-10", "G3Si1 solid wire 1.0 mm, 15 kg", "wire", "kg", 180, 60, 150, "12.40"),
        ("WIRE-G3SI1-12", "G3Si1 solid wire 1.2 mm, 15 kg", "wire", "kg", 45, 60, 150, "12.10"),
        ("WIRE-316LSI-10", "316LSi stainless wire 1.0 mm", "wire", "kg", 12, 10, 30, "38.00"),
        ("ELEC-E7018-32", "E7018 electrodes 3.2 mm, 5 kg", "electrode", "kg", 8, 20, 50, "9.80"),
        ("GAS-M21-50", "Argon/CO2 82/18, 50 l cylinder", "gas", "cylinder", 6, 4, 10, "95.00"),
        ("GAS-AR-50", "Argon 4.6, 50 l cylinder", "gas", "cylinder", 2, 3, 6, "88.00"),
        ("FLUX-OK10-71", "OK Flux 10.71, 25 kg", "flux", "kg", 250, 100, 200, "3.20"),
        ("PPE-GLOVE-TIG", "TIG gloves, size 10", "ppe", "pair", 14, 10, 24, "11.50"),
        ("PPE-FILTER-9-13", "Auto-darkening filter 9-13", "ppe", "pcs", 1, 2, 4, "145.00"),
        ("SP-TIP-M8-12", "Contact tip M8 1.2 mm", "spare_part", "pcs", 300, 100, 500, "0.85"),
    ]
    for sku, item_name, category, unit, quantity, reorder_at, reorder, cost in stock:
        await inventory.create_item(
            session,
            ItemCreate(
                item_id=sku,
                item_name=item_name,
                category=category,
                unit=unit,
                quantity=Decimal(quantity),
                reorder_level=Decimal(reorder_at),
                reorder_quantity=Decimal(reorder),
                location="Store 1",
                supplier="Elektrode Jesenice" if category != "gas" else "Messer",
                unit_cost=Decimal(cost),
            ),
            SEEDER,
        )
    made["items"] = len(stock)
    made["lots"] = await _lots(session, order_ids[0])
    # The first order's drawing and the first heat's 3.1 certificate: what its dossier lists.
    heat = await session.scalar(select(Lot.id).where(Lot.lot_number == "H-23117"))
    assert heat is not None
    for owner, owner_id, name, text in (
        ("workorders", order_ids[0], "weld map rev B.pdf", "Weld map, rev B: W-1 W-2 W-3"),
        ("lots", heat, "EN 10204 3.1 H-23117.pdf", "Inspection certificate 3.1, heat H-23117"),
    ):
        document = one_page_pdf(text)
        await attachments.attach(
            session,
            storage,
            owner,
            owner_id,
            UploadFile(io.BytesIO(document), filename=name),
            SEEDER.label,
            len(document),
        )
    made["attachments"] += 2
    # A webhook to show the shape: inactive, its URL an example (an admin points it somewhere).
    session.add(
        WebhookSubscription(
            name="Quality office (example)",
            url="https://hooks.example.com/workshop",
            events=[
                EventType.qualification_lapsing.value,
                EventType.calibration_overdue.value,
                EventType.stock_reorder.value,
                EventType.work_order_overdue.value,
            ],
            secret=new_secret(),
            active=False,
        )
    )
    made["webhooks"] = 1
    return made


RUN_MAPPING: list[dict[str, Any]] = [
    {"column": "Timestamp", "field": "ts", "type": "datetime", "required": True},
    {"column": "Welder ID", "field": "welder_badge", "type": "string"},
    {"column": "Job", "field": "job_number", "type": "string"},
    {"column": "Part", "field": "order_id", "type": "string"},
    {"column": "Seam", "field": "weld_reference", "type": "string"},
    {"column": "Layer", "field": "pass_seq", "type": "integer"},
    {"column": "I mean [A]", "field": "current_a", "type": "number"},
    {"column": "U mean [V]", "field": "voltage_v", "type": "number"},
    {"column": "Wire feed [m/min]", "field": "wire_feed_mm_s", "type": "number", "unit": "m/min"},
    {"column": "Arc time [s]", "field": "arc_time_s", "type": "number"},
    {"column": "Seam length [mm]", "field": "length_mm", "type": "number"},
    {"column": "State", "field": "vendor_ok", "type": "boolean"},
]


async def _runs(session: AsyncSession, machine_id: int) -> int:
    """A WeldCube run template with its job map, and the first order's welds as the machine
    logged them, judged as an import would: in range, a fill pass over its current, a welder
    without a qualification for the weld, a tack."""
    template = await crud.create(
        session,
        Template,
        TemplateCreate.model_validate(
            {
                "name": "Fronius WeldCube runs",
                "machine_id": machine_id,
                "mapping": RUN_MAPPING,
                "timestamp_field": "ts",
                "timezone": "Europe/Ljubljana",
                "min_arc_time_s": 2,
                "job_map": {"5": "WPS-101", "6": "WPS-101"},
            }
        ),
    )
    order = await session.scalar(select(WorkOrder.order_id).order_by(WorkOrder.id).limit(1))
    # (weld, badge, pass, current A, voltage V, wire m/min, arc s, length mm, days ago)
    logged = [
        ("W-1", "0457", 1, 132, 18.5, 4.2, 95, 300, 9),
        ("W-1", "0457", 2, 236, 26.1, 9.8, 70, 350, 9),
        ("W-1", "0457", 3, 214, 25.0, 8.6, 80, 320, 9),
        ("W-2", "0502", 1, 128, 18.0, 4.0, 100, 300, 8),
        ("W-2", "0502", 2, 275, 27.5, 11.0, 60, 330, 8),  # over the fill's 260 A
        ("W-3", "0458", 1, 140, 19.0, 4.4, 1.4, 6, 7),  # a tack
        ("W-3", "0458", 1, 126, 18.2, 4.1, 90, 280, 7),
    ]
    ctx = await conformance.context(session, template)
    judge = Judge(ctx, [m["field"] for m in RUN_MAPPING])
    gate = conformance.QualificationCheck(session)
    entries: list[tuple[int, datetime, dict[str, Any], dict[str, Any]]] = []
    for n, (weld, badge, seq, amps, volts, wire, arc, length, ago) in enumerate(logged):
        at = _at(-ago, 7) + timedelta(minutes=20 * n)
        data: dict[str, Any] = {
            "ts": at.isoformat().replace("+00:00", "Z"),
            "welder_badge": badge,
            "job_number": "5",
            "order_id": order,
            "weld_reference": weld,
            "pass_seq": seq,
            "current_a": amps,
            "voltage_v": volts,
            "wire_feed_mm_s": round(wire * 1000 / 60, 3),
            "arc_time_s": arc,
            "length_mm": length,
            "vendor_ok": amps < 270,
        }
        if arc < 2:
            data["tack"] = True
        judged = judge.judge(data)
        entries.append((n, at, data, judged.columns))
    runs = [(columns, workshop_day(at)) for _, at, _, columns in entries]
    await gate.apply(runs)
    conformance.mark_unvalidated(runs, await lapsed_days(session, machine_id))
    for n, at, data, columns in entries:
        session.add(
            WorkshopEntry(
                template_id=template.id,
                machine_id=machine_id,
                row_number=n + 2,
                recorded_at=at,
                data=data,
                **columns,
            )
        )
    await session.flush()
    # The day totals an import keeps (ADR 0019, 0040), counted by the same code.
    tallies = entry_totals.tally_entries(
        (template.id, machine_id, at, data) for _, at, data, _ in entries
    )
    for (template_id, machine), tally in tallies.items():
        await entry_totals.add(session, template_id, machine, tally.rows())
    counted = conformance_totals.tally(
        (day, machine_id, *(columns[c] for c in conformance.TOTALLED)) for columns, day in runs
    )
    await conformance_totals.add(session, await conformance_totals.fold(session, counted))
    return len(entries)


async def _lots(session: AsyncSession, order_id: int) -> int:
    """Two heats of the 1.2 mm wire with their certificates' numbers, and what the first
    order's welds took of them: what a recall reads."""
    wire = await session.scalar(select(Item).where(Item.item_id == "WIRE-G3SI1-12"))
    assert wire is not None
    heats = []
    for number, quantity, received in (("H-23117", 15, -40), ("H-23184", 15, -12)):
        heats.append(
            await lots.create_lot(
                session,
                wire.id,
                LotCreate(
                    lot_number=number,
                    supplier="Elektrode Jesenice",
                    received_on=_days(received),
                    expires_on=_days(received + 730),
                    quantity=Decimal(quantity),
                    notes="EN 10204 3.1 certificate with the delivery",
                ),
                SEEDER,
            )
        )
    references = dict(
        (
            await session.execute(
                select(Weld.reference, Weld.id).where(Weld.work_order_id == order_id)
            )
        ).all()
    )
    for heat, weld, taken in ((0, "W-1", "2.4"), (0, "W-2", "3.1"), (1, "W-2", "0.8")):
        await inventory.move(
            session,
            wire.id,
            StockAdjust(
                delta=-Decimal(taken),
                reason=f"welded {weld}",
                lot_id=heats[heat].id,
                weld_id=references[weld],
            ),
            SEEDER,
        )
    return len(heats)

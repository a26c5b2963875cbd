"""The dossier as a PDF, with fpdf2 (pure Python, from the package index alone). Text is laid
out in the embedded DejaVu Sans (fonts/, Bitstream Vera licence), so names such as Potočnik
print as written; pages break by themselves and carry "page n of m"."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from app.core.clock import workshop_day
from app.dossier.schemas import Dossier, DossierInspection, DossierLot, DossierWeld

FONTS = Path(__file__).parent / "fonts"
FONT = "DejaVu"


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.title_text = title
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title(title)
        self.set_creator("welding workshop backend")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 5, f"{self.title_text} · page {self.page_no()} of {{nb}}", align="C")

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(2)
        self.set_font(FONT, "B", size)
        self.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=9)

    def line_of(self, label: str, value: Any) -> None:
        self.set_font(FONT, "B", 9)
        self.cell(45, 5, label)
        self.set_font(FONT, size=9)
        self.multi_cell(0, 5, _text(value), new_x="LMARGIN", new_y="NEXT")

    def bullet(self, text: str) -> None:
        self.set_x(self.l_margin + 4)
        self.multi_cell(0, 5, f"• {text}", new_x="LMARGIN", new_y="NEXT")


def _day(instant: Any) -> str:
    """The workshop's day of an instant (a datetime, or ISO text from JSON)."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return workshop_day(instant).isoformat()


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render(dossier: Dossier) -> bytes:
    order = dossier.work_order
    pdf = _Pdf(f"Dossier {order['order_id']}")
    pdf.add_page()
    pdf.heading(f"Work-order dossier {order['order_id']}", 16)
    for label, key in (
        ("Client", "client"),
        ("Description", "description"),
        ("Status", "status"),
        ("Quantity", "quantity"),
        ("Due", "due_date"),
        ("Started", "started_at"),
        ("Completed", "completed_at"),
        ("WPS on the order", "wps_number"),
    ):
        pdf.line_of(label, order.get(key))
    pdf.line_of("Generated", f"{dossier.generated_at:%Y-%m-%d %H:%M} UTC")

    for weld in dossier.welds:
        _weld(pdf, weld)

    pdf.heading("Lots used in the work order")
    _lots(pdf, dossier.lots)
    if dossier.inspections:
        pdf.heading("Inspections of the work order")
        _inspections(pdf, dossier.inspections)
    pdf.heading("Attachments of the work order")
    _attachments(pdf, dossier.attachments)

    audit = dossier.audit
    pdf.heading("Audit trail")
    actions = ", ".join(f"{n} {action}" for action, n in sorted(audit.by_action.items()))
    pdf.line_of("Events", f"{audit.events} ({actions})" if audit.events else 0)
    pdf.line_of("First", f"{audit.first_at:%Y-%m-%d %H:%M} UTC" if audit.first_at else None)
    pdf.line_of("Last", f"{audit.last_at:%Y-%m-%d %H:%M} UTC" if audit.last_at else None)
    for event in audit.recent:
        changed = ", ".join(sorted(event["changes"]))
        who = event["actor"]["name"] or event["actor"]["kind"]
        pdf.bullet(
            f"{event['at'][:16].replace('T', ' ')} {who}: {event['action']} "
            f"{event['resource']} {event['resource_id']}" + (f" ({changed})" if changed else "")
        )
    return bytes(pdf.output())


def _weld(pdf: _Pdf, weld: DossierWeld) -> None:
    pdf.heading(f"Weld {weld.reference}")
    size = f"t {weld.thickness:g} mm" + (f", D {weld.diameter:g} mm" if weld.diameter else "")
    pdf.line_of(
        "Joint",
        f"{weld.joint}, {size}, position {weld.position}, group {_text(weld.material_group)}, "
        f"process {_text(weld.process)}, status {weld.status}",
    )
    wps = weld.wps
    pdf.line_of(
        "WPS", f"{wps.number} rev {wps.revision} ({wps.status}, {wps.standard})" if wps else None
    )
    welder = weld.welder
    pdf.line_of(
        "Welder",
        f"{welder.name} ({welder.employee_number}, badge {_text(welder.badge)})"
        if welder
        else None,
    )
    q = weld.qualification
    if q is not None:
        verdict = "qualified" if q.qualified else "NOT qualified"
        cert = f"cert {q.certificate_number} ({q.standard})" if q.certificate_number else "no cert"
        pdf.line_of("Qualification", f"{verdict} on {q.on}: {cert}")
        for reason in q.reasons:
            pdf.bullet(reason)
    if weld.override:
        o = weld.override
        pdf.line_of("Override", f"by {o['by']} on {_day(o['at'])}: {o['reason']}")
    runs = weld.conformance
    span = (
        f", {_day(runs.first_at)} to {_day(runs.last_at)}" if runs.first_at and runs.last_at else ""
    )
    pdf.line_of(
        "Runs",
        f"{runs.runs}: {runs.passed} in range, {runs.failed} failed, "
        f"{runs.not_checkable} not checkable{span}",
    )
    for failing in runs.failing:
        pdf.bullet(failing)
    pdf.line_of("Lots", None if weld.lots else "none recorded")
    _lots(pdf, weld.lots)
    pdf.line_of("Inspections", None if weld.inspections else "none")
    _inspections(pdf, weld.inspections)
    if weld.attachments:
        pdf.line_of("Attachments", "")
        _attachments(pdf, weld.attachments)


def _lots(pdf: _Pdf, lots: list[DossierLot]) -> None:
    for lot in lots:
        pdf.bullet(f"lot {lot.lot_number} of {lot.item_name}: {lot.quantity:g}")


def _inspections(pdf: _Pdf, inspections: list[DossierInspection]) -> None:
    for i in inspections:
        level = f", ISO 5817 level {i.quality_level}" if i.quality_level else ""
        by = f" by {i.inspector}" if i.inspector else ""
        pdf.bullet(f"{_day(i.inspected_at)} {i.method}: {i.result}{level}{by}")
        for defect in i.defects:
            pdf.set_x(pdf.l_margin + 10)
            what = f" {defect.description}" if defect.description else ""
            pdf.multi_cell(
                0,
                5,
                f"ISO 6520-1 {defect.code}{what}, count {defect.count}",
                new_x="LMARGIN",
                new_y="NEXT",
            )


def _attachments(pdf: _Pdf, attachments: list[Any]) -> None:
    if not attachments:
        pdf.bullet("none")
    for a in attachments:
        pdf.bullet(f"{a.filename} ({a.content_type}, {a.size:,} bytes)")

"""Reference documents generated from the code: `workshop docs` writes them; a test fails when
the committed copies are stale."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql

from app.models import Base


def api_reference(spec: dict[str, Any]) -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the OpenAPI spec by `workshop docs`; do not edit. The live, interactive",
        "version is at `/docs` (development) and the spec at `/openapi.json`. Each operation's",
        "id is the name a generated client gives its method (docs/API_Clients.md).",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((path, method, op))
    for tag in sorted(by_tag):
        lines += [f"## {tag}", ""]
        for path, method, op in by_tag[tag]:
            lines.append(f"### `{method.upper()} {path}`")
            lines.append("")
            description = " ".join((op.get("description") or op.get("summary", "")).split())
            lines += [description, "", f"Operation id: `{op['operationId']}`.", ""]
            params = [p for p in op.get("parameters", []) if p["in"] in ("query", "header")]
            if params:
                names = ", ".join(f"`{p['name']}`" for p in params)
                lines += [f"Parameters: {names}.", ""]
            codes = ", ".join(sorted(op.get("responses", {})))
            lines += [f"Responses: {codes}.", ""]
    return "\n".join(lines).rstrip() + "\n"


def database_schema() -> str:
    lines = [
        "# Database schema",
        "",
        "Generated from the SQLAlchemy models by `workshop docs`; do not edit. Types as on",
        "PostgreSQL; migrations in `migrations/versions` create the same on every database.",
        "",
    ]
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for table in Base.metadata.sorted_tables:
        lines += [f"## `{table.name}`", "", "| column | type | null | notes |", "|---|---|---|---|"]
        for column in table.columns:
            notes = []
            if column.primary_key:
                notes.append("primary key")
            notes += [
                f"→ `{fk.column.table.name}.{fk.column.name}`"
                + (f" ({fk.ondelete.lower()})" if fk.ondelete else "")
                for fk in column.foreign_keys
            ]
            if column.unique:
                notes.append("unique")
            if column.index:
                notes.append("indexed")
            kind = column.type.compile(dialect=dialect)
            lines.append(
                f"| `{column.name}` | {kind} | {'yes' if column.nullable else 'no'} | "
                f"{', '.join(notes)} |"
            )
        names = [str(c.name) for c in table.constraints if c.name]
        extra = [n for n in names if n.startswith(("uq_", "ck_"))]
        extra += [str(i.name) for i in table.indexes if i.name and len(i.columns) > 1]
        if extra:
            lines += [
                "",
                "Constraints and composite indexes: "
                + ", ".join(f"`{n}`" for n in sorted(extra))
                + ".",
            ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"

"""Routers stay thin: no Repository, no SQL statement, no commit of their own.

A router parses, declares its permission, calls one function (a crud helper or a domain
service) and returns; the request's session dependency commits (docs/Contributing.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import app

ROUTERS = sorted(Path(app.__file__).parent.glob("*/router.py"))
DATA_METHODS = frozenset({"commit", "execute", "scalar", "scalars", "repo"})


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        line = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = {alias.name for alias in node.names}
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            if names & {"Repository", "app.core.repository"}:
                found.append(f"{line}: imports Repository")
        elif _name(node) == "Repository":
            found.append(f"{line}: uses Repository")
        elif isinstance(node, ast.Call):
            called = _name(node.func)
            if isinstance(node.func, ast.Attribute) and called in DATA_METHODS:
                found.append(f"{line}: calls .{called}(")
            elif called == "select":
                found.append(f"{line}: builds select(")
    return found


def test_every_router_is_checked() -> None:
    names = {path.parent.name for path in ROUTERS}
    assert {"machines", "scheduler", "imports", "work_orders"} <= names


@pytest.mark.parametrize("router", ROUTERS, ids=lambda path: path.parent.name)
def test_router_leaves_the_data_layer_to_crud_and_services(router: Path) -> None:
    assert violations(router.read_text()) == [], router


def test_the_check_finds_what_it_forbids() -> None:
    source = """
from sqlalchemy import select
from app.core.repository import Repository
import app.core.repository

async def route(session, service):
    await service.repo(session).get(1)
    await session.execute(select(Machine))
    await session.scalar(sa.select(Machine.id))
    await session.scalars(select(Machine))
    await session.commit()
    Repository(session, Machine)
"""
    found = " | ".join(violations(source))
    for what in (
        "line 3: imports Repository",
        "line 4: imports Repository",
        "uses Repository",
        ".repo(",
        ".execute(",
        ".scalar(",
        ".scalars(",
        ".commit(",
        "select(",
    ):
        assert what in found, what
    assert violations("async def route(session):\n    return await crud.get(session, M, 1)\n") == []

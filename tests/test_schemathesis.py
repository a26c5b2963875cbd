"""Schemathesis against the app's own OpenAPI spec, from ASGI, as admin and as viewer.

The default checks run: no 5xx, responses match their schema, status codes, content types and
`Allow` headers are declared, data outside the schema is rejected, auth is not ignored. Each
operation gets up to SCHEMATHESIS_EXAMPLES positive and negative examples (default 10).

One default check is left out, `positive_data_acceptance`: it counts any 422 for data the
schema allows as a failure, and this API rightly answers 422 to schema-valid bodies whose
references name missing rows ("machines 0 does not exist"), that break a rule across fields
(last_confirmed_on before issued_on) or a rule of the deployment (IMPORT_SOURCE_ROOTS).
What the schema can say, it says (64-bit integers, years 1900-2999, fields that may not be
null): see app/core/openapi.py and docs/Architecture_Decisions.md (ADR 0016).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from schemathesis import GenerationMode
from schemathesis.config import HealthCheck
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.engine import URL

from app.api_keys import service as api_keys
from app.auth.roles import Role
from app.core import migrations
from app.core.db import Database
from app.main import create_app
from tests.conftest import make_settings
from tests.databases import provision_database, selected_backends

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
CASES = {"sent": 0}  # reported at the end of the run (tests/conftest.py)


BACKENDS = [b for b in selected_backends() if b in ("sqlite", "postgresql")]


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[BlockingPortal, URL]]:
    """A migrated database of its own; the test is synchronous (Schemathesis drives the app on
    its own event loop), so the async set-up runs on a portal."""
    with start_blocking_portal() as portal:
        workdir = tmp_path_factory.mktemp("fuzz")
        with portal.wrap_async_context_manager(provision_database(request.param, workdir)) as url:
            migrations.upgrade(url)
            yield portal, url


async def _create_key(url: URL, role: Role) -> dict[str, str]:
    database = Database(make_settings(), url)
    try:
        _, key = await database.run(
            lambda s: api_keys.create_api_key(s, name=f"fuzz {role.value}", role=role)
        )
    finally:
        await database.dispose()
    return {"Authorization": f"Bearer {key}"}


class Target:
    """The ASGI app Schemathesis calls: the schema (and its operations) are built when the
    module is collected, the app under test per database by the fixture below."""

    app: FastAPI | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.app is not None, "the fuzz_app fixture sets the app under test"
        await self.app(scope, receive, send)


TARGET = Target()
schema = schemathesis.openapi.from_dict(create_app(make_settings()).openapi())
schema.app = TARGET
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES
)
# Dates must match the year pattern, so the generator discards many candidates; that is the
# spec being precise, not the app failing.
schema.config.update(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def fuzz_app(
    fuzz_database: tuple[BlockingPortal, URL], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, dict[Role, dict[str, str]]]]:
    portal, url = fuzz_database
    keys = {role: portal.call(_create_key, url, role) for role in (Role.admin, Role.viewer)}
    settings = make_settings(
        database_url=url.render_as_string(hide_password=False),
        upload_dir=tmp_path_factory.mktemp("uploads"),
        rate_limit_enabled=False,
    )
    # Its own Database, opened by the lifespan on Schemathesis' event loop.
    TARGET.app = create_app(settings)
    yield TARGET.app, keys
    shutdown_lifespans()  # closes this app's database before the database is dropped
    TARGET.app = None


@pytest.mark.parametrize("role", [Role.admin, Role.viewer], ids=lambda r: r.value)
@schema.parametrize()
def test_api(
    case: schemathesis.Case, role: Role, fuzz_app: tuple[FastAPI, dict[Role, dict[str, str]]]
) -> None:
    _, keys = fuzz_app
    CASES["sent"] += 1
    case.call_and_validate(headers=keys[role], excluded_checks=[positive_data_acceptance])

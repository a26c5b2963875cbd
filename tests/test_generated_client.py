"""A typed client generated from the spec compiles and works against a real server.

The generator is OpenAPI Generator, the one the Flutter app's client comes from (`-g dart-dio`
there, `-g python` here: this machine has no Dart SDK). It runs on Java, from the jar that the
`openapi-generator-cli` package ships. One database (SQLite, its own file): what is tested is
the spec, not a backend.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.resources
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.api_keys import service as api_keys
from app.auth.roles import Role
from app.core import migrations
from app.core.db import Database
from app.main import create_app
from tests.conftest import make_settings
from tests.test_smoke import WORKSHOP, free_port

PACKAGE = "workshop_client"


def java() -> str:
    found = shutil.which("java")
    if found is None:
        message = "no Java runtime: OpenAPI Generator runs on it"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def generate(spec: dict[str, Any], out: Path) -> subprocess.Popen[str]:
    """Starts OpenAPI Generator on `spec`, for a Python client in `out`: its source only (no
    docs, tests or packaging); the JVM's quick compiler alone, for a run of seconds."""
    jar = importlib.resources.files("openapi_generator_cli") / "openapi-generator.jar"
    path = out / "openapi.json"
    path.write_text(json.dumps(spec))
    command = [java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", str(jar)]
    command += ["generate", "-i", str(path), "-g", "python", "-o", str(out)]
    command += ["--package-name", PACKAGE, "--additional-properties=generateSourceCodeOnly=true"]
    command += ["--global-property=apiTests=false,modelTests=false,apiDocs=false,modelDocs=false"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def import_client(out: Path) -> ModuleType:
    """The generated package, every module of it imported: the whole client compiles."""
    sys.path.insert(0, str(out))
    try:
        client = importlib.import_module(PACKAGE)
        for module in sorted((out / PACKAGE).glob("**/*.py")):
            name = ".".join(module.relative_to(out).with_suffix("").parts)
            importlib.import_module(name.removesuffix(".__init__"))
    finally:
        sys.path.remove(str(out))
    return client


@contextmanager
def serving(workdir: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    """The API served by uvicorn on loopback, on a migrated SQLite file, with an admin key."""
    url = f"sqlite+aiosqlite:///{workdir / 'client.db'}"
    migrations.upgrade(url)
    key = asyncio.run(admin_key(url))
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}  # its pipe is read at exit
    env.pop("CI", None)
    process = subprocess.Popen(
        [WORKSHOP, "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", key, process
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """End a child process: politely, then for sure."""
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


async def admin_key(url: str) -> str:
    database = Database(make_settings(), make_url(url))
    try:
        _, key = await database.run(
            lambda s: api_keys.create_api_key(s, name="client", role=Role.admin)
        )
    finally:
        await database.dispose()
    return key


def wait_for(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60  # a loaded machine starts Python slowly
    while True:
        try:
            httpx.get(f"{base}/health", timeout=1)
            return
        except httpx.TransportError:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)


def test_a_generated_client_runs_a_scenario(tmp_path: Path) -> None:
    """Create a machine, list, get, patch with If-Match, delete; a stale ETag is a 412 the
    client raises with the problem body; an export downloads as bytes."""
    out = tmp_path / "client"
    out.mkdir()
    generator = generate(create_app(make_settings()).openapi(), out)
    with serving(tmp_path) as (base, key, server):  # while the client is generated
        try:
            output, _ = generator.communicate(timeout=150)
        finally:
            if generator.poll() is None:  # timed out: never leave the Java process behind
                stop(generator)
        assert generator.returncode == 0, output[-4000:]
        client = import_client(out)
        api = importlib.import_module(f"{PACKAGE}.api")
        models = importlib.import_module(f"{PACKAGE}.models")
        wait_for(base, server)
        scenario(client, api, models, base, key)


def scenario(client: Any, api: Any, models: Any, base: str, key: str) -> None:
    with client.ApiClient(client.Configuration(host=base)) as http:
        http.set_default_header("Authorization", f"Bearer {key}")
        machines = api.MachinesApi(http)
        made = machines.machines_create(
            models.MachineCreate(code="MIG-01", name="Fronius TPS 500i", type="TIG")
        )
        assert isinstance(made, models.MachineRead)
        assert made.code == "MIG-01"

        page = machines.machines_list(q="MIG")
        assert isinstance(page, models.MachinePage)
        assert [m.id for m in page.items] == [made.id]
        assert page.total == 1

        read = machines.machines_get_with_http_info(made.id)
        assert read.status_code == 200
        assert read.data.name == "Fronius TPS 500i"
        etag = {name.lower(): value for name, value in read.headers.items()}["etag"]

        changed = machines.machines_update(
            made.id, models.MachineUpdate(location="Cell 2"), if_match=etag
        )
        assert changed.location == "Cell 2"
        assert changed.version == made.version + 1

        with pytest.raises(client.exceptions.ApiException) as stale:
            machines.machines_delete(made.id, if_match=etag)
        assert stale.value.status == 412
        assert json.loads(stale.value.body)["error_code"] == "PRECONDITION_FAILED"

        machines.machines_delete(made.id, if_match=f'"{changed.version}"')
        with pytest.raises(client.exceptions.NotFoundException):
            machines.machines_get(made.id)

        workbook = api.WorkOrdersApi(http).workorders_export(format="xlsx")
        assert isinstance(workbook, bytes | bytearray)
        assert workbook[:2] == b"PK"  # a zip: the xlsx container

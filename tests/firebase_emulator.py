"""The Firebase Auth emulator for the tests (npm firebase-tools, installed into .cache/ by
scripts/ensure-services.sh), on free loopback ports, once per test session."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIREBASE = ROOT / ".cache/firebase-tools/node_modules/.bin/firebase"
PROJECT = "demo-workshop"


@dataclass(frozen=True)
class Emulator:
    host: str  # host:port, the value of FIREBASE_AUTH_EMULATOR_HOST

    def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"http://{self.host}/identitytoolkit.googleapis.com/v1/accounts:{method}?key=fake"
        response = httpx.post(url, json=body, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def sign_up(self, email: str, password: str = "s3cret-pass") -> tuple[str, str]:
        """(uid, id token) of a new account."""
        body = self._call(
            "signUp", {"email": email, "password": password, "returnSecureToken": True}
        )
        return body["localId"], body["idToken"]

    def sign_in(self, email: str, password: str = "s3cret-pass") -> str:
        body = {"email": email, "password": password, "returnSecureToken": True}
        return str(self._call("signInWithPassword", body)["idToken"])

    def clear(self) -> None:
        httpx.delete(f"http://{self.host}/emulator/v1/projects/{PROJECT}/accounts", timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def firebase_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    if not FIREBASE.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("firebase-tools is missing: scripts/ensure-services.sh installs it")
        pytest.skip("firebase-tools is not installed (run scripts/ensure-services.sh)")
    folder = tmp_path_factory.mktemp("firebase")
    auth, hub, logging = _free_port(), _free_port(), _free_port()
    (folder / "firebase.json").write_text(
        json.dumps(
            {
                "emulators": {
                    "auth": {"host": "127.0.0.1", "port": auth},
                    "hub": {"host": "127.0.0.1", "port": hub},
                    "logging": {"host": "127.0.0.1", "port": logging},
                    "ui": {"enabled": False},
                    "singleProjectMode": True,
                }
            }
        )
    )
    log = (folder / "emulator.log").open("wb")
    env = {**os.environ, "HOME": str(folder)}
    proc = subprocess.Popen(
        [str(FIREBASE), "emulators:start", "--only", "auth", "--project", PROJECT],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    emulator = Emulator(f"127.0.0.1:{auth}")
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                httpx.get(f"http://{emulator.host}/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "the Auth emulator did not start: "
                        + (folder / "emulator.log").read_text()[-2000:]
                    )
                time.sleep(0.3)
        yield emulator
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()

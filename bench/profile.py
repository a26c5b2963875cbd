"""Where a request's time goes under load: py-spy samples the server while wrk drives it.

Used by `bench/lists.py --profile`. py-spy (a dev dependency) needs ptrace, which root has.

Only samples taken while the worker's thread holds the GIL count (`py-spy --gil`): that is the
time one worker can spend on requests, so the shares say what a request costs. Each sample goes
to the innermost frame that belongs to a known component (`COMPONENTS`, in order): SQLAlchemy
decoding rows called from our code counts as SQLAlchemy; our code's own lines count as ours.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

# (component, pattern searched in a frame "function (path/file.py)"); the first match wins.
COMPONENTS = [
    ("FastAPI route matching", r"(match|_routes_version|effective_candidates).* \(.*routing\.py"),
    ("FastAPI dependencies and parameters", r"fastapi/dependencies"),
    ("pydantic (validate, serialize)", r"pydantic"),
    ("SQLAlchemy (session, compile, rows)", r"sqlalchemy"),
    ("SQLite driver (aiosqlite, app/core/sqlite.py)", r"aiosqlite|app/core/sqlite\.py"),
    ("middleware and server (ours, Starlette, uvicorn)",
     r"starlette|uvicorn|asgi_correlation_id|fastapi/|app/core/(middleware|ratelimit)"),
    ("our routes and services (app/)", r"\(app/"),
    ("event loop (asyncio)", r"asyncio|selectors"),
]  # fmt: skip


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        sys.exit("--profile needs py-spy: uv sync (it is a dev dependency)")
    return found


def worker_pid(server_pid: int) -> int:
    """The uvicorn worker: the server process itself with one worker, else its first child."""
    children = subprocess.run(
        ["pgrep", "-P", str(server_pid)], capture_output=True, text=True
    ).stdout.split()
    return int(children[0]) if children else server_pid


def record(pid: int, seconds: int) -> Path:
    out = Path(tempfile.mkdtemp(prefix="workshop-spy-")) / "samples.txt"
    subprocess.run(
        [
            py_spy(),
            "record",
            "--gil",
            "--nonblocking",
            "-r",
            "250",
            "-d",
            str(seconds),
            "--format",
            "raw",
            "-o",
            str(out),
            "--pid",
            str(pid),
        ],
        check=True,
        capture_output=True,
    )
    return out


def shares(
    samples: Path, seconds: int, rate: int = 250
) -> tuple[float, Counter[str], Counter[str]]:
    """(share of the time the GIL was held, samples per component, samples per leaf function)."""
    components: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in samples.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        leaves[frames[-1] or "(a frame py-spy could not name)"] += n
        for frame in reversed(frames):
            name = next((c for c, pattern in COMPONENTS if re.search(pattern, frame)), None)
            if name is not None:
                components[name] += n
                break
        else:
            components["other"] += n
    return total / (seconds * rate), components, leaves


def rows(held: float, components: Counter[str], leaves: Counter[str]) -> list[list[object]]:
    total = sum(components.values()) or 1
    out: list[list[object]] = [["GIL held (of wall time)", f"{held:.0%}"]]
    out += [[name, f"{n / total:.0%}"] for name, n in components.most_common()]
    out += [[f"  top: {leaf}", f"{n / total:.1%}"] for leaf, n in leaves.most_common(6)]
    return out

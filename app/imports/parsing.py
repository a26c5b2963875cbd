"""Start the parser process (app/imports/parser.py) for a job and read its messages as they come.

The process gets a small environment of its own (`parser_environment`), not the API's: it
parses untrusted files, so it is never handed the credentials the API runs with. At most
IMPORT_MAX_PARSERS of them run at once in one API process (`Parsers`, owned by the app's
Importer): a request waits up to IMPORT_PARSER_WAIT_SECONDS for a turn, then gets 503 with
Retry-After, so uploads, dry runs and errors workbooks cannot start parsers without bound.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import replace

from app.core import clock
from app.core.config import Settings
from app.core.errors import ServiceUnavailable, problem
from app.core.logger import get_logger
from app.imports.protocol import End, Failure, Message, ParserJob, ProtocolError, decode

log = get_logger(__name__)
PARSER = ("-m", "app.imports.parser")  # what the interpreter runs (tests swap in a probe)
# All the parser process sees of the API's environment: enough to start Python and read text.
# Never the database URL, cloud keys or Firebase credentials, which a file that subverts the
# spreadsheet library could otherwise read from its own environment.
_PASSED_ON = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "PYTHONPATH",
    # Set only while coverage measures the suite (pyproject: patch = subprocess), so that the
    # parser process is measured too.
    "COVERAGE_PROCESS_CONFIG",
    "COVERAGE_PROCESS_START",
)


def parser_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_ON if name in os.environ}
    env["TMPDIR"] = tempfile.gettempdir()
    return env


class ParsersBusy(ServiceUnavailable):
    error_code, title = "PARSERS_BUSY", "Busy reading other files"


class Parsers:
    """The parser processes of one API process: at most IMPORT_MAX_PARSERS at once."""

    def __init__(self, settings: Settings) -> None:
        self.wait = settings.import_parser_wait_seconds
        self._free = asyncio.Semaphore(settings.import_max_parsers)
        self._exclusive: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def slot(self, *, patient: bool = False) -> AsyncIterator[None]:
        """A turn to run one parser. A caller someone waits for (a request) waits up to
        IMPORT_PARSER_WAIT_SECONDS, then gets 503; a `patient` one (an import already in the
        background, a scheduled run) waits for its turn however long the queue is."""
        if patient:
            await self._free.acquire()
        else:
            try:
                async with asyncio.timeout(self.wait):
                    await self._free.acquire()
            except TimeoutError:
                raise ParsersBusy(
                    f"Every parser is busy (IMPORT_MAX_PARSERS) and none was free within "
                    f"{self.wait:g} s; try again shortly",
                    headers={"Retry-After": str(max(1, math.ceil(self.wait)))},
                ) from None
        try:
            yield
        finally:
            self._free.release()

    @asynccontextmanager
    async def exclusive(self, key: Hashable) -> AsyncIterator[None]:
        """One holder at a time per key: parallel requests for the same work (an import's
        errors workbook) wait for the first to do it instead of each running a parser."""
        lock, users = self._exclusive.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._exclusive[key]


async def run_parser(
    settings: Settings, job: ParserJob, parsers: Parsers, *, patient: bool = False
) -> AsyncGenerator[Message, None]:
    """The parser's messages for `job`, up to and including `End`, once `parsers` gives a turn
    (`Parsers.slot`). Kills the process on timeout or when the caller stops reading; close the
    iterator (`contextlib.aclosing`) when stopping early.

    A `Failure` (the file as a whole cannot be used) is raised here as a 422 with the parser's
    code, so callers only see the messages of a file that is being read. A process that dies
    without a last word (killed by its memory or CPU cap, or crashed inside the spreadsheet
    library) is a file problem too (422), never a server error.
    """
    job = replace(
        job,
        max_memory=settings.import_parser_max_memory,
        cpu_seconds=int(settings.import_parse_timeout) + 1,
        chunk_rows=settings.import_chunk_rows,
        max_errors=settings.import_max_errors,
        max_cell_chars=settings.import_max_cell_chars,
        message_max_bytes=settings.import_message_max_bytes,
        workshop_timezone=clock.name(),  # the process's WORKSHOP_TIMEZONE (app.core.clock)
    )
    async with parsers.slot(patient=patient):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *PARSER,
            env=parser_environment(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # A longer line is the parser breaking the protocol: readline refuses it, so the API
            # never holds more than IMPORT_MESSAGE_MAX_BYTES of one message.
            limit=settings.import_message_max_bytes,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        finished = False
        try:
            proc.stdin.write(job.encode())
            await proc.stdin.drain()
            proc.stdin.close()
            # The deadline guards our waits on the parser only, never the caller's work between
            # two messages: a timeout open across the `yield` would fire in the caller's await
            # (an insert) as a bare cancellation instead of this 422.
            deadline = asyncio.get_running_loop().time() + settings.import_parse_timeout
            while True:
                async with asyncio.timeout_at(deadline):
                    line = await proc.stdout.readline()
                if not line:
                    break
                message = decode(line)
                if isinstance(message, Failure):
                    raise problem(422, message.code, message.message)
                finished = isinstance(message, End)
                yield message
            async with asyncio.timeout_at(deadline):
                await proc.wait()
        except TimeoutError:
            raise problem(
                422,
                "PARSE_TIMEOUT",
                f"Reading the file took longer than {settings.import_parse_timeout:g} s",
            ) from None
        except (ProtocolError, ValueError) as exc:  # ValueError: a line past the limit
            log.error("parser_protocol_error", error=str(exc)[:500])
            finished = False
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if not finished:
            stderr = (await proc.stderr.read()).decode(errors="replace")[-500:]
            log.warning("parser_died", returncode=proc.returncode, stderr=stderr)
            raise problem(
                422,
                "FILE_TOO_COMPLEX",
                "The file could not be read within the parser's memory and time limits "
                "(IMPORT_PARSER_MAX_MEMORY, IMPORT_PARSE_TIMEOUT)",
            )

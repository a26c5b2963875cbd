"""Start the parser process (app/imports/parser.py) for a job and read its messages as they come.

The process gets a small environment of its own (`parser_environment`), not the API's: it
parses untrusted files, so it is never handed the credentials the API runs with.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace

from app.core.config import Settings
from app.core.errors import problem
from app.core.logger import get_logger
from app.imports.protocol import End, Failure, Message, ParserJob, ProtocolError, decode

log = get_logger(__name__)
PARSER = ("-m", "app.imports.parser")  # what the interpreter runs (tests swap in a probe)
# All the parser process sees of the API's environment: enough to start Python and read text.
# Never the database URL, cloud keys or Firebase credentials, which a file that subverts the
# spreadsheet library could otherwise read from its own environment.
_PASSED_ON = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH")


def parser_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_ON if name in os.environ}
    env["TMPDIR"] = tempfile.gettempdir()
    return env


async def run_parser(settings: Settings, job: ParserJob) -> AsyncIterator[Message]:
    """The parser's messages for `job`, up to and including `End`. Kills the process on
    timeout or when the caller stops reading.

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
    )
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
        async with asyncio.timeout(settings.import_parse_timeout):
            while line := await proc.stdout.readline():
                message = decode(line)
                if isinstance(message, Failure):
                    raise problem(422, message.code, message.message)
                finished = isinstance(message, End)
                yield message
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

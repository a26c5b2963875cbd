"""What the API and the parser process say to each other: one JSON job on the parser's stdin,
then newline-delimited JSON messages on its stdout.

    map job:  Start, Chunk..., Totals..., End   (or one Failure: the whole file is unusable)
    rows job: Rows..., End                      (the original cells of some rows, for the
                                                 errors workbook)

No line is longer than the job's `message_max_bytes`: the parser cuts its chunks, totals and
rows by their encoded size, so what the API reads and holds at once is bounded in bytes
whatever the file's cells hold. Both sides encode and decode here, so a field renamed on one
side cannot be missed on the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import orjson


@dataclass
class ParserJob:
    """What to read. `mode="map"` maps and types every row by the template; `mode="rows"`
    returns the original cells of `rows` (Excel row numbers)."""

    path: str
    sheet: str | None
    header_row: int
    mode: Literal["map", "rows"] = "map"
    mapping: list[dict[str, Any]] = field(default_factory=list)
    timestamp_field: str | None = None
    timezone: str = "UTC"
    workshop_timezone: str = "UTC"  # WORKSHOP_TIMEZONE: the days of the day totals
    min_arc_time_s: float | None = None
    # A run template's resolution context (app.conformance.runs.Context, encoded): each run is
    # tied to its welder, WPS, weld and pass and judged here, in the parser.
    runs: dict[str, Any] | None = None
    rows: list[int] = field(default_factory=list)
    # Set by the API from its settings, obeyed by the parser process.
    max_memory: int = 0
    cpu_seconds: int = 0
    chunk_rows: int = 0
    max_errors: int = 0
    max_cell_chars: int = 0
    message_max_bytes: int = 0

    def encode(self) -> bytes:
        return orjson.dumps(vars(self))

    @classmethod
    def decode(cls, data: bytes) -> ParserJob:
        return cls(**orjson.loads(data))


@dataclass
class Start:
    kind: ClassVar[str] = "start"
    sheet: str
    rows: int  # data rows below the header, by the sheet's dimensions (an upper bound)


@dataclass
class Chunk:
    kind: ClassVar[str] = "chunk"
    # [row_number, recorded_at (ISO 8601, UTC) or None, data, run or None]; a run is the values
    # of app.conformance.runs.RUN_COLUMNS in that order
    entries: list[list[Any]]
    errors: list[dict[str, Any]]  # row errors of this chunk, within the run's max_errors
    failed: int  # rows failed so far
    # A run template's runs of this chunk counted by what an import's conformance summary and
    # totals depend on: [day (the workshop's, ISO 8601) or None, welder_id, wps_id, weld_id,
    # verdict, failures, runs] (app.conformance.service.Group)
    runs: list[list[Any]] = field(default_factory=list)
    unresolved: int = 0  # runs of this chunk with a part that could not be resolved


@dataclass
class Totals:
    kind: ClassVar[str] = "totals"
    rows: list[list[Any]]  # day totals of the good rows (app.entries.tally), a part of them


@dataclass
class End:
    kind: ClassVar[str] = "end"
    rows_total: int
    rows_failed: int


@dataclass
class Failure:
    """The file as a whole cannot be imported; `code` is the API's error code."""

    kind: ClassVar[str] = "error"
    code: str
    message: str


@dataclass
class Rows:
    kind: ClassVar[str] = "rows"
    headers: list[Any]  # in the first Rows message; empty in those that follow
    rows: list[list[Any]]  # [row_number, cells]


Message = Start | Chunk | Totals | End | Failure | Rows
KINDS: dict[str, type[Message]] = {m.kind: m for m in (Start, Chunk, Totals, End, Failure, Rows)}
# What a message holds besides its lists (type, field names, counters): a part of a message's
# size budget the parser keeps free.
ENVELOPE_BYTES = 256


def size(item: Any) -> int:
    """Bytes `item` adds to a message's list (its JSON and a comma)."""
    return len(orjson.dumps(item)) + 1


# The most bytes one of a chunk's `runs` takes (ids are 64-bit, failures a byte of bits).
GROUP_BYTES = size(["9999-12-31", -(2**63), -(2**63), -(2**63), "not_checkable", 255, 2**63])


class ProtocolError(Exception):
    """A line that is not a message of this protocol."""


def encode(message: Message) -> bytes:
    return orjson.dumps({"type": message.kind, **vars(message)}) + b"\n"


def decode(line: bytes) -> Message:
    try:
        payload = orjson.loads(line)
        cls = KINDS[payload.pop("type")]
        return cls(**payload)
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ProtocolError(f"not a parser message: {line[:200]!r}") from exc

"""docs/Error_Codes.md lists every error_code the service can answer with."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pytest

import app.core.errors as errors_module
from app.core.errors import AppError

ROOT = Path(__file__).resolve().parents[1]


def codes_in_code() -> set[str]:
    found = set()
    for cls in [AppError, *_subclasses(AppError)]:
        found.add(cls.error_code)
    found.update(errors_module._HTTP_CODES.values())
    found.update({"INTEGRITY_ERROR", "INTERNAL_ERROR", "DATABASE_UNAVAILABLE"})
    pattern = re.compile(
        r'(?:problem|Rejected)\(\s*\d{3},\s*"([A-Z_]+)"|fail\(\s*"([A-Z_]+)"|'
        r'"code": "([A-Z_]+)"'
    )
    for path in (ROOT / "app").rglob("*.py"):
        for match in pattern.finditer(path.read_text()):
            found.update(group for group in match.groups() if group)
    return found


def _subclasses(cls: type) -> list[type]:
    return [sub for direct in cls.__subclasses__() for sub in [direct, *_subclasses(direct)]]


def test_every_error_code_is_documented() -> None:
    documented = set(
        re.findall(r"\| \d{3} \| ([A-Z_]+) \|", (ROOT / "docs/Error_Codes.md").read_text())
    )
    missing = codes_in_code() - documented
    assert not missing, f"add to docs/Error_Codes.md: {sorted(missing)}"
    assert {"ZIP_BOMB", "NOT_FOUND", "IMPORT_ROWS_INVALID"} <= documented


def test_generated_references_are_up_to_date() -> None:
    """Run `workshop docs` after changing routes or models."""
    from app.core.reference import api_reference, database_schema
    from app.main import create_app
    from tests.conftest import make_settings

    spec = create_app(make_settings(docs_enabled=True)).openapi()
    assert (ROOT / "docs/API_Reference.md").read_text() == api_reference(spec)
    assert (ROOT / "docs/Database_Schema.md").read_text() == database_schema()


def test_env_example_lists_every_setting() -> None:
    from app.core.config import Settings

    listed = set(re.findall(r"^([A-Z_0-9]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert {name.upper() for name in Settings.model_fields} == listed


# --- Links: README.md and docs/*.md point only at what the repository holds -------------------
#
# A reader has this repository and nothing else. Every Markdown link that is not a web or mail
# address, and every inline-code span that names a repository path, must resolve to a file or
# folder inside it; a `#fragment` must name a heading of the target (GitHub's slugs). Links that
# leave the repository (`../` past the root, absolute paths, `file:` and other schemes) fail, and
# so does any mention of the team's design notes that live outside it.

EXTERNAL_SCHEMES = ("http", "https", "mailto")
# First folders of absolute paths on someone's machine, not in the repository (API paths such as
# `/health` or `/api/v1` are not paths to check).
MACHINE_ROOTS = frozenset({"home", "Users", "work", "tmp", "root", "mnt"})
OUTSIDE_DOCUMENTS = re.compile(
    r"(?<![\w-])(?:DESIGN|STYLE|DOMAIN)\.md\b|(?<![\w-])shared/[\w./-]*\.md"
)

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_LINK_TEXT = r"!?\[(?:\\.|[^\[\]\\]|\[(?:\\.|[^\[\]\\])*\])*\]"
_DESTINATION = r"<(?:\\.|[^<>\\\n])*>|(?:\\.|[^\s()\\]|\((?:\\.|[^\s()\\])*\))+"
_TITLE = r"(?:\s+(?:\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\((?:\\.|[^()\\])*\)))?"
_INLINE_LINK = re.compile(rf"{_LINK_TEXT}\(\s*({_DESTINATION})?{_TITLE}\s*\)")
_REFERENCE_DEFINITION = re.compile(
    rf"^ {{0,3}}\[(?:\\.|[^\]\\])+\]:\s*({_DESTINATION}){_TITLE}\s*$"
)
_HTML_REFERENCE = re.compile(r"<[a-zA-Z][^>]*?\s(?:href|src)\s*=\s*[\"']([^\"']*)[\"']")
_HTML_ANCHOR = re.compile(r"<[a-zA-Z][^>]*?\s(?:id|name)\s*=\s*[\"']([^\"']+)[\"']")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*)>")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_CODE_PATH = re.compile(r"[\w.\-/]+(?:#[\w-]+)?")
_LINE_ANCHOR = re.compile(r"L\d+(?:-L\d+)?")


def repository_files(root: Path) -> frozenset[str]:
    """Files the repository holds or will hold: tracked plus untracked-but-not-ignored ones (so a
    new document can be linked before it is committed; `.venv/`, `data/` and other ignored
    paths do not count). Without git: every file not matched by .gitignore."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        ignore = root / ".gitignore"
        patterns = [".git"] + [
            line.strip().rstrip("/")
            for line in (ignore.read_text().splitlines() if ignore.exists() else [])
            if line.strip() and not line.startswith("#")
        ]
        relative = [path.relative_to(root) for path in root.rglob("*") if path.is_file()]
        names = [
            path.as_posix()
            for path in relative
            if not any(
                fnmatch.fnmatch(part, pattern) or fnmatch.fnmatch(path.as_posix(), pattern)
                for part in path.parts
                for pattern in patterns
            )
        ]
    return frozenset(name for name in names if (root / name).is_file())


@dataclass
class Markdown:
    """What a Markdown file says outside its code blocks: link destinations, inline-code
    spans (with their line numbers) and its anchors, by GitHub's rules."""

    links: list[tuple[int, str]] = field(default_factory=list)
    code_spans: list[tuple[int, str]] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, text: str) -> Markdown:
        parsed = cls()
        slugs: dict[str, int] = {}
        paragraph: list[tuple[int, str]] = []  # the current paragraph's lines (1-based numbers)

        def add_heading(title: str) -> None:
            base = github_slug(title)
            seen = slugs.get(base, 0)
            slugs[base] = seen + 1
            parsed.anchors.add(base if seen == 0 else f"{base}-{seen}")

        def end_paragraph() -> None:
            if paragraph:
                parsed._read_inline(paragraph)
                paragraph.clear()

        fence: str | None = None
        in_list = False
        previous_blank = True
        for number, line in enumerate(text.splitlines(), start=1):
            if fence is not None:
                closing = _FENCE.match(line)
                if (
                    closing
                    and closing[1][0] == fence[0]
                    and len(closing[1]) >= len(fence)
                    and not line.strip().lstrip(fence[0])
                ):
                    fence = None
                continue
            if opening := _FENCE.match(line):
                end_paragraph()
                fence = opening[1]
                previous_blank = False
                continue
            if not line.strip():
                end_paragraph()
                previous_blank = True
                continue
            indent = len(line) - len(line.lstrip(" "))
            if indent >= 4 and previous_blank and not in_list:
                continue  # an indented code block
            if indent == 0 and previous_blank:
                in_list = False
            if _LIST_ITEM.match(line):
                in_list = True
            previous_blank = False
            if heading := _ATX.match(line):
                end_paragraph()
                parsed._read_inline([(number, heading[2] or "")])
                add_heading(heading[2] or "")
                continue
            if _SETEXT.match(line):
                if paragraph and not _LIST_ITEM.match(paragraph[-1][1]):
                    title = " ".join(words.strip() for _, words in paragraph)
                    end_paragraph()
                    add_heading(title)
                    continue
                if not paragraph:
                    continue  # a thematic break

            if definition := _REFERENCE_DEFINITION.match(line):
                end_paragraph()
                parsed.links.append((number, definition[1]))
                continue
            paragraph.append((number, line))
        end_paragraph()
        return parsed

    def _read_inline(self, lines: list[tuple[int, str]]) -> None:
        """Code spans first (nothing inside one is a link), then links and HTML anchors."""
        # A paragraph's lines lose their indentation; a line break in a code span is a space.
        lines = [(number, line.lstrip()) for number, line in lines]
        text = "\n".join(line for _, line in lines)
        starts = [0]
        for _, line in lines[:-1]:
            starts.append(starts[-1] + len(line) + 1)

        def line_of(offset: int) -> int:
            index = max(i for i, start in enumerate(starts) if start <= offset)
            return lines[index][0]

        outside = list(text)
        for span in _CODE_SPAN.finditer(text):
            self.code_spans.append((line_of(span.start()), span[2].replace("\n", " ").strip()))
            outside[span.start() : span.end()] = " " * (span.end() - span.start())
        prose = "".join(outside)
        for link in _INLINE_LINK.finditer(prose):
            if link[1] is not None:
                self.links.append((line_of(link.start()), link[1]))
        for autolink in _AUTOLINK.finditer(prose):
            self.links.append((line_of(autolink.start()), autolink[1]))
        for reference in _HTML_REFERENCE.finditer(prose):
            self.links.append((line_of(reference.start()), reference[1]))
        self.anchors.update(anchor.lower() for anchor in _HTML_ANCHOR.findall(prose))


def github_slug(title: str) -> str:
    """The anchor GitHub gives a heading: its text as rendered, lowercased, without punctuation
    and symbols (letters, digits, `_` and `-` stay), each space a hyphen. No trimming of
    repeated hyphens: "ADR 0001 — Group" is `adr-0001--group`."""
    parts = []
    for index, part in enumerate(_CODE_SPAN.split(title)):
        if index % 3 == 2:  # a code span's text, as is
            parts.append(part)
        elif index % 3 == 0:
            part = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", part)  # links, images: their text
            part = re.sub(r"<[^>]+>", "", part)  # inline HTML
            parts.append(re.sub(r"(?<!\w)_+|_+(?!\w)", "", part))  # _emphasis_, not snake_case
    text = "".join(parts).strip().lower()
    text = "".join(ch for ch in text if ch in " -_" or ch.isalnum())
    return text.replace(" ", "-")


class DocumentLinks:
    """Checks the links and path mentions of Markdown files against a repository's files."""

    def __init__(self, root: Path, files: frozenset[str]) -> None:
        self.root = root
        self.files = files
        self.folders = {
            "/".join(parts[:end])
            for parts in (name.split("/") for name in files)
            for end in range(1, len(parts))
        }
        self.top_level = {name.split("/")[0] for name in files}
        self._anchors: dict[str, set[str]] = {}

    def problems(self, document: Path) -> list[str]:
        text = document.read_text(encoding="utf-8")
        parsed = Markdown.parse(text)
        self._anchors[self._relative(document)] = parsed.anchors
        where = self._relative(document)
        found = [
            f"{where}:{text.count(chr(10), 0, match.start()) + 1}: {match[0]!r} is not part of "
            "this repository; say it in docs/ (Product.md, Code_Style.md) and link there"
            for match in OUTSIDE_DOCUMENTS.finditer(text)
        ]
        for line, destination in parsed.links:
            if problem := self.link_problem(document, destination):
                found.append(f"{where}:{line}: link {destination!r}: {problem}")
        for line, span in parsed.code_spans:
            if problem := self.code_path_problem(document, span):
                found.append(f"{where}:{line}: `{span}`: {problem}")
        return found

    def link_problem(self, document: Path, destination: str) -> str | None:
        target = destination.strip()
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        target = unquote(re.sub(r"\\(.)", r"\1", target))
        if scheme := _SCHEME.match(target):
            if scheme[1].lower() in EXTERNAL_SCHEMES:
                return None
            return f"a {scheme[1]}: link leaves the repository; link a file inside it"
        if target.startswith("//"):
            return "a network path leaves the repository; write https://... for a web page"
        path, _, fragment = target.partition("#")
        path = path.partition("?")[0]
        if path.startswith("/"):
            return "an absolute path; link relative to this file"
        if not path:
            return self._fragment_problem(self._relative(document), fragment, is_file=True)
        return self._resolve(document.parent, path, fragment)

    def code_path_problem(self, document: Path, span: str) -> str | None:
        """Only spans that name a path: `../...`, or starting with one of the repository's
        top-level files or folders (`app/cli.py`, `docs/`, `Makefile`), or a bare `Name.md`.
        Other code (`/api/v1`, `router.py`, `s3://...`, `app/<domain>/`) is not checked."""
        if not _CODE_PATH.fullmatch(span):
            return None
        if span.startswith("/"):
            first = span.split("/")[1]
            return "an absolute path outside the repository" if first in MACHINE_ROOTS else None
        path, _, fragment = span.removeprefix("./").partition("#")
        if path.startswith("../"):
            return self._resolve(document.parent, path, fragment)
        if path.split("/")[0] in self.top_level:
            return self._resolve(self.root, path, fragment)
        if "/" not in path and path.endswith(".md"):
            if self._resolve(document.parent, path, fragment) is None:
                return None
            return self._resolve(self.root, path, fragment)
        return None

    def _resolve(self, base: Path, path: str, fragment: str) -> str | None:
        joined = os.path.normpath(os.path.join(os.path.relpath(base, self.root), path))
        relative = Path(joined).as_posix()
        if relative == ".." or relative.startswith("../") or os.path.isabs(joined):
            return "leaves the repository"
        if relative == ".":
            return None
        if relative in self.folders:
            return f"#{fragment} on a folder" if fragment else None
        if relative not in self.files:
            return f"{relative} is not in the repository"
        return self._fragment_problem(relative, fragment, is_file=True)

    def _fragment_problem(self, relative: str, fragment: str, *, is_file: bool) -> str | None:
        if not fragment:
            return None
        if not relative.endswith(".md"):
            if is_file and _LINE_ANCHOR.fullmatch(fragment):
                return None
            return f"#{fragment}: only Markdown files have heading anchors"
        if relative not in self._anchors:
            text = (self.root / relative).read_text(encoding="utf-8")
            self._anchors[relative] = Markdown.parse(text).anchors
        if unquote(fragment).lower() in self._anchors[relative]:
            return None
        return f"#{fragment} is not a heading of {relative}"

    def _relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_documents_link_only_inside_the_repository() -> None:
    checker = DocumentLinks(ROOT, repository_files(ROOT))
    problems = [problem for document in documents() for problem in checker.problems(document)]
    assert not problems, "broken or outside links:\n" + "\n".join(problems)


def _checker_on(tmp_path: Path, files: dict[str, str]) -> DocumentLinks:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return DocumentLinks(tmp_path, frozenset(files))


TARGET = """# Guide

## The `workshop` command

## `__init__.py` and _emphasis_

## ADR 0001 — Group by domain

## Lists: skip, limit & sort

## Lists: skip, limit & sort

Setext title
------------

```bash
# not a heading
```
"""


@pytest.mark.parametrize(
    "line",
    [
        "[guide](docs/Guide.md)",
        "[guide](./docs/Guide.md#guide)",
        "[cmd](docs/Guide.md#the-workshop-command)",
        "[dunder](docs/Guide.md#__init__py-and-emphasis)",
        "[adr](docs/Guide.md#adr-0001--group-by-domain)",
        "[lists](docs/Guide.md#lists-skip-limit--sort-1)",
        "[setext](docs/Guide.md#setext-title)",
        "[code](<app/cli.py> 'the CLI')",
        "[line](app/cli.py#L3-L9)",
        "[folder](app/)",
        "![logo](docs/logo.png)",
        "[web](https://example.com/x.md) <https://example.com> [mail](mailto:a@example.com)",
        "[self](#readme)",
        "`app/cli.py`, `docs/Guide.md#guide`, `Makefile`, `docs/`",
        "`/api/v1/machines`, `/health`, `router.py`, `app/<domain>/`, `s3://bucket/prefix`",
        "`api/v1/endpoints`, `./data/uploads`, `.env`, `crud/`",
        "Inline code hides links: `[x](nowhere.md)`.",
        "[ref]: docs/Guide.md#guide",
        '<a href="docs/Guide.md">guide</a>',
        "```\n[fenced](nowhere.md) `../outside.md`\n```",
        "text\n\n    [indented code](nowhere.md)",
    ],
)
def test_link_check_accepts(tmp_path: Path, line: str) -> None:
    checker = _checker_on(
        tmp_path,
        {
            "README.md": f"# Readme\n\n{line}\n",
            "docs/Guide.md": TARGET,
            "docs/logo.png": "",
            "app/cli.py": "",
            "Makefile": "",
        },
    )
    assert checker.problems(tmp_path / "README.md") == []


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("[gone](docs/Gone.md)", "docs/Gone.md is not in the repository"),
        ("[case](docs/guide.md)", "docs/guide.md is not in the repository"),
        ("[anchor](docs/Guide.md#no-such-heading)", "#no-such-heading is not a heading"),
        ("[comment](docs/Guide.md#not-a-heading)", "#not-a-heading is not a heading"),
        ("[self](#nowhere)", "#nowhere is not a heading of README.md"),
        ("[design](../shared/DESIGN.md)", "leaves the repository"),
        ("[up](docs/../../x.md)", "leaves the repository"),
        ("[abs](/work/shared/STYLE.md)", "an absolute path"),
        ("[file](file:///etc/passwd)", "a file: link leaves the repository"),
        ("[ignored](data/workshop.db)", "data/workshop.db is not in the repository"),
        ("[ref]: docs/Gone.md", "docs/Gone.md is not in the repository"),
        ('<a href="docs/Gone.md">x</a>', "docs/Gone.md is not in the repository"),
        ("`app/gone.py`", "app/gone.py is not in the repository"),
        ("`../shared/notes.txt`", "leaves the repository"),
        ("`/work/main/app/cli.py`", "an absolute path outside the repository"),
        ("`Guide.md`", "Guide.md is not in the repository"),
        ("Read DESIGN.md first.", "'DESIGN.md' is not part of this repository"),
        ("See `../shared/STYLE.md`.", "shared/STYLE.md' is not part of this repository"),
        ("Domain rules: DOMAIN.md.", "'DOMAIN.md' is not part of this repository"),
        ("Notes in shared/notes/Plan.md", "'shared/notes/Plan.md' is not part of this"),
    ],
)
def test_link_check_refuses(tmp_path: Path, line: str, complaint: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "workshop.db").write_text("")
    checker = _checker_on(
        tmp_path,
        {"README.md": f"# Readme\n\n{line}\n", "docs/Guide.md": TARGET, "app/cli.py": ""},
    )
    problems = checker.problems(tmp_path / "README.md")
    assert problems, line
    assert any(complaint in problem for problem in problems), problems

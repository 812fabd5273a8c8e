"""Which files are documents, what type they are, and their live shared documents.

A document is a collaborable file: a notebook (room ``json:notebook:<id>``) or
a text file (room ``text:file:<id>``; markdown and code files are text files
too). Edits always go to the live document of the room, never to the disk.
"""

from __future__ import annotations

import codecs
import json
import mimetypes
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from collab_mcp_core import NOTEBOOK, TEXT_FILE, Conflict, ToolError, document_version, text_of

from .authors import author_log

if TYPE_CHECKING:
    from collab_mcp_core import ToolContext
    from jupyter_ydoc.ybasedoc import YBaseDoc

FileType = Literal["notebook", "markdown", "code", "text"]
FILE_TYPES: tuple[str, ...] = ("notebook", "markdown", "code", "text")

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdx", ".rst")
CODE_SUFFIXES = (
    ".py", ".pyi", ".r", ".jl", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".sh", ".bash", ".zsh", ".sql",
    ".c", ".h", ".cc", ".cpp", ".hpp", ".java", ".go", ".rs", ".rb", ".scala", ".kt", ".lua", ".pl",
    ".php", ".css", ".scss", ".html", ".htm", ".json", ".yaml", ".yml", ".toml", ".xml", ".ini",
    ".cfg", ".conf", ".m", ".swift", ".dockerfile", ".tex", ".makefile",
)
PLAIN_SUFFIXES = (".txt", ".csv", ".tsv", ".log", ".text", ".env.example")
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class DocumentRef:
    """A document the call names: its API path, room kind and type."""

    path: str
    file_type: FileType

    @property
    def kind(self) -> tuple[str, str]:
        return NOTEBOOK if self.file_type == "notebook" else TEXT_FILE

    @property
    def is_notebook(self) -> bool:
        return self.file_type == "notebook"


def type_from_name(path: str) -> FileType | None:
    """The document type a file name suggests, or None if it does not look collaborable."""
    name = posixpath.basename(path).lower()
    if name.endswith(".ipynb"):
        return "notebook"
    if name.endswith(MARKDOWN_SUFFIXES):
        return "markdown"
    if name.endswith(CODE_SUFFIXES) or name in ("makefile", "dockerfile"):
        return "code"
    if name.endswith(PLAIN_SUFFIXES) or "." not in name.lstrip("."):
        return "text"
    guessed, _ = mimetypes.guess_type(name)
    if guessed and (guessed.startswith("text/") or guessed.endswith(("+json", "+xml", "/json", "/xml"))):
        return "text"
    return None


def is_binary(head: bytes) -> bool:
    """True if a file's first bytes are not UTF-8 text (NUL bytes or invalid sequences)."""
    if b"\0" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    return False


def check_file_type(file_type: str | None) -> None:
    if file_type is not None and file_type not in FILE_TYPES:
        raise ToolError(f"file_type {file_type!r} is not one of {', '.join(FILE_TYPES)}.")


async def resolve(ctx: ToolContext, path: str | None = None, file_type: str | None = None) -> DocumentRef:
    """The existing document at ``path`` (by default the call's checked ``ctx.path``), or a ToolError."""
    check_file_type(file_type)
    if path is None:
        api_path = await ctx.backend.check_file(ctx.path or "", kind="document")
    else:
        api_path = await ctx.backend.require_file(path, kind="document")
    return await classify(ctx, api_path, file_type, path or api_path)


async def classify(ctx: ToolContext, api_path: str, file_type: str | None, given: str) -> DocumentRef:
    """Detect (or check) the type of an existing file; refuse binary files."""
    detected = type_from_name(api_path)
    if detected != "notebook" and is_binary(await ctx.backend.contents.read_head(api_path, SNIFF_BYTES)):
        raise ToolError(
            f"{given!r} is a binary file, not a text document; only notebooks and UTF-8 text files "
            "(text, markdown, code) can be collaborated on."
        )
    detected = detected or "text"
    if file_type is not None and file_type != detected:
        compatible = file_type != "notebook" and detected != "notebook"
        if not compatible:
            raise ToolError(f"{given!r} is a {detected} document, not a {file_type} one.")
        detected = file_type  # markdown/code/text are all text files: the caller's label wins
    return DocumentRef(api_path, detected)  # type: ignore[arg-type]


async def open_live(ctx: ToolContext, ref: DocumentRef) -> YBaseDoc:
    """The LIVE shared document of the file's room (opens the room if needed).

    From then on the pack records who makes each change to it (see :mod:`.authors`).
    """
    doc = await ctx.backend.open_document(ref.path, ref.kind)
    rid = room_id(ctx, ref)
    room = ctx.backend.find_room(rid)
    if room is not None:  # the backend waited until the room observes its document
        log = author_log()
        if log is not None:
            log.watch(rid, room)
    return doc


def room_id(ctx: ToolContext, ref: DocumentRef, *, create: bool = True) -> str | None:
    return ctx.backend.room_id(ref.path, ref.kind, create=create)


def content_of(doc: YBaseDoc, ref: DocumentRef) -> str:
    """The document as text: the source of a text file, nbformat JSON of a notebook."""
    if ref.is_notebook:
        return json.dumps(doc.get(), indent=1, ensure_ascii=False, sort_keys=True)
    return str(text_of(doc))


def version_of(doc: YBaseDoc) -> str:
    """The document's version (``document_version``: the same meaning as for notebooks, unchanged by a
    save), what edit tools accept back as ``expected_version``."""
    return document_version(doc.ydoc)


def require_text(ref: DocumentRef, tool: str) -> None:
    if ref.is_notebook:
        raise ToolError(
            f"{ref.path!r} is a notebook; {tool} edits text files. Edit notebook cells with the notebook "
            "tools; get_document, history, restore and forks work on notebooks."
        )


def check_version(expected: str | None, doc: YBaseDoc, ref: DocumentRef) -> None:
    """Refuse an edit when the caller read a different version than the one live now."""
    if expected is None:
        return
    current = version_of(doc)
    if expected != current:
        raise Conflict(
            f"{ref.path!r} changed since you read it (you expected version {expected}, it is now {current}). "
            "Read it again with get_document and redo your edit against the current text.",
            current_version=current,
        )

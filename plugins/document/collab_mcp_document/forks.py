"""Forks: a copy of a live document in its own room, edited apart, merged back as a CRDT.

The backend's forks (``ctx.backend.forks``) serve and register them as
jupyter-server-ydoc's REST fork API does, so JupyterLab's fork listing shows
forks made here, and forks JupyterLab made can be read, edited and merged with
these tools. The host stores every fork and its updates under the data directory
(:mod:`collab_mcp_core.fork_store`), so forks come back after a restart.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from jupyter_ydoc import ydocs as YDOCS
from pycrdt import Doc
from pydantic import BaseModel, Field

from collab_mcp_core import NotFound, ToolContext, ToolError, change_summary, tool

from .authors import agent_transaction
from .changes import issue_version
from .documents import DocumentRef, content_of, open_live, resolve, room_id, version_of
from .events import DocumentForkDiscarded, DocumentForked, DocumentForkMerged
from .readings import remember

if TYPE_CHECKING:
    from jupyter_ydoc.ybasedoc import YBaseDoc

# One jupyter_ydoc wrapper per fork (each wrapper attaches an undo manager to the doc),
# and the subscriptions that keep synchronized forks following their document.
_fork_docs: dict[str, YBaseDoc] = {}
_sync_subscriptions: dict[str, tuple[Doc, Any]] = {}


def forks_of(ctx: ToolContext, root_room_id: str | None) -> dict[str, dict[str, Any]]:
    if not root_room_id:
        return {}
    return {fid: info for fid, info in ctx.backend.forks.table().items() if info.get("root_roomid") == root_room_id}


def check_fork(ctx: ToolContext, ref: DocumentRef, fork_id: str) -> dict[str, Any]:
    """The fork's registry entry, after checking it is a fork of this document."""
    info = ctx.backend.forks.table().get(fork_id)
    root = room_id(ctx, ref, create=False)
    if info is None:
        known = ", ".join(forks_of(ctx, root)) or "none"
        raise NotFound(f"No fork {fork_id!r}. Forks of {ref.path!r}: {known} (list_document_forks lists them).")
    if info.get("root_roomid") != root:
        raise ToolError(
            f"Fork {fork_id!r} is a fork of another document (room {info.get('root_roomid')}), not of "
            f"{ref.path!r}; name the document it was forked from."
        )
    return info


def _fork_ydoc(ctx: ToolContext, fork_id: str) -> Doc:
    ydoc = ctx.backend.forks.room_document(fork_id)
    if ydoc is None:
        raise NotFound(f"The room of fork {fork_id!r} is gone; the fork can no longer be used.")
    return ydoc


async def open_target(ctx: ToolContext, ref: DocumentRef, fork_id: str | None) -> YBaseDoc:
    """The live document, or the live document of one of its forks."""
    if fork_id is None:
        return await open_live(ctx, ref)
    check_fork(ctx, ref, fork_id)
    ydoc = _fork_ydoc(ctx, fork_id)
    doc = _fork_docs.get(fork_id)
    if doc is None or doc.ydoc is not ydoc:
        doc = _fork_docs[fork_id] = YDOCS.get(ref.kind[1], YDOCS["file"])(ydoc)
    return doc


async def _close_fork(ctx: ToolContext, fork_id: str) -> None:
    _fork_docs.pop(fork_id, None)
    followed = _sync_subscriptions.pop(fork_id, None)
    if followed is not None:
        root_ydoc, subscription = followed
        try:
            root_ydoc.unobserve(subscription)
        except Exception:  # the root document may be gone already
            pass
    await ctx.backend.forks.close(fork_id, ctx.identity.username)


# -- tools -----------------------------------------------------------------------------------


class ForkDocumentArgs(BaseModel):
    path: str = Field(description="Document path.")
    title: str = Field("", description="A title for JupyterLab's fork list.")
    description: str = Field("", description="What the fork is for.")
    synchronize: bool = Field(
        False, description="Keep the fork following the original's later changes."
    )


class Fork(BaseModel):
    fork_id: str = Field(description="Pass it as fork_id to get_document, update_document, insert_text, delete_text.")
    path: str
    root_room_id: str
    title: str
    description: str
    synchronize: bool
    length: int = Field(description="Length of the fork's content in characters.")
    version: str


@tool(permission="write", title="Fork a document", destructive=False)
async def fork_document(ctx: ToolContext, args: ForkDocumentArgs) -> Fork:
    """Fork a live document into a private copy: pass the fork_id to the read and edit tools, then merge or discard it.

    Merging is a CRDT merge: changes made meanwhile on both sides are kept.
    """
    ref = await resolve(ctx)
    doc = await open_live(ctx, ref)
    root_id = room_id(ctx, ref)
    root_room = ctx.backend.find_room(root_id)
    if root_room is None:
        raise ToolError(f"The room of {ref.path!r} closed while forking; try again.")
    fork_id = uuid.uuid4().hex
    fork_ydoc = Doc()
    fork_ydoc.apply_update(root_room.ydoc.get_update())
    if args.synchronize:
        subscription = root_room.ydoc.observe(lambda event: fork_ydoc.apply_update(event.update))
        _sync_subscriptions[fork_id] = (root_room.ydoc, subscription)
    info = {
        "root_roomid": root_id,
        "synchronize": args.synchronize,
        "title": args.title,
        "description": args.description,
    }
    await ctx.backend.forks.open(fork_id, fork_ydoc, info, ctx.identity.username)
    await ctx.emit(DocumentForked(path=ref.path, fork_id=fork_id, title=args.title, synchronize=args.synchronize))
    content = content_of(doc, ref)
    return Fork(
        fork_id=fork_id, path=ref.path, root_room_id=root_id, title=args.title, description=args.description,
        synchronize=args.synchronize, length=len(content), version=version_of(doc),
    )


class ForkArgs(BaseModel):
    path: str = Field(description="Document path (the fork's original).")
    fork_id: str = Field(description="A fork_id from fork_document or list_document_forks.")


class MergeResult(BaseModel):
    path: str
    fork_id: str
    merged: bool
    length: int = Field(description="Length of the document after the merge, in characters.")
    version: str
    characters_added: int
    characters_removed: int


@tool(permission="write", title="Merge a fork", destructive=True)
async def merge_document_fork(ctx: ToolContext, args: ForkArgs) -> MergeResult:
    """Merge a fork into its document (a CRDT merge: both sides' edits are kept, each once), then close the fork."""
    ref = await resolve(ctx)
    check_fork(ctx, ref, args.fork_id)
    fork_ydoc = _fork_ydoc(ctx, args.fork_id)
    doc = await open_live(ctx, ref)
    before = content_of(doc, ref)
    missing = fork_ydoc.get_update(doc.ydoc.get_state())
    with agent_transaction(doc.ydoc, ctx):
        doc.ydoc.apply_update(missing)
    after = content_of(doc, ref)
    if not ref.is_notebook:
        remember(ctx, ref, None, after)  # the agent now expects the merged text
    await _close_fork(ctx, args.fork_id)
    version = issue_version(ctx, ref, doc, after)
    await ctx.emit(DocumentForkMerged(path=ref.path, fork_id=args.fork_id, version=version))
    added, removed = change_summary(before, after)
    return MergeResult(
        path=ref.path, fork_id=args.fork_id, merged=True, length=len(after), version=version,
        characters_added=added, characters_removed=removed,
    )


class DiscardResult(BaseModel):
    path: str
    fork_id: str
    discarded: bool


@tool(permission="write", title="Discard a fork", destructive=True)
async def discard_document_fork(ctx: ToolContext, args: ForkArgs) -> DiscardResult:
    """Close a fork without merging it; its changes are dropped. The original is not touched."""
    ref = await resolve(ctx)
    check_fork(ctx, ref, args.fork_id)
    await _close_fork(ctx, args.fork_id)
    await ctx.emit(DocumentForkDiscarded(path=ref.path, fork_id=args.fork_id))
    return DiscardResult(path=ref.path, fork_id=args.fork_id, discarded=True)


class ListForksArgs(BaseModel):
    path: str = Field(description="Document path.")


class ForkInfo(BaseModel):
    fork_id: str
    title: str
    description: str
    synchronize: bool
    open: bool = Field(description="Whether the fork's room still exists.")


class ForkList(BaseModel):
    path: str
    forks: list[ForkInfo]


@tool(permission="read", title="List forks")
async def list_document_forks(ctx: ToolContext, args: ListForksArgs) -> ForkList:
    """List the open forks of a document (made by agents or in JupyterLab)."""
    ref = await resolve(ctx)
    forks = [
        ForkInfo(
            fork_id=fid, title=str(info.get("title", "")), description=str(info.get("description", "")),
            synchronize=bool(info.get("synchronize", False)),
            open=ctx.backend.forks.room_document(fid) is not None,
        )
        for fid, info in forks_of(ctx, room_id(ctx, ref, create=False)).items()
    ]
    return ForkList(path=ref.path, forks=forks)

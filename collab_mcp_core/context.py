"""What a tool gets besides its arguments (:class:`ToolContext`), and what hooks get as ``host``.

Types here flow one way: this module names the host only through the
:class:`HostServices` protocol, so the host, the registry and the hooks can all
import it without an import circle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .backend_protocol import NOTEBOOK, TEXT_FILE
from .errors import ToolError
from .handles import NotebookHandle, TextHandle
from .readings import Readings
from .state import caller_key

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext

    from .backend_protocol import Backend
    from .events import Event
    from .identity import Identity
    from .state import CallerState

C = TypeVar("C")


class HostServices(Protocol):
    """What the host offers packs: tools reach it as ``ctx.host``, hooks get it as ``host``."""

    @property
    def backend(self) -> Backend:
        """The backend: paths, contents, live documents, rooms, awareness, kernels."""
        ...

    @property
    def state(self) -> CallerState:
        """The per-caller state store (see :attr:`ToolContext.state`)."""
        ...

    def config(self, cls: type[C]) -> C:
        """The configured instance of a ``Configurable`` the pack declared (``c.MyPack.x = ...``)."""
        ...

    async def emit(self, event: Event) -> None:
        """Send ``event`` to Jupyter's event bus and every pack's ``on_event``."""
        ...

    async def resource_updated(self, uri: str) -> None:
        """Tell subscribed MCP clients that the resource ``uri`` changed."""
        ...

    async def check_permission(
        self, identity: Identity, permission: str, path: str | None, tool: str, handler: Any = None
    ) -> None:
        """Raise :class:`~collab_mcp_core.errors.PermissionDenied` unless ``identity`` may do this."""
        ...


@dataclass
class ToolContext:
    """One call's context: who calls, on what, and the host's services.

    - ``identity``: the caller (:class:`~collab_mcp_core.identity.Identity`);
    - ``session_id``: its MCP session (None for the sessionless protocol revision);
    - ``path``: the document the call names, normalized and permission-checked once by
      the host (read it instead of the raw argument); None for tools about no document;
    - ``tool``, ``pack``: the tool being called and the pack that gave it;
    - ``backend``, ``config(Cls)``, ``emit(event)``, ``progress(...)``, ``state``;
    - ``open_notebook()``, ``open_text()``: live document handles.
    """

    host: HostServices
    identity: Identity
    session_id: str | None = None
    path: str | None = None
    tool: str = ""
    pack: str = ""
    handler: Any = field(default=None, repr=False)  # the Tornado handler, for Jupyter's Authorizer
    request_context: ServerRequestContext | None = field(default=None, repr=False)

    @property
    def backend(self) -> Backend:
        """The backend: paths, contents, live documents, rooms, awareness, kernels."""
        return self.host.backend

    @property
    def caller(self) -> str:
        """A stable key for the caller: its MCP session, or its user when it has none."""
        return caller_key(self.session_id, self.identity.username)

    @property
    def state(self) -> dict[str, Any]:
        """This pack's state for this caller, kept between calls and dropped when the session closes."""
        return self.host.state.of(self.caller, self.pack)

    @functools.cached_property
    def readings(self) -> Readings:
        """What this caller last read of each text (kept with its state), for rebasing its edits."""
        state = self.state
        readings = state.get("readings")
        if readings is None:
            readings = state["readings"] = Readings()
        return readings

    def config(self, cls: type[C]) -> C:
        """The configured instance of a pack's ``Configurable`` (``c.NotebookPack...``)."""
        return self.host.config(cls)

    async def emit(self, event: Event) -> None:
        """Send ``event``, naming the caller (and its session) as its author unless it names someone."""
        if event.actor is None:
            event.actor = self.identity.username
        if event.actor == self.identity.username and event.session_id is None:
            event.session_id = self.session_id
        await self.host.emit(event)

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        """Send an MCP progress notification, if the client asked for progress."""
        if self.request_context is not None:
            await self.request_context.session.report_progress(progress, total, message)

    @property
    def origin(self) -> str:
        """The transaction origin of the caller's edits (observers tell who changed what by it)."""
        return f"collab-mcp:{self.identity.username}"

    async def open_notebook(self, path: str | None = None) -> NotebookHandle:
        """The live notebook at ``path`` (default: the call's checked ``ctx.path``), opening its room."""
        api_path = await self.backend.require_file(self._path(path), suffixes=(".ipynb",), kind="notebook")
        return NotebookHandle(await self.backend.open_document(api_path, NOTEBOOK), self.origin)  # type: ignore[arg-type]

    async def open_text(self, path: str | None = None) -> TextHandle:
        """The live text document at ``path`` (default: ``ctx.path``), opening its room."""
        api_path = await self.backend.require_file(self._path(path), kind="text file")
        if api_path.endswith(".ipynb"):
            raise ToolError(f"{api_path!r} is a notebook, not a text file.")
        return TextHandle(await self.backend.open_document(api_path, TEXT_FILE), self.origin)

    def _path(self, path: str | None) -> str:
        if path is not None:
            return path
        if self.path is None:
            raise ToolError(f"Tool {self.tool!r} names no document; give a path.")
        return self.path

    async def check_permission(self, permission: str, path: str | None) -> None:
        """Raise PermissionDenied unless the caller has ``permission`` on ``path`` (for a second path)."""
        await self.host.check_permission(self.identity, permission, path, self.tool, self.handler)

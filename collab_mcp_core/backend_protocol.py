"""The backend protocol: the only way packs reach Jupyter.

A pack gets a :class:`Backend` as ``ctx.backend`` (``host.backend`` in hooks).
:class:`~collab_mcp_core.backend.LocalBackend` implements it inside the Jupyter
server (jupyter-server-ydoc rooms, the kernel, session and contents managers).
The protocol speaks in API paths, room ids, kernel ids, pycrdt documents and
Jupyter messaging dicts, so a second implementation over Jupyter's REST API and
websockets (the collaboration room websocket synced with pycrdt, the kernel
channels websocket) fits it without a pack changing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from .room_events import RoomEvents

if TYPE_CHECKING:
    from jupyter_ydoc.ybasedoc import YBaseDoc

# A document's kind, as jupyter-server-ydoc names rooms: (format, type).
DocumentKind = tuple[str, str]
NOTEBOOK: DocumentKind = ("json", "notebook")
TEXT_FILE: DocumentKind = ("text", "file")


class Contents(Protocol):
    """Files and folders (Jupyter's contents API). Never used to write a collaborated file."""

    async def file_exists(self, api_path: str) -> bool:
        """Whether a file (not a folder) exists at ``api_path``."""
        ...

    async def dir_exists(self, api_path: str) -> bool:
        """Whether a folder exists at ``api_path`` (``""`` is the root)."""
        ...

    async def list_folder(self, api_path: str) -> list[dict[str, Any]]:
        """The folder's entries as contents models (``name``, ``path``, ``type``, ``size``...)."""
        ...

    async def walk(self, folder: str, *, skip: Callable[[dict[str, Any]], bool] | None = None,
                   limit: int | None = None) -> list[dict[str, Any]]:
        """Every file model under ``folder``, sorted by path, without hidden entries.

        ``skip(entry)`` leaves an entry (and, for a folder, what it holds) out;
        ``limit`` stops after that many files.
        """
        ...

    async def create(self, api_path: str) -> None:
        """Create an empty file (an empty notebook for ``.ipynb``); never overwrite one."""
        ...

    async def read_text(self, api_path: str) -> str:
        """A file's text as stored on disk (read only a file that has no room: a room's document is newer)."""
        ...

    async def read_head(self, api_path: str, size: int) -> bytes:
        """The first ``size`` bytes of a file as stored (to tell text from binary files)."""
        ...


class KernelConnection(Protocol):
    """A connected client of one kernel (the Jupyter messaging protocol)."""

    def execute(self, code: str, *, silent: bool = False, store_history: bool = True, allow_stdin: bool = False,
                stop_on_error: bool = True, user_expressions: dict[str, str] | None = None) -> str:
        """Send an ``execute_request`` on the shell channel (the messaging protocol's fields); returns its msg_id."""
        ...

    def kernel_info(self) -> str:
        """Send a ``kernel_info_request`` on the shell channel; returns its msg_id."""
        ...

    async def get_iopub_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next iopub message (raises ``queue.Empty`` after ``timeout`` seconds)."""
        ...

    async def get_shell_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next shell reply (raises ``queue.Empty`` after ``timeout`` seconds)."""
        ...


class Kernels(Protocol):
    """Kernel sessions of notebooks (the same ones JupyterLab uses) and their kernels."""

    async def list_sessions(self) -> list[dict[str, Any]]:
        """Every kernel session (``path``, ``kernel``: ``{id, name}``...), as Jupyter's sessions API lists them."""
        ...

    async def start_session(self, api_path: str, kernel_name: str) -> dict[str, Any]:
        """Start a kernel session for the notebook at ``api_path``."""
        ...

    async def list_kernels(self) -> list[dict[str, Any]]:
        """Running kernels (``id``, ``name``, ``execution_state``, ``connections``, ``last_activity``)."""
        ...

    async def kernel_specs(self) -> dict[str, dict[str, Any]]:
        """Kernel specs that can be started, by name (each ``{"spec": {display_name, language...}}``)."""
        ...

    async def default_kernel_name(self) -> str:
        """The name of the kernel started when none is asked for."""
        ...

    def exists(self, kernel_id: str) -> bool:
        """Whether the server still knows the kernel."""
        ...

    async def is_alive(self, kernel_id: str) -> bool:
        """Whether the kernel's process is alive."""
        ...

    def execution_state(self, kernel_id: str) -> str:
        """``idle``, ``busy``, ``starting``... as the server tracks it; ``dead`` when it is gone."""
        ...

    async def interrupt(self, kernel_id: str) -> None:
        """Interrupt what the kernel runs (variables are kept)."""
        ...

    async def restart(self, kernel_id: str) -> None:
        """Restart the kernel (variables are lost)."""
        ...

    async def connect(self, kernel_id: str, timeout: float) -> KernelConnection:
        """A new client of the kernel, its channels open and the kernel ready."""
        ...

    def disconnect(self, connection: KernelConnection) -> None:
        """Close a client :meth:`connect` gave."""
        ...

    def on_death(self, kernel_id: str, callback: Callable[[bool], None]) -> Callable[[], None]:
        """Call ``callback(restarting)`` when the kernel's process dies: ``True`` when the server restarts it,
        ``False`` when it stays dead. Returns the unsubscriber."""
        ...


class Forks(Protocol):
    """Forks of live documents, registered as jupyter-server-ydoc's REST fork API registers them."""

    def table(self) -> dict[str, dict[str, Any]]:
        """Every fork by id: ``{"root_roomid", "synchronize", "title", "description"}``."""
        ...

    def room_document(self, fork_id: str) -> Any | None:
        """The pycrdt ``Doc`` of the fork's room, or None when the room is gone."""
        ...

    async def open(self, fork_id: str, ydoc: Any, info: dict[str, Any], username: str) -> None:
        """Serve ``ydoc`` as the fork ``fork_id`` (a room of its own) and register it with ``info``."""
        ...

    async def close(self, fork_id: str, username: str) -> None:
        """Unregister the fork and delete its room."""
        ...


class Backend(Protocol):
    """Everything a pack may use of Jupyter: paths, contents, documents and rooms, awareness, kernels, forks."""

    contents: Contents
    kernels: Kernels
    forks: Forks
    #: Rooms opened and closed, collaborators joined and left: ``room_events.subscribe(listener)``.
    room_events: RoomEvents

    # -- paths --------------------------------------------------------------------------

    def normalize_path(self, path: str) -> str:
        """A clean API path inside the root, or a ToolError saying why not."""
        ...

    async def require_file(self, path: str, *, suffixes: tuple[str, ...] | None = None, kind: str = "file") -> str:
        """Normalize ``path`` and check it names an existing file (with one of ``suffixes``)."""
        ...

    async def check_file(self, api_path: str, *, suffixes: tuple[str, ...] | None = None, kind: str = "file") -> str:
        """Check that an already normalized path (a tool's ``ctx.path``) names an existing file."""
        ...

    async def create_file(self, api_path: str) -> None:
        """Create an empty file (an empty notebook for ``.ipynb``); never overwrite one."""
        ...

    # -- documents and rooms ------------------------------------------------------------

    def room_id(self, api_path: str, kind: DocumentKind, *, create: bool = True) -> str | None:
        """The id of the file's room (``json:notebook:<file id>``), whether it is open or not."""
        ...

    def find_room(self, room_id: str | None) -> Any | None:
        """The open room with this id, or None. Never opens one."""
        ...

    def room_for(self, api_path: str, kind: DocumentKind) -> Any | None:
        """The open room of a file, or None (opens no room)."""
        ...

    def rooms(self) -> dict[str, Any]:
        """Every open room by id: documents, forks, the global awareness room."""
        ...

    def path_of_room(self, room_id: str) -> str | None:
        """The API path of a document room's file, or None (forks, awareness rooms, unknown files)."""
        ...

    async def open_document(self, api_path: str, kind: DocumentKind) -> YBaseDoc:
        """The LIVE shared document of the file's room, opening the room if needed."""
        ...

    async def save(self, api_path: str, kind: DocumentKind) -> None:
        """Save the room's document to disk now, and wait until it is written."""
        ...

    def collaborators(self, room: Any) -> list[dict[str, Any]]:
        """The users in a room's awareness (humans in JupyterLab, and agents)."""
        ...

    def on_room_log(self, listener: Callable[[dict[str, Any]], Awaitable[None]]) -> Callable[[], None]:
        """Call ``listener(data)`` for each message the rooms log (a reload after a write behind the
        room, a failed save or load: ``path``, ``action``, ``level``, ``msg``); returns the unsubscriber."""
        ...

    # -- history --------------------------------------------------------------------------

    def update_store_path(self) -> str | None:
        """The database file rooms keep their history (update store) in, or None."""
        ...

    @property
    def data_dir(self) -> str:
        """A folder where packs may keep their own state (the server's data directory)."""
        ...

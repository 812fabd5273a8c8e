"""The notebook pack's hook implementations: its tools, events and settings."""

from __future__ import annotations

from typing import Any

from collab_mcp_core import hookimpl

from . import cells, execution, kernels, live, notebooks, resources, views
from .config import NotebookPack
from .events import NOTEBOOK_EVENTS


@hookimpl
def register_tools(register: Any) -> None:
    register(notebooks.list_notebooks, permission="read", title="List notebooks")
    register(notebooks.get_notebook, permission="read", title="Read a notebook", output=notebooks.NotebookView)
    register(cells.read_notebook_cell, permission="read", title="Read a cell", output=views.CellView)
    register(
        notebooks.create_notebook_session,
        permission="execute",
        title="Open a notebook session",
        read_only=False,
        destructive=False,
        idempotent=True,
    )
    register(cells.insert_notebook_cell, permission="write", title="Insert a cell", destructive=False)
    register(cells.update_notebook_cell, permission="write", title="Update a cell", destructive=True, idempotent=True)
    register(cells.edit_notebook_cell, permission="write", title="Edit text in a cell", destructive=True)
    register(cells.delete_notebook_cell, permission="write", title="Delete a cell", destructive=True)
    register(cells.move_notebook_cell, permission="write", title="Move a cell", destructive=False, idempotent=True)
    register(notebooks.save_notebook, permission="write", title="Save a notebook", destructive=False, idempotent=True)
    register(cells.clear_notebook_outputs, permission="write", title="Clear outputs", destructive=True, idempotent=True)
    register(
        execution.execute_notebook_cell,
        permission="execute",
        title="Run a cell",
        output=execution.ExecutionResult,
        destructive=True,
        open_world=True,
    )
    register(
        execution.execute_code,
        permission="execute",
        title="Run code in the notebook's kernel",
        output=execution.ExecutionResult,
        destructive=True,
        open_world=True,
    )
    register(kernels.interrupt_kernel, permission="execute", title="Interrupt the kernel", destructive=False)
    register(kernels.restart_kernel, permission="execute", title="Restart the kernel", destructive=True)
    register(kernels.list_kernels, permission="read", title="List kernels")


@hookimpl
def register_events(register: Any) -> None:
    for event_class in NOTEBOOK_EVENTS:
        register(event_class)


@hookimpl
def register_configurables(register: Any) -> None:
    register(NotebookPack)


@hookimpl
def register_resources(register: Any) -> None:
    register(resources.NOTEBOOK_RESOURCES)


@hookimpl
def host_started(host: Any) -> None:
    resources.start_watching(host)


@hookimpl
async def host_stopping(host: Any) -> None:
    # The host saves every open room and stops room watchers itself.
    await execution.close_clients(host)


@hookimpl
def mcp_session_closed(session_id: str, identity: Any, host: Any) -> None:
    live.forget_session(host, session_id)

"""The notebook pack's hook implementations: its tools, events and settings."""

from __future__ import annotations

from typing import Any

from collab_mcp_core import hookimpl

from . import cells, changes, execution, executions, files, kernels, notebooks, output_pages, prompts, resources, run_cells, variables
from .config import NotebookPack
from .current_notebook import current_notebook
from .events import NOTEBOOK_EVENTS


TOOLS = (
    notebooks.list_notebooks,
    notebooks.get_notebook,
    cells.read_notebook_cell,
    changes.get_notebook_changes,
    changes.wait_for_notebook_changes,
    output_pages.read_cell_output,
    notebooks.create_notebook_session,
    cells.insert_notebook_cell,
    cells.update_notebook_cell,
    cells.edit_notebook_cell,
    cells.delete_notebook_cell,
    cells.move_notebook_cell,
    notebooks.save_notebook,
    cells.clear_notebook_outputs,
    execution.execute_notebook_cell,
    execution.execute_code,
    run_cells.execute_cells,
    executions.get_execution,
    variables.inspect_variables,
    kernels.interrupt_kernel,
    kernels.restart_kernel,
    kernels.list_kernels,
    kernels.list_kernelspecs,
    files.list_files,
)


@hookimpl
def register_tools(register: Any) -> None:
    for tool in TOOLS:
        register(tool)


@hookimpl
def default_path(tool: Any, ctx: Any) -> str | None:
    # A notebook tool called without path: the session's current notebook (create_notebook_session).
    return current_notebook(ctx) if tool.func in TOOLS else None


@hookimpl
def register_prompts(register: Any) -> None:
    for prompt in prompts.PROMPTS:
        register(prompt)


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



"""Debug records no handler takes are not made.

traitlets sets each Jupyter application's logger (ServerApp, an extension app
launched as the application) to DEBUG and lets its console handler filter by
``log_level``. So every ``log.debug`` in a request's path (Jupyter's token
check and request log, each room broadcast) builds a LogRecord and walks the
stack, only for the handler to drop it: about 0.1 ms of a tool call. Setting
such a logger to the lowest level any of its handlers takes drops those calls
at ``isEnabledFor`` instead; what is written is the same.
"""

from __future__ import annotations

import logging


def lowest_handled_level(logger: logging.Logger) -> int:
    """The least severe level a handler reachable from ``logger`` takes (as ``callHandlers`` walks them)."""
    levels = []
    current: logging.Logger | None = logger
    while current is not None:
        levels += [handler.level for handler in current.handlers]
        current = current.parent if current.propagate else None
    return min(levels, default=logging.NOTSET)


def skip_unhandled_records(logger: logging.Logger) -> None:
    """Raise ``logger``'s level to the lowest level its handlers take; never lowers it.

    A handler at NOTSET takes everything, so then nothing changes. When the
    application reconfigures logging (``log_level`` changed at run time),
    traitlets sets DEBUG again: slower, never less output.
    """
    lowest = lowest_handled_level(logger)
    if lowest > logger.getEffectiveLevel():
        logger.setLevel(lowest)


def skip_unhandled_app_records() -> list[str]:
    """:func:`skip_unhandled_records` for every logger set to DEBUG (traitlets' application loggers,
    and ``tornado``, which Jupyter sets to the application's level and points at its handlers);
    the names of those raised."""
    changed = []
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level == logging.DEBUG:
            skip_unhandled_records(logger)
            if logger.level != logging.DEBUG:
                changed.append(name)
    return changed


"""Debug records no handler takes are skipped (collab_mcp_core.log_levels): pure logging, no server."""

from __future__ import annotations

import logging

import pytest

from collab_mcp_core.log_levels import skip_unhandled_app_records


@pytest.fixture
def loggers():
    made = []

    def make(name: str, level: int, handler_level: int | None = None, parent: logging.Logger | None = None) -> logging.Logger:
        logger = logging.getLogger(f"collab-mcp-test.{name}")
        logger.setLevel(level)
        logger.propagate = parent is not None
        if parent is not None:
            logger.parent = parent  # as Jupyter points tornado's logger at the application's
        if handler_level is not None:
            handler = logging.StreamHandler()
            handler.setLevel(handler_level)
            logger.addHandler(handler)
        made.append(logger)
        return logger

    yield make
    for logger in made:
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)


def test_an_app_logger_is_raised_to_its_handlers_level_and_writes_the_same(loggers):
    app = loggers("ServerApp", logging.DEBUG, logging.INFO)  # what traitlets configures
    tornado = loggers("tornado", logging.DEBUG, parent=app)
    changed = skip_unhandled_app_records()
    assert {"collab-mcp-test.ServerApp", "collab-mcp-test.tornado"} <= set(changed)
    assert app.level == logging.INFO and tornado.level == logging.INFO
    assert not app.isEnabledFor(logging.DEBUG) and app.isEnabledFor(logging.INFO)


def test_a_logger_whose_handler_takes_debug_is_left_alone(loggers):
    everything = loggers("verbose", logging.DEBUG, logging.NOTSET)
    debug_file = loggers("debug-file", logging.DEBUG, logging.DEBUG)
    no_handler = loggers("bare", logging.DEBUG)  # Python's last-resort handler: left as it is
    skip_unhandled_app_records()
    assert everything.level == debug_file.level == no_handler.level == logging.DEBUG

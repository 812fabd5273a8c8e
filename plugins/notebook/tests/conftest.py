"""Servers for the notebook pack's tests."""

from __future__ import annotations

import pytest

# The tests call tools in quick bursts; the auth pack's rate limit has its own tests.
NO_RATE_LIMIT = "--Limits.rate_per_second=0"


@pytest.fixture(scope="module")
def collab_server(collab_server_factory):
    return collab_server_factory(NO_RATE_LIMIT)

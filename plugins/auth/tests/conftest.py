"""Fixtures of the auth tests: keys, and servers that accept JWTs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))  # --import-mode=importlib: let test modules import jwt_helpers

from jwt_helpers import ENV, PROBE, jwt_config  # noqa: E402


@pytest.fixture(scope="session")
def rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_key() -> Any:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def events_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("events") / "events.jsonl"


@pytest.fixture(scope="module")
def start_jwt_server(collab_server_factory: Callable[..., Any], events_log: Path) -> Callable[..., Any]:
    def start(*args: str, **settings: Any) -> Any:
        return collab_server_factory(PROBE, *args, env=ENV, config_py=jwt_config(events_log, **settings))

    return start

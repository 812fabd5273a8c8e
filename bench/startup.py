"""How long `collab-mcp serve` takes until its MCP endpoint answers.

    uv run python bench/startup.py [runs]

Prints each run and the median. Target (issue 2): under 10 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from collab_mcp_core.testing import start_server


def main(runs: int) -> None:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as base:
            started = time.monotonic()
            server = start_server(Path(base))
            body = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}'
            request = urllib.request.Request(
                server.mcp_url, data=body, method="POST",
                headers={**server.headers, "Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read(1)
            times.append(time.monotonic() - started)
            server.stop()
        print(f"start to first MCP answer: {times[-1]:.2f} s")
    print(f"median over {runs} runs: {statistics.median(times):.2f} s (target < 10 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

"""Both servers stop on SIGTERM, also after they have served a turn (an open database connection once kept
each alive until it was killed)."""

from __future__ import annotations

import json
import os
import select
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.servers import running_servers

# Well under the 20 s after which tests/servers.py kills a server that did not stop.
STOP_WITHIN_S = 10


def _exited(pid: int, within_s: float) -> bool:
    """Whether the process ``pid`` exits within ``within_s`` (waited for on its pidfd, not by polling)."""
    descriptor = os.pidfd_open(pid)
    try:
        readable, _, _ = select.select([descriptor], [], [], within_s)
    finally:
        os.close(descriptor)
    return bool(readable)


def test_both_servers_exit_on_sigterm_after_a_turn(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_servers(Path(tmp_path_factory.mktemp("shutdown")), extra_env={"REDIS_URL": ""}) as servers:
        request = urllib.request.Request(
            f"{servers.rasa_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": "shutdown-1", "message": "办护照要带什么"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert "护照" in " ".join(str(m.get("text")) for m in json.loads(response.read()))
        for name in ("rasa", "actions"):
            os.kill(servers.pids[name], signal.SIGTERM)
            assert _exited(servers.pids[name], STOP_WITHIN_S), f"the {name} server did not stop on SIGTERM"

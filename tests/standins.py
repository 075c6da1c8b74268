"""Local HTTP stand-ins for the platforms' APIs (Twilio REST, Telegram Bot API) that record what they get."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        """The body as a form (last value of each field)."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    @property
    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body or b"null")


# A responder turns a request into (status, JSON body).
Responder = Callable[[Recorded], tuple[int, Any]]


@dataclass
class StandIn:
    """A running stand-in: its base URL and what it has received so far."""

    url: str
    responder: Responder
    received: list[Recorded] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, request: Recorded) -> tuple[int, Any]:
        """Answer a request and remember it."""
        status, body = self.responder(request)
        with self._changed:
            self.received.append(request)
            self._changed.notify_all()
        return status, body

    def wait_for(self, predicate: Callable[[Recorded], bool], timeout_s: float = 30.0) -> Recorded:
        """The first received request that satisfies ``predicate``, waiting for it to arrive."""

        def found() -> Recorded | None:
            return next((r for r in self.received if predicate(r)), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout=timeout_s):
                paths = [r.path for r in self.received]
                raise AssertionError(f"no matching request within {timeout_s}s; received: {paths}")
            result = found()
            assert result is not None
            return result

    def matching(self, predicate: Callable[[Recorded], bool]) -> list[Recorded]:
        """Every received request that satisfies ``predicate``."""
        with self._changed:
            return [r for r in self.received if predicate(r)]

    def clear(self) -> None:
        """Forget what was received."""
        with self._changed:
            self.received.clear()


@dataclass
class Outage:
    """A responder that answers ``status`` (a proxy's 502, a 503) while ``on``, and as ``responder`` otherwise.

    ``pass_first`` requests still get through after it is turned on (a failure in the middle of a
    turn); ``passed`` are the requests ``responder`` answered with success (what the platform took).
    """

    responder: Responder
    on: bool = False
    status: int = 502
    pass_first: int = 0
    passed: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Recorded) -> tuple[int, Any]:
        """Answer one request."""
        with self._lock:
            failing = self.on and self.pass_first <= 0
            if self.on and not failing:
                self.pass_first -= 1
        if failing:
            return self.status, {"ok": False, "error_code": self.status, "description": "Bad Gateway"}
        status, body = self.responder(request)
        if 200 <= status < 300:
            with self._lock:
                self.passed.append(request)
        return status, body


@dataclass
class Stall:
    """A responder that takes each request as ``responder`` does but holds its answer while ``on``, until
    ``release`` (a platform that took a message and answered after the client stopped waiting)."""

    responder: Responder
    on: bool = False
    released: threading.Event = field(default_factory=threading.Event)

    def __call__(self, request: Recorded) -> tuple[int, Any]:
        """Answer one request, after the release when stalling."""
        answer = self.responder(request)
        if self.on:
            self.released.wait(timeout=60)
        return answer

    def release(self) -> None:
        """Let every held answer go, and stop holding."""
        self.on = False
        self.released.set()


@contextmanager
def running_standin(responder: Responder, port: int = 0) -> Iterator[StandIn]:
    """Serve ``responder`` on a local port (a free one unless ``port`` is given) until the block ends.

    Given the port of a stand-in that was stopped, the platform comes back at the same address.
    """
    standin: StandIn

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            status, body = standin.record(request)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    standin = StandIn(url=f"http://127.0.0.1:{server.server_address[1]}", responder=responder)
    # Polling every 50 ms (not the default 500): shutdown() waits for the next poll, at the end of every test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()

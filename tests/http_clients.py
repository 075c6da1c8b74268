"""Test clients for the handoff: an agent using the console's API, a citizen using the web chat's API."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from bot.core import clock
from bot.core.db import Database
from bot.handoff.agents import add_agent

PASSWORD = "correct horse battery"


def json_call(url: str, method: str, body: object = None, raw: bytes | None = None) -> tuple[int, Any]:
    """One request with a JSON body (or ``raw`` bytes); the status and the decoded JSON answer, an error's too."""
    data = raw if raw is not None else (None if body is None else json.dumps(body, ensure_ascii=False).encode())
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def create_agent(database_url: str, username: str, name: str, role: str = "agent") -> None:
    """An account in the servers' database, as `python -m bot agents add` makes it."""

    async def add() -> None:
        database = Database(database_url)
        try:
            await database.create_schema()
            await add_agent(database, username, name, role, PASSWORD, clock.now())
        finally:
            await database.close()

    asyncio.run(add())


def read_events(stream: Any, timeout_s: float) -> Iterator[tuple[str, str]]:
    """The (event, data) pairs of an open server-sent event stream, as they arrive, until ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    kind, data = "message", ""
    while time.monotonic() < deadline:
        line = stream.readline().decode()
        if not line:
            return
        line = line.rstrip("\n")
        if line.startswith(":"):  # a heartbeat: a chance to look again
            yield "ping", ""
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif not line:
            if data or kind != "message":
                yield kind, data
            kind, data = "message", ""


def wait_for_event(
    opener: urllib.request.OpenerDirector, url: str, check: Callable[[], Any], timeout_s: float, what: str
) -> Any:
    """``check()`` once it is truthy: checked once the event stream is open, then each time it says something changed.

    The stream is opened before the first check, so that a change between the check and the
    subscription cannot be missed (which would leave the wait to run into its timeout).
    """
    try:
        with opener.open(urllib.request.Request(url), timeout=timeout_s) as stream:
            result = check()
            if result:
                return result
            for _ in read_events(stream, timeout_s):
                result = check()
                if result:
                    return result
    except TimeoutError:
        pass
    result = check()
    if result:
        return result
    raise AssertionError(f"timed out waiting for {what}")


class Http:
    """JSON over HTTP with a cookie jar, as a browser would keep it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One request; the status and the decoded JSON body (None when the body is not JSON)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, None


class Agent(Http):
    """An agent logged in to the console."""

    def __init__(self, base_url: str, username: str) -> None:
        super().__init__(base_url)
        self.username = username
        self.csrf = ""

    def login(self, password: str = PASSWORD) -> tuple[int, Any]:
        """Log in; keeps the CSRF token."""
        status, body = self.call(
            "POST",
            "/agent/api/login",
            {"username": self.username, "password": password},
            {"X-Requested-With": "hotline-console"},
        )
        if status == 200:
            self.csrf = body["csrf"]
        return status, body

    def get(self, path: str) -> tuple[int, Any]:
        """A GET under /agent/api."""
        return self.call("GET", "/agent/api" + path)

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        """A change under /agent/api, with the CSRF token."""
        return self.call("POST", "/agent/api" + path, body or {}, {"X-CSRF-Token": self.csrf})

    def queue(self) -> dict[str, Any]:
        """The console's queue."""
        status, body = self.get("/queue")
        assert status == 200, body
        return dict(body)

    def wait_for(self, check: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
        """``check()`` once truthy, re-checked whenever the console's event stream signals a change."""
        return wait_for_event(self.opener, f"{self.base_url}/agent/api/events", check, timeout_s, what)

    def transcript(self, handoff_id: int) -> list[dict[str, Any]]:
        """The handoff's transcript as the console shows it."""
        status, body = self.get(f"/handoffs/{handoff_id}")
        assert status == 200, body
        return list(body["transcript"])


class WebCitizen(Http):
    """A citizen in the web chat (its API, as the page uses it)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        status, body = self.call("POST", "/chat/api/sessions")
        assert status == 201, body
        self.session = body["session"]

    def say(self, text: str) -> None:
        """Send a message."""
        status, body = self.call(
            "POST", "/chat/api/messages", {"session": self.session, "text": text, "client_id": uuid.uuid4().hex}
        )
        assert status in (200, 202), body

    def entries(self) -> list[dict[str, Any]]:
        """Everything in the session's log."""
        status, body = self.call("GET", f"/chat/api/history?session={self.session}&after=0")
        assert status == 200, body
        return list(body["entries"])

    def texts(self, role: str | None = None) -> list[str]:
        """The texts of the log's entries (of one role)."""
        return [
            str(e["payload"].get("text"))
            for e in self.entries()
            if e["payload"].get("text") and (role is None or e["role"] == role)
        ]

    def wait_for_text(self, fragment: str, role: str | None = None, timeout_s: float = 30.0) -> str:
        """The first text of the log that contains ``fragment``, once it is there."""
        found = wait_for_event(
            self.opener,
            f"{self.base_url}/chat/api/events?session={self.session}&after=0",
            lambda: next((t for t in self.texts(role) if fragment in t), None),
            timeout_s,
            f"web chat text {fragment!r}",
        )
        return str(found)


def agent_answers_a_handoff(agent: Agent, citizen: WebCitizen, greeting: str) -> None:
    """The citizen asks for a person; the logged-in agent takes the handoff, greets, and reads the citizen's answer."""
    citizen.say("转人工")
    citizen.wait_for_text("正在为您转接人工客服")
    handoff = agent.wait_for(lambda: agent.queue()["waiting"], "the handoff in the queue")[0]
    assert agent.post(f"/handoffs/{handoff['id']}/take")[0] == 200
    assert agent.post(f"/handoffs/{handoff['id']}/messages", {"text": greeting})[0] == 202
    citizen.wait_for_text(greeting, role="agent")
    citizen.say("我想问一下公积金提取")
    agent.wait_for(
        lambda: any("公积金提取" in e["text"] for e in agent.transcript(handoff["id"])), "the citizen's message"
    )

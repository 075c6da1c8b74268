"""End to end: oversized and deeply nested requests are refused at once, and nobody else waits for them."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.twilio.prompts import TOO_MANY_KEYS
from tests.servers import Servers, new_department_key, running_servers
from tests.standins import StandIn
from tests.twilio_peer import TwilioPeer, VoiceCall, spoken, twilio_env

FIVE_MB = 5 * 1024 * 1024
LIMIT = 256 * 1024
DEPARTMENT = "广州市天河区住房和城乡建设局"
LOGIN_HEADERS = {"X-Requested-With": "hotline-console"}
# Every route that takes a body: the webhooks, the web chat, the console and the department API.
BODY_ROUTES = [
    "/webhooks/rest/webhook",
    "/webhooks/voice/webhook",
    "/webhooks/sms/webhook",
    "/chat/api/messages",
    "/chat/api/verify/start",
    "/agent/api/login",
    "/dept/api/cases",
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, twilio: StandIn) -> Iterator[Servers]:
    """Both servers, with the phone connected, the default request limit."""
    with running_servers(Path(tmp_path_factory.mktemp("limits")), extra_env=twilio_env(twilio.url)) as running:
        yield running


@pytest.fixture(scope="module")
def department_key(servers: Servers) -> str:
    """A key of the department API, made as `python -m bot departments add-key` makes it."""
    return asyncio.run(new_department_key(servers.env["DATABASE_URL"], DEPARTMENT))


def open_request(servers: Servers, path: str, head: dict[str, str]) -> socket.socket:
    """A connection on which the head of a POST has been sent, and none of its body."""
    address = urllib.parse.urlsplit(servers.rasa_url)
    assert address.hostname and address.port
    connection = socket.create_connection((address.hostname, address.port), timeout=10)
    lines = [f"POST {path} HTTP/1.1", f"Host: {address.netloc}", *(f"{k}: {v}" for k, v in head.items())]
    connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return connection


def status_of(connection: socket.socket) -> int:
    """The status of the response that comes back on ``connection``."""
    received = b""
    while b"\r\n" not in received:
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    connection.close()
    return int(received.split(b" ", 2)[1])


def post(servers: Servers, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """A POST with ``body``; status and decoded text."""
    request = urllib.request.Request(
        servers.rasa_url + path, data=body, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def say(servers: Servers, sender: str, text: str) -> str:
    """One citizen's turn on the REST channel: what the bot answered."""
    status, body = post(servers, "/webhooks/rest/webhook", json.dumps({"sender": sender, "message": text}).encode())
    assert status == 200, body
    return "\n".join(str(m.get("text", "")) for m in json.loads(body))


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_a_5_mb_body_gets_413_before_any_of_it_is_sent(servers: Servers, path: str) -> None:
    started = time.monotonic()
    connection = open_request(servers, path, {"Content-Type": "application/json", "Content-Length": str(FIVE_MB)})
    # Not a byte of the body has left: the answer can only come from the announced length.
    assert status_of(connection) == 413
    assert time.monotonic() - started < 5


def test_another_citizens_turn_is_answered_while_a_5_mb_request_is_open(servers: Servers) -> None:
    head = {"Content-Type": "application/json", "Content-Length": str(FIVE_MB)}
    attacks = [open_request(servers, "/webhooks/rest/webhook", head) for _ in range(5)]
    assert "12345" in say(servers, "limits-citizen", "你好")
    assert [status_of(attack) for attack in attacks] == [413] * 5


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(servers: Servers) -> None:
    head = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    connection = open_request(servers, "/webhooks/rest/webhook", head)
    piece = 64 * 1024
    for _ in range(LIMIT // piece):  # up to the limit exactly: still read
        connection.sendall(f"{piece:x}\r\n".encode() + b" " * piece + b"\r\n")
    connection.sendall(f"{piece:x}\r\n".encode())  # a chunk that would pass it: refused before its data
    assert status_of(connection) == 413


def test_a_body_just_under_the_limit_is_still_read(servers: Servers) -> None:
    body = json.dumps({"sender": "limits-big", "message": "你好", "padding": " " * (LIMIT - 1000)}).encode()
    assert len(body) < LIMIT
    status, text = post(servers, "/webhooks/rest/webhook", body)
    assert status == 200
    assert "12345" in text


def nested(depth: int) -> str:
    """A JSON value nested ``depth`` arrays deep (well past Python's recursion limit)."""
    return "[" * depth + "]" * depth


DEEP = nested(5000)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks/rest/webhook", DEEP),
        ("/webhooks/rest/webhook", f'{{"sender": "deep", "message": {DEEP}}}'),
        ("/chat/api/messages", DEEP),
        ("/chat/api/messages", f'{{"session": {DEEP}, "text": "hi", "client_id": "abcdefgh"}}'),
        ("/chat/api/verify/start", DEEP),
        ("/chat/api/verify/check", f'{{"code": {DEEP}}}'),
    ],
)
def test_deeply_nested_json_gets_400_on_the_citizens_routes(servers: Servers, path: str, body: str) -> None:
    status, text = post(servers, path, body.encode())
    assert status == 400
    assert "error" in json.loads(text)


def test_deeply_nested_json_gets_400_on_the_login(servers: Servers) -> None:
    status, text = post(servers, "/agent/api/login", DEEP.encode(), LOGIN_HEADERS)
    assert status == 400
    assert "error" in json.loads(text)


@pytest.mark.parametrize("path", ["/dept/api/cases", "/dept/api/orders/WO2026112800001/progress"])
def test_deeply_nested_json_gets_400_on_the_department_api(servers: Servers, department_key: str, path: str) -> None:
    status, text = post(servers, path, DEEP.encode(), {"Authorization": f"Bearer {department_key}"})
    assert status == 400
    assert json.loads(text)["error"] == "请求体不是有效的JSON（UTF-8编码）"


def test_a_5000_digit_key_entry_is_asked_again_and_the_call_goes_on(servers: Servers) -> None:
    call = VoiceCall(TwilioPeer(servers.rasa_url), "+8613700001234")
    call.start()
    answer = call.press("1" * 5000)
    assert spoken(answer) == TOO_MANY_KEYS
    gather = answer.find("Gather")
    assert gather is not None and gather.get("finishOnKey") == "#"
    assert "哪种情况" in spoken(call.say("办护照要带什么"))


def test_an_overlong_speech_result_is_answered_by_voice(servers: Servers) -> None:
    call = VoiceCall(TwilioPeer(servers.rasa_url), "+8613700001235")
    call.start()
    assert "太长" in spoken(call.say("办护照" * 1000))


@pytest.mark.parametrize("turn", ["9" * 5000, "١", "²", "-1"])
def test_a_turn_that_is_not_a_small_number_gets_400(servers: Servers, turn: str) -> None:
    call = VoiceCall(TwilioPeer(servers.rasa_url), "+8613700001236")
    path = "/webhooks/voice/webhook?" + urllib.parse.urlencode({"turn": turn})
    response = call.peer.post(path, call.params(Digits="1"))
    assert response.status_code == 400
    wait = "/webhooks/voice/wait?" + urllib.parse.urlencode({"turn": turn, "attempt": "1"})
    assert call.peer.post(wait, call.params()).status_code == 400

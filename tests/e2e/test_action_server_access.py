"""End to end: the action server answers only the Rasa server (its token), and only on loopback."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import Servers, running_servers

CASE = "20261120000158"  # a fixture case: in progress, its steps include 审查
CITIZEN_ID = 1


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The action server alone, on a fresh seeded database (the Rasa server's path: test_conversation_http)."""
    with running_servers(Path(tmp_path_factory.mktemp("access")), with_rasa=False) as running:
        yield running


def crafted_call(action: str, slots: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """An action call as an attacker writes it: a tracker that claims whatever it likes."""
    return {
        "next_action": action,
        "sender_id": "attacker",
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": "attacker",
            "slots": slots,
            "latest_message": {"text": "", "intent": {}, "entities": [], "metadata": metadata or {}},
            "latest_event_time": None,
            "followup_action": None,
            "paused": False,
            "events": [],
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action": {},
            "latest_action_name": None,
        },
    }


def call(url: str, body: object | None = None, method: str = "POST") -> tuple[int, str]:
    """One request to the action server; its status and body."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def with_token(servers: Servers, path: str, token: str | None) -> str:
    """The action server's ``path``, with ``token`` as Rasa sends it (or none)."""
    base = servers.action_url.split("?", 1)[0].removesuffix("/webhook")
    return base + path + (f"?{urllib.parse.urlencode({'token': token})}" if token is not None else "")


def token_of(servers: Servers) -> str:
    return servers.env["ACTION_SERVER_TOKEN"]


VERIFIED_CASE = crafted_call("action_show_progress", {"case_number": CASE, "verified_cases": [CASE]})
CITIZENS_ORDERS = crafted_call(
    "action_show_progress", {"requested_slot": None}, metadata={"channel": "sms", "citizen_id": CITIZEN_ID}
)


@pytest.mark.parametrize("token", [None, "", "wrong-token", "x" * 2000], ids=["none", "empty", "wrong", "long"])
@pytest.mark.parametrize("body", [VERIFIED_CASE, CITIZENS_ORDERS], ids=["verified-case", "citizen-id"])
def test_a_crafted_call_without_the_token_is_refused_and_learns_nothing(
    servers: Servers, token: str | None, body: dict[str, Any]
) -> None:
    status, text = call(with_token(servers, "/webhook", token), body)
    assert status == 401
    assert json.loads(text) == {"error": "unauthorised"}
    assert CASE not in text and "审查" not in text and "events" not in text


def test_the_token_is_only_taken_from_the_query_rasa_sends_not_from_a_header(servers: Servers) -> None:
    request = urllib.request.Request(
        with_token(servers, "/webhook", None),
        data=json.dumps(VERIFIED_CASE).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token_of(servers)}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401


def test_the_list_of_actions_needs_the_token_too(servers: Servers) -> None:
    assert call(with_token(servers, "/actions", None), method="GET")[0] == 401
    status, text = call(with_token(servers, "/actions", token_of(servers)), method="GET")
    assert status == 200 and {"name": "action_show_progress"} in json.loads(text)


def test_the_health_check_is_open_and_says_nothing_else(servers: Servers) -> None:
    assert call(with_token(servers, "/health", None), method="GET") == (200, '{"status":"ok"}')


def test_with_the_token_the_same_call_is_served(servers: Servers) -> None:
    # The token is what guards the trusted tracker: the Rasa server's own calls go through.
    status, text = call(with_token(servers, "/webhook", token_of(servers)), VERIFIED_CASE)
    assert status == 200
    assert "审查" in json.loads(text)["responses"][0]["text"]


def _outward_address() -> str | None:
    """An address of this machine other than loopback, or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_the_action_server_listens_on_loopback_only(servers: Servers) -> None:
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    port = urllib.parse.urlsplit(servers.action_url).port
    assert port is not None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, port), timeout=5).close()
    socket.create_connection(("127.0.0.1", port), timeout=5).close()

"""Our fixes to Rasa's hot paths behave exactly like Rasa's own code."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.slots import Slot, TextSlot
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.core.settings import PROJECT_ROOT
from bot.rasa import patches as rasa_patches

VALID = {"events": [{"event": "slot", "name": "service", "value": "护照"}], "responses": [{"text": "好的"}]}
INVALID = {"events": [{"event": "slot", "name": 5}], "responses": "not a list"}


@pytest.mark.parametrize("patched", [False, True])
def test_valid_and_invalid_responses(monkeypatch: pytest.MonkeyPatch, patched: bool) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches._ORIGINAL)
    if patched:
        rasa_patches.install()
        assert RemoteAction._validate_action_result is not rasa_patches._ORIGINAL
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(VALID) is True
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(INVALID)


def test_install_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches._ORIGINAL)
    rasa_patches.install()
    first = RemoteAction._validate_action_result
    rasa_patches.install()
    assert RemoteAction._validate_action_result is first


def test_a_slot_is_copied_as_copy_copy_copies_it() -> None:
    """Same class and attributes, a new object: what ``copy.copy`` made through pickling's protocol."""
    slots = Domain.load(PROJECT_ROOT / "domain.yml").slots
    assert len({type(slot) for slot in slots}) > 1
    for slot in slots:
        generic = copy._reconstruct(slot, None, *slot.__reduce_ex__(4))  # what copy.copy did without __copy__
        direct = rasa_patches.copied_slot(slot)
        assert type(direct) is type(generic) is type(slot)
        assert direct is not slot and direct.__dict__ == generic.__dict__ == slot.__dict__
        assert direct.__dict__ is not slot.__dict__
        direct.value = "别的"
        assert slot.value != "别的"


def test_trackers_copy_slots_directly_once_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches._ORIGINAL)
    monkeypatch.delattr(Slot, "__copy__", raising=False)
    rasa_patches.install()
    slot = TextSlot("service", mappings=[{"type": "custom"}], initial_value="护照")
    tracker = DialogueStateTracker("citizen", [slot])
    copied = tracker.init_copy().slots["service"]
    assert Slot.__copy__ is rasa_patches.copied_slot
    assert isinstance(copied, TextSlot) and copied is not slot and copied.initial_value == "护照"


class _ActionServer:
    """A local HTTP server that answers as the action server does and tells its callers' connections apart."""

    def __init__(self) -> None:
        self.peers: list[tuple[str, int]] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        """Listen on a free local port."""
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        _, port = self.runner.addresses[0]
        self.url = f"http://127.0.0.1:{port}/webhook"

    @property
    def connections(self) -> int:
        """How many TCP connections the calls came on (each has a port of its own)."""
        return len(set(self.peers))

    async def webhook(self, request: web.Request) -> web.Response:
        """The action's events, a 400 rejection for action_reject."""
        body = await request.json()
        assert request.transport is not None
        self.peers.append(request.transport.get_extra_info("peername"))
        self.requests.append((request.headers["Content-Type"], dict(request.query), body))
        if body["next_action"] == "action_reject":
            return web.json_response({"action_name": "action_reject", "error": "不行"}, status=400)
        return web.json_response({"events": [{"event": "slot", "name": "service", "value": "护照"}], "responses": []})

    async def stop(self) -> None:
        """Stop listening."""
        assert self.runner is not None
        await self.runner.cleanup()


async def test_action_calls_keep_their_connection_and_answer_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa opened a new connection for every action call; now one is kept, with the same requests and answers."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_patches._ORIGINAL)
    monkeypatch.setattr(RemoteAction, "run", rasa_patches._ORIGINAL_RUN)
    server = _ActionServer()
    await server.start()
    try:
        endpoint = EndpointConfig(server.url, token="secret")
        domain = Domain.from_dict({"slots": {"service": {"type": "text", "mappings": [{"type": "custom"}]}}})
        tracker = DialogueStateTracker("citizen", domain.slots)

        async def call(name: str) -> list[Any]:
            return await RemoteAction(name, endpoint).run(CollectingOutputChannel(), None, tracker, domain)

        assert await call("action_one") == [SlotSet("service", "护照")]
        assert await call("action_one") == [SlotSet("service", "护照")]
        assert server.connections == 2  # Rasa's own: a connection per call
        rasa_patches.install()
        for _ in range(3):
            assert await call("action_one") == [SlotSet("service", "护照")]
        with pytest.raises(ActionExecutionRejection, match="不行"):
            await call("action_reject")
        assert await call("action_one") == [SlotSet("service", "护照")]
        assert server.connections == 3  # one more, kept for every later call
        assert {(kind, query["token"]) for kind, query, _ in server.requests} == {("application/json", "secret")}
        assert server.requests[0][2] == server.requests[-1][2]
        await rasa_patches.close_kept_connections()  # as the Rasa server does when it stops
        assert rasa_patches.kept_alive(endpoint)._sessions == {}
    finally:
        await rasa_patches.close_kept_connections()
        await server.stop()

"""/metrics: the gauges read at scrape time, who may scrape, failed action calls counted (real HTTP, SQLite, Redis)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic

import channels.connector
import console.desk
from bot.core import metrics
from bot.core.clock import china
from bot.core.db import Database
from bot.core.models import Notification
from bot.core.settings import Secret, Settings, get_settings
from bot.core.shared_state import MemoryState
from bot.handoff.queue import MemoryHandoffQueue, RedisHandoffQueue
from bot.rasa import patches as rasa_patches
from channels.connector import ChannelRuntime
from channels.webchat.live import open_chat_hub
from console.desk import HandoffDesk
from console.metrics import MetricsInput, channel_of_path, refresh_gauges
from tests.servers import free_port

FRIDAY = china(2026, 11, 27, 15, 0)


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def _desk(database: Database, queue: MemoryHandoffQueue | RedisHandoffQueue, **changes: object) -> HandoffDesk:
    settings: Settings = replace(get_settings(), **changes)  # type: ignore[arg-type]
    runtime = ChannelRuntime(settings, database, MemoryState())
    return HandoffDesk(runtime, queue, open_chat_hub(settings, channel=f"test:{uuid.uuid4().hex}"))


async def _outbox(database: Database, *statuses: str) -> None:
    """Messages in the outbox with these statuses (pending, sent, failed)."""
    async with database.session() as session:
        for n, status in enumerate(statuses):
            session.add(
                Notification(
                    channel="webchat",
                    conversation_id=f"web-{n}",
                    text="您反映的问题已受理",
                    kind="notice",
                    status=status,
                    attempts=0,
                    created_at=FRIDAY,
                )
            )


# The gauges.


async def test_the_gauges_are_the_handoffs_waiting_and_the_outbox_pending_when_scraped(
    sqlite_database: Database,
) -> None:
    queue = MemoryHandoffQueue()
    desk = _desk(sqlite_database, queue)
    await refresh_gauges(desk)
    assert (_value("hotline_handoffs_waiting"), _value("hotline_outbox_pending")) == (0, 0)
    for handoff_id in (1, 2, 3):
        await queue.enqueue(handoff_id, 0, float(handoff_id))
    await _outbox(sqlite_database, "pending", "sent", "failed")
    await refresh_gauges(desk)
    assert (_value("hotline_handoffs_waiting"), _value("hotline_outbox_pending")) == (3, 1)
    assert await queue.claim(1, "agent:1") is None
    await refresh_gauges(desk)
    assert _value("hotline_handoffs_waiting") == 2
    assert _value("hotline_metrics_source_up", source="handoff_queue") == 1
    assert _value("hotline_metrics_source_up", source="outbox") == 1


async def test_a_source_that_does_not_answer_keeps_its_gauge_and_says_so(sqlite_database: Database) -> None:
    queue = MemoryHandoffQueue()
    await queue.enqueue(7, 0, 1.0)
    await refresh_gauges(_desk(sqlite_database, queue))
    assert _value("hotline_handoffs_waiting") == 1

    away = Database("postgresql://postgres@127.0.0.1:1/nothing")
    redis_away = RedisHandoffQueue("redis://127.0.0.1:1/0", 0.5)
    try:
        await refresh_gauges(_desk(away, redis_away, outside_call_timeout_s=0.5))
    finally:
        await away.close()
    assert _value("hotline_handoffs_waiting") == 1  # the last value read, not a made-up zero
    assert _value("hotline_metrics_source_up", source="handoff_queue") == 0
    assert _value("hotline_metrics_source_up", source="outbox") == 0


# Who may scrape.


@dataclass
class Scraper:
    url: str
    runtime: ChannelRuntime
    client: httpx.AsyncClient

    def use_settings(self, **changes: object) -> None:
        self.runtime.settings = replace(self.runtime.settings, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def scraper(sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Scraper]:
    """The metrics route on a real Sanic server, with this test's desk as the process's."""
    desk = _desk(sqlite_database, MemoryHandoffQueue(), metrics_token=Secret(""))
    monkeypatch.setattr(channels.connector, "_runtime", desk.runtime)
    monkeypatch.setattr(console.desk, "_desk", desk)
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = Sanic(f"metrics_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(MetricsInput().blueprint(lambda _: None), url_prefix="/metrics")  # type: ignore[arg-type, return-value]
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            yield Scraper(f"http://127.0.0.1:{port}/metrics", desk.runtime, client)
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def test_without_a_token_only_an_unforwarded_loopback_request_is_answered(scraper: Scraper) -> None:
    answer = await scraper.client.get(scraper.url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE hotline_bot_turns_total counter" in answer.text
    assert "hotline_handoffs_waiting 0.0" in answer.text
    for header in ({"X-Forwarded-For": "203.0.113.5"}, {"X-Real-IP": "203.0.113.5"}, {"Forwarded": "for=1.2.3.4"}):
        refused = await scraper.client.get(scraper.url, headers=header)
        assert refused.status_code == 403 and "METRICS_TOKEN" in refused.text


async def test_with_a_token_only_its_bearer_is_answered(scraper: Scraper) -> None:
    scraper.use_settings(metrics_token=Secret("s3cret-metrics-token"))
    assert (await scraper.client.get(scraper.url)).status_code == 401
    wrong = await scraper.client.get(scraper.url, headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.headers["www-authenticate"]) == (401, "Bearer")
    right = {"Authorization": "Bearer s3cret-metrics-token", "X-Forwarded-For": "203.0.113.5"}
    answer = await scraper.client.get(scraper.url, headers=right)  # through a proxy, from anywhere
    assert answer.status_code == 200 and "hotline_outbox_pending" in answer.text


# What is counted where.


def test_a_refusal_names_its_channel_by_the_route_asked() -> None:
    assert [
        channel_of_path(path)
        for path in (
            "/webhooks/rest/webhook",
            "/webhooks/sms/webhook",
            "/webhooks/voice/webhook/wait",
            "/webhooks/telegram/webhook",
            "/chat/api/messages",
            "/agent/api/login",
            "/webhooks/smsx",
        )
    ] == ["rest", "sms", "voice", "telegram", "webchat", "other", "other"]


def test_an_unknown_rejection_reason_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown rejection reason"):
        metrics.rejected("rest", "because")


async def test_a_failed_action_call_is_counted_by_action_but_a_forms_rejection_is_not() -> None:
    rasa_patches.install()
    before = _value("hotline_action_errors_total", action="action_lookup_materials")
    action = RemoteAction("action_lookup_materials", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    domain = Domain.empty()
    with pytest.raises(RasaException):
        await action.run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), DialogueStateTracker("c", []), domain
        )
    assert _value("hotline_action_errors_total", action="action_lookup_materials") == before + 1

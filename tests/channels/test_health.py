"""Every connector with a webhook answers GET / under its prefix: a load balancer's health check."""

from __future__ import annotations

import httpx
import pytest
from rasa.core.channels.channel import register
from sanic import Sanic

from channels.rest import RestChannel
from channels.telegram.connector import TelegramInput
from channels.twilio.sms import TwilioSmsInput
from channels.twilio.voice import TwilioVoiceInput
from tests.servers import free_port


async def test_each_webhook_channel_answers_its_health_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sanic rewrites its request handler at every start; in test mode it rewrites the original each time.
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = Sanic("health_check")
    register([RestChannel(), TwilioSmsInput(), TwilioVoiceInput(), TelegramInput()], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            for name in ("rest", "sms", "voice", "telegram"):
                answer = await client.get(f"http://127.0.0.1:{port}/webhooks/{name}/")
                assert (answer.status_code, answer.json()) == (200, {"status": "ok"}), name
    finally:
        await server.close()

"""Which channels start: a channel whose settings are missing is left out of Rasa's credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.settings import get_settings
from channels.registry import describe_channels, write_credentials

TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "token", "TWILIO_NUMBER": "+8602012345"}
CHANNEL_SETTINGS = (*TWILIO, "TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN")


@pytest.fixture
def no_channel_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment without any channel's settings."""
    for name in CHANNEL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def started(tmp_path: Path) -> list[str]:
    """The connectors the credentials file written for Rasa names."""
    target = tmp_path / "credentials.yml"
    write_credentials(get_settings(), target)
    return list(yaml.safe_load(target.read_text(encoding="utf-8")))


def test_without_settings_only_the_web_chat_rest_department_api_agent_console_instance_work_and_metrics_start(
    no_channel_settings: None, tmp_path: Path
) -> None:
    assert started(tmp_path) == [
        "channels.webchat.connector.WebChatInput",
        "channels.rest.RestChannel",
        "console.department_api.DepartmentApiInput",
        "console.agent_console.AgentConsoleInput",
        "console.startup.InstanceWork",
        "console.metrics.MetricsInput",
    ]
    lines = describe_channels(get_settings(), "http://localhost:5005")
    assert "监控指标：已开启 http://localhost:5005/metrics" in lines
    assert "客服工作台：已开启 http://localhost:5005/agent" in lines
    assert "网页聊天：已开启 http://localhost:5005/chat" in lines
    assert "Telegram：未开启（缺少 TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN）" in lines


def test_twilio_settings_start_voice_and_sms(
    no_channel_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in TWILIO.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    assert "channels.twilio.voice.TwilioVoiceInput" in started(tmp_path)
    assert "channels.twilio.sms.TwilioSmsInput" in started(tmp_path)
    assert "channels.telegram.connector.TelegramInput" not in started(tmp_path)
    get_settings.cache_clear()


def test_a_partial_telegram_configuration_does_not_start_it(
    no_channel_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    get_settings.cache_clear()
    assert "channels.telegram.connector.TelegramInput" not in started(tmp_path)
    assert "缺少 TELEGRAM_SECRET_TOKEN" in describe_channels(get_settings(), "http://x")
    get_settings.cache_clear()

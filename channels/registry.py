"""Which Rasa inputs the hotline runs: every connector, the staff's side, the settings each needs.

This is the one list: Rasa's credentials file is written from it (there is no hand-kept
``credentials.yml``). ``python -m channels.registry TARGET BASE_URL`` writes the file Rasa runs with
(the inputs whose settings are present) and prints one line per input; ``python -m bot run`` calls
it before it starts the servers. Settings come from ``bot/core/settings.py``, never from the file.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.settings import Settings, get_settings
from channels.connector import Outbound
from channels.telegram.connector import TelegramOutbound
from channels.twilio.sms import SmsOutbound
from channels.twilio.voice import VoiceOutbound
from channels.webchat.connector import WebChatOutbound


@dataclass(frozen=True)
class ChannelSpec:
    """A Rasa input by its class path, the settings without which it is not started, and for a citizen's
    channel its name in the records, its label on the staff's pages and how it is written to later."""

    path: str
    label: str
    address: str
    required: tuple[str, ...] = ()
    name: str | None = None
    staff_label: str = ""
    outbound: Outbound | None = None

    def missing(self, settings: Settings) -> list[str]:
        """The required settings that are empty."""
        return [name for name in self.required if not str(getattr(settings, name.lower()))]


_TWILIO = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER")
_TELEGRAM = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN")
# A new channel: its connector module, and one entry here.
CHANNELS = (
    # The citizen's web page (/chat, its API under /chat/api/); identity only through the session and
    # its SMS check, never from what the page claims.
    ChannelSpec(
        "channels.webchat.connector.WebChatInput", "网页聊天", "/chat",
        name="webchat", staff_label="网页", outbound=WebChatOutbound(),
    ),
    # Ours, not Rasa's: a leading "/" never injects an intent, identity metadata from the client is ignored.
    ChannelSpec("channels.rest.RestChannel", "REST接口", "/webhooks/rest/webhook", name="rest", staff_label="接口"),
    # The staff's side: the departments' API (a key per department) and the agent console (accounts).
    ChannelSpec("console.department_api.DepartmentApiInput", "部门接口", "/dept/api/orders"),
    ChannelSpec("console.agent_console.AgentConsoleInput", "客服工作台", "/agent"),
    # The instance's background work (no routes): the handoff desk, the sweeper, the outbox.
    ChannelSpec("console.startup.InstanceWork", "后台任务", ""),
    # Prometheus metrics of this instance (METRICS_TOKEN, or loopback only).
    ChannelSpec("console.metrics.MetricsInput", "监控指标", "/metrics"),
    ChannelSpec(
        "channels.twilio.voice.TwilioVoiceInput", "电话（Twilio语音）", "/webhooks/voice/webhook", _TWILIO,
        name="voice", staff_label="电话", outbound=VoiceOutbound(),
    ),
    ChannelSpec(
        "channels.twilio.sms.TwilioSmsInput", "短信（Twilio）", "/webhooks/sms/webhook", _TWILIO,
        name="sms", staff_label="短信", outbound=SmsOutbound(),
    ),
    ChannelSpec(
        "channels.telegram.connector.TelegramInput", "Telegram", "/webhooks/telegram/webhook", _TELEGRAM,
        name="telegram", staff_label="Telegram", outbound=TelegramOutbound(),
    ),
)  # fmt: skip
_BY_NAME = {spec.name: spec for spec in CHANNELS if spec.name}


def outbound_of(channel: str) -> Outbound | None:
    """How a channel's citizen is written to after their turn; None for a channel that cannot be."""
    spec = _BY_NAME.get(channel)
    return spec.outbound if spec else None


def staff_label(channel: str) -> str:
    """How the staff's pages name a channel (电话, 短信, 网页, …); an unknown channel by its name."""
    spec = _BY_NAME.get(channel)
    return spec.staff_label if spec else channel


def write_credentials(settings: Settings, target: Path) -> list[ChannelSpec]:
    """Write the credentials file Rasa runs with: every input whose settings are present; those inputs."""
    started = [spec for spec in CHANNELS if not spec.missing(settings)]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by channels/registry.py: the inputs whose settings are present (settings come from the\n"
        "# environment through bot/core/settings.py, never from this file).\n"
        + yaml.safe_dump(dict.fromkeys(spec.path for spec in started), sort_keys=False),
        encoding="utf-8",
    )
    return started


def describe_channels(settings: Settings, base_url: str) -> str:
    """One line per input with an address: on with its address, or off with the settings it lacks."""
    lines = []
    for spec in CHANNELS:
        if not spec.address:
            continue
        missing = spec.missing(settings)
        if missing:
            lines.append(f"  {spec.label}：未开启（缺少 {', '.join(missing)}）")
        else:
            lines.append(f"  {spec.label}：已开启 {base_url}{spec.address}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Write the credentials file ``argv[0]`` and print the channels at base URL ``argv[1]``."""
    target, base_url = Path(argv[0]), argv[1]
    settings = get_settings()
    write_credentials(settings, target)
    print(describe_channels(settings, base_url))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

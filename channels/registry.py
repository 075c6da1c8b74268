"""Which channels the hotline runs: every connector, the settings it needs, and the file Rasa reads.

``python -m channels.registry TARGET BASE_URL`` writes the credentials file Rasa runs with and
prints one line per channel (``python -m bot run`` calls it before it starts the servers).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.settings import PROJECT_ROOT, Settings, get_settings
from channels.connector import Outbound
from channels.telegram.connector import TelegramOutbound
from channels.twilio.sms import SmsOutbound
from channels.twilio.voice import VoiceOutbound
from channels.webchat.connector import WebChatOutbound

CREDENTIALS = PROJECT_ROOT / "credentials.yml"


@dataclass(frozen=True)
class ChannelSpec:
    """A Rasa input as ``credentials.yml`` names it, the settings without which it is not started, and for a
    citizen's channel its name in the records, its label on the staff's pages and how it is written to later."""

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
    ChannelSpec(
        "channels.webchat.connector.WebChatInput", "网页聊天", "/chat",
        name="webchat", staff_label="网页", outbound=WebChatOutbound(),
    ),
    ChannelSpec("channels.rest.RestChannel", "REST接口", "/webhooks/rest/webhook", name="rest", staff_label="接口"),
    ChannelSpec("console.department_api.DepartmentApiInput", "部门接口", "/dept/api/orders"),
    ChannelSpec("console.agent_console.AgentConsoleInput", "客服工作台", "/agent"),
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


def write_credentials(settings: Settings, target: Path, source: Path = CREDENTIALS) -> list[ChannelSpec]:
    """Write the credentials file Rasa runs with: ``source`` without the channels whose settings are missing."""
    configured = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    specs = {spec.path: spec for spec in CHANNELS}
    started = {
        path: value for path, value in configured.items() if path not in specs or not specs[path].missing(settings)
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# Written by channels/registry.py from credentials.yml: the channels whose settings are present.\n"
        + yaml.safe_dump(started, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return [specs[path] for path in started if path in specs]


def describe_channels(settings: Settings, base_url: str) -> str:
    """One line per channel: on with its address, or off with the settings it lacks."""
    configured = yaml.safe_load(CREDENTIALS.read_text(encoding="utf-8")) or {}
    lines = []
    for spec in CHANNELS:
        if spec.path not in configured:
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

"""``make chat``: a conversation with the running hotline in the terminal."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

from bot.core.settings import get_settings


def send(url: str, sender: str, text: str, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """Send one message to the REST channel and return the bot's responses."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return list(json.loads(response.read()))


def render(message: dict[str, Any]) -> str:
    """A bot response as terminal text, buttons as numbered choices ("" for data-only messages)."""
    lines = [str(message.get("text") or "")]
    for button in message.get("buttons") or []:
        lines.append(f"    [{button.get('title')}]")
    return "\n".join(line for line in lines if line)


def chosen_payload(text: str, buttons: list[dict[str, Any]]) -> str:
    """A typed button number sends that button's payload, as a click would; anything else as typed."""
    stripped = text.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return str(buttons[int(stripped) - 1].get("payload") or stripped)
    return text


def chat(url: str | None = None) -> int:
    """Read lines from the terminal until 再见 or end of input."""
    url = url or f"http://localhost:{get_settings().rasa_port}/webhooks/rest/webhook"
    sender = "terminal-" + uuid.uuid4().hex[:8]
    print("和 12345 助手对话（Ctrl-D 退出）。可以输入按钮的序号。")
    buttons: list[dict[str, Any]] = []
    while True:
        try:
            text = chosen_payload(input("您："), buttons)
        except EOFError:
            print()
            return 0
        try:
            messages = send(url, sender, text)
            buttons = [b for m in messages for b in m.get("buttons") or []]
            for message in messages:
                shown = render(message)
                if shown:
                    print("助手：" + shown)
        except (urllib.error.URLError, TimeoutError) as error:
            print(f"连接不到助手（{url}）：{error}。请先运行 make run。")
            return 1

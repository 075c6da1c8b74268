"""``make chat``: a conversation with the running hotline in the terminal."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

from bot.settings import get_settings


def send(url: str, sender: str, text: str, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """Send one message to the REST channel and return the bot's responses."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return list(json.loads(response.read()))


def render(message: dict[str, Any]) -> str:
    """A bot response as terminal text, buttons as numbered choices."""
    lines = [str(message.get("text") or "")]
    for button in message.get("buttons") or []:
        lines.append(f"    [{button.get('title')}]")
    return "\n".join(line for line in lines if line)


def chat(url: str | None = None) -> int:
    """Read lines from the terminal until 再见 or end of input."""
    url = url or f"http://localhost:{get_settings().rasa_port}/webhooks/rest/webhook"
    sender = "terminal-" + uuid.uuid4().hex[:8]
    print("和 12345 助手对话（Ctrl-D 退出）。可以按按钮的序号回答。")
    while True:
        try:
            text = input("您：")
        except EOFError:
            print()
            return 0
        try:
            for message in send(url, sender, text):
                print("助手：" + render(message))
        except (urllib.error.URLError, TimeoutError) as error:
            print(f"连接不到助手（{url}）：{error}。请先运行 make run。")
            return 1

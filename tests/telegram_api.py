"""A stand-in of the Telegram Bot API for ``running_standin``: answers as Telegram documents it, records calls."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.standins import Recorded

BOT_USER = {
    "id": 123,
    "is_bot": True,
    "first_name": "12345热线",
    "username": "hotline12345_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def telegram_env(api_url: str, token: str, secret: str) -> dict[str, str]:
    """The settings that turn the Telegram channel on with its Bot API at a stand-in."""
    return {"TELEGRAM_BOT_TOKEN": token, "TELEGRAM_SECRET_TOKEN": secret, "TELEGRAM_API_BASE_URL": f"{api_url}/bot"}


def method_of(request: Recorded) -> str:
    """The Bot API method a request calls (``/bot<token>/sendMessage`` → ``sendMessage``)."""
    return request.path.rsplit("/", 1)[-1]


def params_of(request: Recorded) -> dict[str, Any]:
    """A call's parameters: a JSON body, or a form whose objects and arrays are JSON-encoded (as PTB sends them)."""
    if request.headers.get("Content-Type", "").startswith("application/json"):
        return dict(request.json or {})
    return {name: json.loads(value) if value.startswith(("{", "[")) else value for name, value in request.form.items()}


@dataclass
class BotApi:
    """The Bot API of one bot: its token, the messages it has sent, and the failures it was told to answer."""

    token: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    _accepted: list[Recorded] = field(default_factory=list)
    _failures: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    _refused: dict[int, tuple[int, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_message_id: int = 1000

    def too_many_requests(self, method: str, retry_after: int = 1, chat_id: int | None = None) -> None:
        """Answer the next call of ``method`` (for ``chat_id``, if given) with 429, retry after ``retry_after`` s."""
        with self._lock:
            self._failures.setdefault(method, []).append((retry_after, chat_id))

    def refuse(self, chat_id: int, status: int, description: str) -> None:
        """Answer every sendMessage to ``chat_id`` with an error for good (403 bot blocked, 400 chat not found)."""
        with self._lock:
            self._refused[chat_id] = (status, description)

    def __call__(self, request: Recorded) -> tuple[int, Any]:
        """Answer one Bot API request."""
        method = method_of(request)
        params = params_of(request)
        with self._lock:
            self.calls.append((time.monotonic(), method, params))
            if not request.path.startswith(f"/bot{self.token}/"):
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            pending = self._failures.get(method, [])
            failure = next((f for f in pending if f[1] is None or str(f[1]) == str(params.get("chat_id"))), None)
            if failure is not None:
                pending.remove(failure)
                retry_after = failure[0]
                return 429, {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                }
            refused = self._refused.get(int(params.get("chat_id") or 0)) if method == "sendMessage" else None
            if refused is not None:
                return refused[0], {"ok": False, "error_code": refused[0], "description": refused[1]}
            status, body = self._answer(method, params)
            if status == 200:
                self._accepted.append(request)
            return status, body

    def accepted(self, request: Recorded) -> bool:
        """Whether the stand-in answered this request with success (not 429, 401 or 400)."""
        with self._lock:
            return any(request is done for done in self._accepted)

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery"):
            return 200, {"ok": True, "result": True}
        if method == "sendMessage":
            text = str(params.get("text", ""))
            if not text or len(text) > 4096:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is invalid"}
            self._next_message_id += 1
            chat_id = int(params["chat_id"])
            message = {
                "message_id": self._next_message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "市民"},
                "from": {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")},
                "text": text,
            }
            self.sent.append({**params, "chat_id": chat_id, "message_id": self._next_message_id})
            return 200, {"ok": True, "result": message}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages sent to a chat so far, in order (their parameters and message_id)."""
        with self._lock:
            return [m for m in self.sent if m["chat_id"] == chat_id]

    def chats(self) -> list[int]:
        """The chats messages were sent to so far, in the order of their first message."""
        with self._lock:
            return list(dict.fromkeys(m["chat_id"] for m in self.sent))

    def calls_of(self, method: str) -> list[tuple[float, dict[str, Any]]]:
        """When and with what parameters ``method`` was called (successful or not)."""
        with self._lock:
            return [(at, params) for at, name, params in self.calls if name == method]

"""The REST channel: POST /webhooks/rest/webhook, answered with the bot's responses.

A body over ``MAX_REQUEST_BYTES`` never reaches it: the Rasa server's Sanic app answers 413 first.
"""

from __future__ import annotations

import re

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core.metrics import rejected
from channels.connector import Incoming, OnNewMessage, health, run_turn
from channels.text import EMPTY_REPLY, TOO_LONG_REPLY, clean_text, too_long

_SENDER = re.compile(r"[A-Za-z0-9_.:\-]{1,128}")


def _bad_request(reason: str, counted_as: str = "bad_request") -> HTTPResponse:
    rejected("rest", counted_as)
    return response.json({"error": reason}, status=400)


class RestChannel(InputChannel):
    """JSON in, JSON out; the client's own metadata is never trusted."""

    @classmethod
    def name(cls) -> str:
        """The channel's name and URL prefix."""
        return "rest"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The channel's routes."""
        webhook = Blueprint("hotline_rest", __name__)

        webhook.add_route(health, "/", methods=["GET"])

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except Exception:  # sanic raises its own BadRequest for broken JSON
                return _bad_request("请求体不是有效的JSON", "bad_json")
            if not isinstance(body, dict):
                return _bad_request("请求体应是包含sender和message的JSON对象")
            sender = body.get("sender")
            message = body.get("message")
            if not isinstance(sender, str) or not _SENDER.fullmatch(sender):
                return _bad_request("sender应为1-128位字母、数字或_.:-")
            if not isinstance(message, str):
                return _bad_request("message应为字符串")
            if too_long(message.strip()):  # refused before the character-by-character cleaning
                return response.json([{"recipient_id": sender, "text": TOO_LONG_REPLY}])
            text = clean_text(message)
            if not text:
                return response.json([{"recipient_id": sender, "text": EMPTY_REPLY}])
            if too_long(text):
                return response.json([{"recipient_id": sender, "text": TOO_LONG_REPLY}])
            return response.json(await run_turn(on_new_message, Incoming(sender, text, self.name())))

        return webhook

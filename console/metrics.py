"""GET /metrics on the Rasa server's port: the instance's Prometheus metrics (``bot.core.metrics``).

Not for the internet: with ``METRICS_TOKEN`` set, only a request carrying ``Authorization: Bearer
<token>`` is answered (401 otherwise); without it, only a request from the loopback interface that
no proxy forwarded (no ``X-Forwarded-For``, ``X-Real-IP`` or ``Forwarded``) is answered (403
otherwise), so a reverse proxy on the same machine does not publish it by accident.

The gauges are read when scraped: the handoff queue's length from the queue every instance shares,
the outbox's pending messages from the database. A source that does not answer leaves its gauge
at its last value and sets ``hotline_metrics_source_up{source}`` to 0; the scrape still succeeds.

Bodies refused by Sanic for their size (413, before any handler) are counted here as ``too_large``
of the channel whose route was asked.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from prometheus_client import CONTENT_TYPE_LATEST
from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import func, select

from bot.core import metrics
from bot.core.db import Database, DatabaseUnavailable
from bot.core.models import Notification
from bot.core.settings import Settings
from bot.handoff.queue import QueueUnavailable
from bot.work_orders import notifications
from channels.connector import OnNewMessage, channel_runtime
from channels.registry import CHANNELS
from console.desk import HandoffDesk, handoff_desk

logger = logging.getLogger(__name__)

_PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded")
# Where each citizen channel's routes live (its registry address up to its webhook).
_CHANNEL_PREFIXES = tuple(
    (spec.address.removesuffix("/webhook"), spec.name) for spec in CHANNELS if spec.name and spec.address
)


def channel_of_path(path: str) -> str:
    """The citizen channel a request path belongs to (``other`` for the staff's routes and the rest)."""
    for prefix, name in _CHANNEL_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return name
    return "other"


def may_scrape(request: Request, settings: Settings) -> HTTPResponse | None:
    """None when this request may read the metrics, else the 401/403 to answer."""
    token = str(settings.metrics_token)
    if token:
        sent = request.headers.get("authorization", "")
        scheme, _, value = sent.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
            return response.text("unauthorized\n", status=401, headers={"WWW-Authenticate": "Bearer"})
        return None
    try:
        loopback = ipaddress.ip_address(request.ip or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback or any(request.headers.get(name) for name in _PROXY_HEADERS):
        return response.text("forbidden: set METRICS_TOKEN to scrape from elsewhere\n", status=403)
    return None


async def outbox_backlog(database: Database) -> int:
    """How many messages of the outbox wait to be delivered.

    Raises:
        DatabaseUnavailable: the database is down.
    """
    async with database.session() as session:
        pending = select(func.count()).select_from(Notification).where(Notification.status == notifications.PENDING)
        return int(await session.scalar(pending) or 0)


async def refresh_gauges(desk: HandoffDesk) -> None:
    """Read the handoffs waiting and the outbox's pending messages into their gauges."""
    try:
        metrics.HANDOFFS_WAITING.set(len(await desk.queue.waiting()))
        metrics.GAUGE_SOURCE_UP.labels(source="handoff_queue").set(1)
    except QueueUnavailable as error:
        logger.warning("metrics: handoff queue not read: %s", error)
        metrics.GAUGE_SOURCE_UP.labels(source="handoff_queue").set(0)
    try:
        metrics.OUTBOX_PENDING.set(await outbox_backlog(desk.runtime.database))
        metrics.GAUGE_SOURCE_UP.labels(source="outbox").set(1)
    except DatabaseUnavailable as error:
        logger.warning("metrics: outbox not read: %s", error)
        metrics.GAUGE_SOURCE_UP.labels(source="outbox").set(0)


class MetricsInput(InputChannel):
    """/metrics as a Rasa input (Rasa serves nothing but inputs and its own API)."""

    @classmethod
    def name(cls) -> str:
        """Rasa's name of this input."""
        return "hotline_metrics"

    def url_prefix(self) -> str:
        """Served at /metrics, not under /webhooks/."""
        return "/metrics"

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The scrape route, and the count of bodies refused for their size."""
        exposed = Blueprint("hotline_metrics", __name__)

        @exposed.route("", methods=["GET"])
        async def scrape(request: Request) -> HTTPResponse:
            refused = may_scrape(request, channel_runtime().settings)
            if refused is not None:
                return refused
            await refresh_gauges(handoff_desk())
            return response.raw(metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        @exposed.signal("http.lifecycle.exception")
        async def refused_early(request: Request, exception: BaseException) -> None:
            if isinstance(exception, PayloadTooLarge):
                metrics.rejected(channel_of_path(request.path if request else ""), "too_large")

        return exposed

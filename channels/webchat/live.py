"""Waking up the open pages of a web chat session on every server instance: Redis pub/sub or in-process.

A signal carries no message, only news: ``entries`` (the session's log grew), ``typing`` (a bot
turn started) or ``idle`` (it ended). A page's event stream reads the log itself when woken, so
a lost signal delays an entry until the stream's next heartbeat but never loses it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.core.settings import Settings

logger = logging.getLogger(__name__)

# Web chat signals are "entries", "typing" and "idle"; the agent console uses the same hub on a
# channel of its own for "queue", "stats" and "handoff:<id>".
MAX_SIGNAL_CHARS = 64
# How long to wait before subscribing again after Redis went away.
RESUBSCRIBE_WAIT_S = 2.0
# Signals a slow page may have waiting; more are dropped (the log still holds every entry).
MAX_WAITING_SIGNALS = 100


class HubUnavailable(RuntimeError):
    """The pub/sub server (Redis) did not take the signal."""


class Listener:
    """One open page of a session: the signals that reached it, in order."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self._signals: asyncio.Queue[str] = asyncio.Queue(MAX_WAITING_SIGNALS)

    def deliver(self, signal: str) -> None:
        """Queue a signal; a full queue drops it (an ``entries`` signal is never needed twice)."""
        with suppress(asyncio.QueueFull):
            self._signals.put_nowait(signal)

    async def next_signal(self, timeout_s: float) -> str | None:
        """The next signal, or None when none came within ``timeout_s``."""
        try:
            return await asyncio.wait_for(self._signals.get(), timeout_s)
        except asyncio.TimeoutError:
            return None


class ChatHub(Protocol):
    """Signals to the open pages of a session, wherever they are connected."""

    async def notify(self, session_id: str, signal: str) -> None:
        """Send a signal to every open page of the session.

        Raises:
            HubUnavailable: the pub/sub server did not take it.
        """

    def listen(self, session_id: str) -> AbstractAsyncContextManager[Listener]:
        """A listener for this page while the block runs."""

    async def close(self) -> None:
        """Stop listening and release connections."""


class _LocalListeners:
    """The listeners of this process, by session."""

    def __init__(self) -> None:
        self._by_session: dict[str, set[Listener]] = {}

    def _add(self, listener: Listener) -> None:
        self._by_session.setdefault(listener.session_id, set()).add(listener)

    def _remove(self, listener: Listener) -> None:
        listeners = self._by_session.get(listener.session_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._by_session[listener.session_id]

    def _deliver(self, session_id: str, signal: str) -> None:
        for listener in self._by_session.get(session_id, ()):
            listener.deliver(signal)


class MemoryHub(_LocalListeners):
    """Signals within one server instance (the embedded default)."""

    async def notify(self, session_id: str, signal: str) -> None:
        """Send a signal to every open page of the session."""
        self._deliver(session_id, signal)

    @asynccontextmanager
    async def listen(self, session_id: str) -> AsyncIterator[Listener]:
        """A listener for this page while the block runs."""
        listener = Listener(session_id)
        self._add(listener)
        try:
            yield listener
        finally:
            self._remove(listener)

    async def close(self) -> None:
        """Nothing to release."""


class RedisHub(_LocalListeners):
    """Signals through one Redis channel, so that every server instance wakes its own pages."""

    def __init__(self, url: str, timeout_s: float, channel: str = "hotline:webchat") -> None:
        super().__init__()
        self._url = url
        self._timeout_s = timeout_s
        self._channel = channel
        self._publisher = aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def notify(self, session_id: str, signal: str) -> None:
        """Publish a signal for the session to every server instance.

        Raises:
            HubUnavailable: Redis did not take it.
        """
        try:
            await self._publisher.publish(self._channel, json.dumps([session_id, signal]))
        except (RedisError, OSError) as error:
            raise HubUnavailable(type(error).__name__) from error

    @asynccontextmanager
    async def listen(self, session_id: str) -> AsyncIterator[Listener]:
        """A listener for this page while the block runs (subscribed before the block starts, if Redis is up)."""
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read(), name="webchat-redis-subscriber")
        listener = Listener(session_id)
        self._add(listener)
        try:
            with suppress(asyncio.TimeoutError):  # Redis is down: the stream's heartbeats still read the log
                await asyncio.wait_for(self._subscribed.wait(), self._timeout_s)
            yield listener
        finally:
            self._remove(listener)

    async def _read(self) -> None:
        """Receive the signals of every instance and wake this process's listeners; resubscribe after failures."""
        while True:
            # No read timeout: a subscriber waits for as long as nothing is published; health checks ping.
            subscriber = aioredis.Redis.from_url(
                self._url, socket_connect_timeout=self._timeout_s, socket_keepalive=True, health_check_interval=30
            )
            pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed.set()
                async for message in pubsub.listen():
                    self._dispatch(message.get("data"))
            except (RedisError, OSError) as error:
                logger.warning("web chat: Redis subscription lost (%s); subscribing again", type(error).__name__)
            finally:
                self._subscribed.clear()
                with suppress(RedisError, OSError):
                    await pubsub.close()
                    await subscriber.close()
            await asyncio.sleep(RESUBSCRIBE_WAIT_S)  # backoff before reconnecting to Redis

    def _dispatch(self, data: object) -> None:
        try:
            session_id, signal = json.loads(data)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            logger.warning("web chat: ignored a malformed signal on %s", self._channel)
            return
        if isinstance(session_id, str) and isinstance(signal, str) and len(signal) <= MAX_SIGNAL_CHARS:
            self._deliver(session_id, signal)

    async def close(self) -> None:
        """Stop the subscriber and close the connections."""
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
        await self._publisher.close()


def open_chat_hub(settings: Settings, channel: str = "hotline:webchat") -> ChatHub:
    """Redis pub/sub on ``channel`` when ``REDIS_URL`` is set, in-process otherwise (no connection is made here)."""
    if settings.redis_url:
        return RedisHub(settings.redis_url, settings.outside_call_timeout_s, channel)
    return MemoryHub()

"""One citizen's messages answered in the order they arrived, one turn after the other, in this process.

A connector takes the message's ``Place`` in its conversation's line when the message arrives
(before any await that could let a later message of the same citizen overtake it) and holds it
around the turn: the turn starts once every earlier message of the conversation is answered. A
message waits idle here, not in a turn slot (``ChannelRuntime.turns``) nor polling Rasa's lock, so a
burst of one citizen never keeps other citizens waiting and follows at once, turn after turn.

Across instances (a load balancer spreading one citizen's messages) Rasa's conversation lock keeps
the turns apart; its waiters are woken when it is released (``bot.rasa.stores.SettingsLockStore``).
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class Place:
    """A message's place in its conversation's line: ``async with`` waits for the earlier ones, then holds it.

    Entering again (the connector around its work, ``run_turn`` inside it) only counts; the place is
    left when the outermost ``async with`` ends, or at once if the wait is cancelled. A place that is
    never entered must be left with ``leave()``.
    """

    def __init__(self, line: TurnLine, conversation_id: str, previous: asyncio.Future[None] | None) -> None:
        self._line = line
        self._conversation_id = conversation_id
        self._previous = previous
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._depth = 0

    async def __aenter__(self) -> Place:
        """Wait until every earlier message of the conversation is answered."""
        self._depth += 1
        if self._depth == 1 and self._previous is not None and not self._previous.done():
            try:
                await asyncio.shield(self._previous)
            except BaseException:
                self._depth -= 1
                self.leave()
                raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Let the next message of the conversation go (after the outermost exit)."""
        self._depth -= 1
        if self._depth == 0:
            self.leave()

    def leave(self) -> None:
        """Give up the place; the next message goes once every earlier one is answered (order is kept)."""
        if self._done.done():
            return
        previous = self._previous
        if previous is None or previous.done():
            self._finish()
        else:  # left before its turn (cancelled, or never entered): the next still waits for the earlier ones
            previous.add_done_callback(lambda _: self._finish())

    def _finish(self) -> None:
        if not self._done.done():
            self._done.set_result(None)
        self._line._left(self._conversation_id, self._done)


class TurnLine:
    """Each conversation's line of messages waiting for their turn (in-process)."""

    def __init__(self) -> None:
        self._last: dict[str, asyncio.Future[None]] = {}

    def join(self, conversation_id: str) -> Place:
        """The place of a message arriving now, behind every earlier one of the conversation (no await)."""
        place = Place(self, conversation_id, self._last.get(conversation_id))
        self._last[conversation_id] = place._done
        return place

    def waiting(self, conversation_id: str) -> bool:
        """Whether a message of the conversation is in line (holding its turn or waiting)."""
        return conversation_id in self._last

    def _left(self, conversation_id: str, done: asyncio.Future[None]) -> None:
        if self._last.get(conversation_id) is done:
            del self._last[conversation_id]

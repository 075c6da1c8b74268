"""Throttling of the console's failed logins by where they come from, never by locking an account.

Failed logins are counted per (source address, username) and per source address, in the shared
state (Redis, so every instance counts together; in-process otherwise). The failure that reaches
``AGENT_LOCKOUT_FAILURES`` for one username from one address, or ``AGENT_LOCKOUT_ADDRESS_FAILURES``
for any usernames from one address, refuses that address (for that username, or for all) during
``AGENT_LOCKOUT_MINUTES``. An agent logging in from another address is never refused because
someone failed on their name, and nothing here depends on whether the username exists: an unknown
username is counted, refused and timed exactly as a known one with a wrong password.

When Redis does not answer, the counts are kept in this process meanwhile (refusals still work per
instance) rather than letting every guess through or refusing every login.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core import clock
from bot.core.db import Database
from bot.core.settings import Settings
from bot.core.shared_state import MemoryState, SharedState, SharedStateUnavailable
from bot.handoff.agents import LoginRefused, LoginRules, NewSession, login, normalise_username

logger = logging.getLogger(__name__)


class LoginThrottled(Exception):
    """Too many failed logins from this address (for this username, or for any): none until ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"throttled until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class ThrottleRules:
    """How many failures from one address are allowed, and for how long a refusal lasts."""

    per_username: int = 5
    per_address: int = 20
    period: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottleRules:
        """The rules of AGENT_LOCKOUT_FAILURES, AGENT_LOCKOUT_ADDRESS_FAILURES and AGENT_LOCKOUT_MINUTES."""
        return cls(
            per_username=settings.agent_lockout_failures,
            per_address=settings.agent_lockout_address_failures,
            period=timedelta(minutes=settings.agent_lockout_minutes),
        )


def _digest(text: str) -> str:
    """A short digest, so that keys hold neither a typed username nor an address in clear."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass
class LoginThrottle:
    """Failed logins counted by source address and username in the shared state."""

    state: SharedState
    rules: ThrottleRules
    # Where the counts go while the shared state does not answer.
    fallback: MemoryState = field(default_factory=MemoryState)

    def _keys(self, address: str, username: str) -> list[tuple[str, int]]:
        """The (key, limit) of the pair and of the address alone."""
        pair = _digest(f"{address}\n{normalise_username(username)}")
        alone = _digest(address)
        return [(f"login:pair:{pair}", self.rules.per_username), (f"login:addr:{alone}", self.rules.per_address)]

    async def check(self, address: str, username: str, now: datetime) -> None:
        """Refuse an address that failed too often (for this username, or for any) before its password is checked.

        Raises:
            LoginThrottled: the address is refused until the given moment.
        """
        for key, _ in self._keys(address, username):
            for raw in await self._get(f"{key}:until"):
                until = clock.parse_moment(raw)
                if until > now:
                    raise LoginThrottled(until)

    async def failed(self, address: str, username: str, now: datetime) -> None:
        """Count a failed login; raise when this failure refuses the address.

        Raises:
            LoginThrottled: this failure reached a limit; the address is refused from now on.
        """
        ttl_s = max(1, int(self.rules.period.total_seconds()))
        refused_until: datetime | None = None
        for key, limit in self._keys(address, username):
            count = await self._increment(f"{key}:failures", ttl_s)
            if count >= limit:
                refused_until = now + self.rules.period
                await self._put(f"{key}:until", refused_until.isoformat(), ttl_s)
                await self._delete(f"{key}:failures")
        if refused_until is not None:
            raise LoginThrottled(refused_until)

    async def succeeded(self, address: str, username: str) -> None:
        """Forget the failures of this username from this address (the address's own count stays)."""
        pair_key = self._keys(address, username)[0][0]
        await self._delete(f"{pair_key}:failures")

    async def _get(self, key: str) -> list[str]:
        """The value in the shared state and the one kept here while it did not answer (either may be missing)."""
        values = [await self.fallback.get(key)]
        try:
            values.append(await self.state.get(key))
        except SharedStateUnavailable as error:
            logger.warning("login throttle: shared state unavailable, counting in this process: %s", error)
        return [value for value in values if value is not None]

    async def _increment(self, key: str, ttl_s: int) -> int:
        try:
            return await self.state.increment(key, ttl_s)
        except SharedStateUnavailable:
            return await self.fallback.increment(key, ttl_s)

    async def _put(self, key: str, value: str, ttl_s: int) -> None:
        try:
            await self.state.put(key, value, ttl_s)
        except SharedStateUnavailable:
            await self.fallback.put(key, value, ttl_s)

    async def _delete(self, key: str) -> None:
        try:
            await self.state.delete(key)
        except SharedStateUnavailable:
            await self.fallback.delete(key)


async def throttled_login(
    database: Database,
    throttle: LoginThrottle,
    address: str,
    username: str,
    password: str,
    now: datetime,
    rules: LoginRules,
) -> NewSession:
    """A login from ``address``: refused at once when the address is throttled, counted when it fails.

    Raises:
        LoginThrottled: this address failed too often (for this username, or for any), now or before.
        LoginRefused: unknown username, wrong password or disabled account (indistinguishable).
        DatabaseUnavailable: the database is down.
    """
    await throttle.check(address, username, now)
    try:
        started = await login(database, username, password, now, rules)
    except LoginRefused:
        await throttle.failed(address, username, now)
        raise
    await throttle.succeeded(address, username)
    return started

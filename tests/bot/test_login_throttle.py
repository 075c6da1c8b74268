"""Failed console logins throttled by (address, username) and by address, in-process and on Redis; never the account."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import china
from bot.core.db import Database
from bot.core.settings import get_settings
from bot.core.shared_state import MemoryState, RedisState
from bot.handoff.agents import LoginRefused, LoginRules, add_agent
from bot.handoff.login_throttle import LoginThrottle, LoginThrottled, ThrottleRules, throttled_login
from tests.bot.conftest import REDIS_URL, in_memory_and_on_redis, redis_prefix

T0 = china(2026, 11, 28, 9, 0)
RULES = LoginRules()
PASSWORD = "correct-horse-42"
WRONG = "wrong-password-1"
ATTACKER, OFFICE = "203.0.113.5", "10.1.2.3"

state = in_memory_and_on_redis(MemoryState, lambda prefix: RedisState(REDIS_URL, timeout_s=2, prefix=prefix))


def _throttle(store: MemoryState | RedisState, per_username: int = 5, per_address: int = 20) -> LoginThrottle:
    return LoginThrottle(store, ThrottleRules(per_username, per_address, timedelta(minutes=15)))


async def _fail(throttle: LoginThrottle, address: str, username: str, times: int) -> None:
    for _ in range(times):
        await throttle.failed(address, username, T0)


async def test_the_fifth_failure_of_one_username_from_one_address_refuses_that_pair_only(
    state: MemoryState | RedisState,
) -> None:
    throttle = _throttle(state)
    await _fail(throttle, ATTACKER, "wangli", 4)
    await throttle.check(ATTACKER, "wangli", T0)  # four are allowed
    with pytest.raises(LoginThrottled) as refused:
        await throttle.failed(ATTACKER, "wangli", T0)
    assert refused.value.until == T0 + timedelta(minutes=15)
    with pytest.raises(LoginThrottled):
        await throttle.check(ATTACKER, "WangLi ", T0 + timedelta(minutes=14))  # the username as the login reads it
    await throttle.check(OFFICE, "wangli", T0)  # the agent at the office is not refused
    await throttle.check(ATTACKER, "zhaomin", T0)  # nor another username from the attacker's address
    await throttle.check(ATTACKER, "wangli", T0 + timedelta(minutes=15))  # and the refusal runs out


async def test_failures_over_many_usernames_from_one_address_refuse_the_address(
    state: MemoryState | RedisState,
) -> None:
    throttle = _throttle(state, per_username=5, per_address=6)
    for n in range(5):
        await throttle.failed(ATTACKER, f"guess{n}", T0)
    with pytest.raises(LoginThrottled):
        await throttle.failed(ATTACKER, "guess5", T0)
    with pytest.raises(LoginThrottled):
        await throttle.check(ATTACKER, "somebody-new", T0)
    await throttle.check(OFFICE, "somebody-new", T0)


async def test_a_success_forgets_the_failures_of_that_username_from_that_address(
    state: MemoryState | RedisState,
) -> None:
    throttle = _throttle(state)
    await _fail(throttle, OFFICE, "wangli", 4)
    await throttle.succeeded(OFFICE, "wangli")
    await _fail(throttle, OFFICE, "wangli", 4)
    await throttle.check(OFFICE, "wangli", T0)


async def test_an_unknown_username_is_throttled_exactly_as_a_known_one(sqlite_database: Database) -> None:
    await add_agent(sqlite_database, "wangli", "王丽", "agent", PASSWORD, T0)
    throttle = _throttle(MemoryState())
    outcomes = {}
    for username in ("wangli", "nobody"):
        seen = []
        for _ in range(6):
            try:
                await throttled_login(sqlite_database, throttle, ATTACKER, username, WRONG, T0, RULES)
            except (LoginRefused, LoginThrottled) as refusal:
                seen.append(type(refusal).__name__)
        outcomes[username] = seen
    assert outcomes["wangli"] == outcomes["nobody"] == ["LoginRefused"] * 4 + ["LoginThrottled"] * 2


async def test_a_throttled_pair_is_refused_even_the_right_password_while_another_address_logs_in(
    sqlite_database: Database,
) -> None:
    await add_agent(sqlite_database, "wangli", "王丽", "agent", PASSWORD, T0)
    throttle = _throttle(MemoryState())
    for _ in range(4):
        with pytest.raises(LoginRefused):
            await throttled_login(sqlite_database, throttle, ATTACKER, "wangli", WRONG, T0, RULES)
    with pytest.raises(LoginThrottled):
        await throttled_login(sqlite_database, throttle, ATTACKER, "wangli", WRONG, T0, RULES)
    with pytest.raises(LoginThrottled):
        await throttled_login(sqlite_database, throttle, ATTACKER, "wangli", PASSWORD, T0, RULES)
    started = await throttled_login(sqlite_database, throttle, OFFICE, "wangli", PASSWORD, T0, RULES)
    assert started.agent.username == "wangli"


async def test_with_redis_away_the_counts_are_kept_in_this_process() -> None:
    throttle = _throttle(RedisState("redis://127.0.0.1:1/0", timeout_s=0.5), per_username=2)
    await throttle.failed(ATTACKER, "wangli", T0)
    with pytest.raises(LoginThrottled):
        await throttle.failed(ATTACKER, "wangli", T0)
    with pytest.raises(LoginThrottled):
        await throttle.check(ATTACKER, "wangli", T0)
    await throttle.check(OFFICE, "wangli", T0)


async def test_two_instances_on_one_redis_count_together() -> None:
    prefix = redis_prefix()
    first, second = RedisState(REDIS_URL, 2, prefix), RedisState(REDIS_URL, 2, prefix)
    try:
        await _fail(_throttle(first), ATTACKER, "wangli", 3)
        with pytest.raises(LoginThrottled):
            await _fail(_throttle(second), ATTACKER, "wangli", 2)
        with pytest.raises(LoginThrottled):
            await _throttle(first).check(ATTACKER, "wangli", T0)
    finally:
        await first.close()
        await second.close()


def test_the_limits_come_from_the_settings(monkeypatch: pytest.MonkeyPatch, clean_settings: None) -> None:
    monkeypatch.setenv("AGENT_LOCKOUT_FAILURES", "3")
    monkeypatch.setenv("AGENT_LOCKOUT_ADDRESS_FAILURES", "9")
    monkeypatch.setenv("AGENT_LOCKOUT_MINUTES", "30")
    assert ThrottleRules.from_settings(get_settings()) == ThrottleRules(3, 9, timedelta(minutes=30))
    monkeypatch.delenv("AGENT_LOCKOUT_FAILURES")
    monkeypatch.delenv("AGENT_LOCKOUT_ADDRESS_FAILURES")
    monkeypatch.delenv("AGENT_LOCKOUT_MINUTES")
    get_settings.cache_clear()
    assert ThrottleRules.from_settings(get_settings()) == ThrottleRules(5, 20, timedelta(minutes=15))

"""Proving that a case or a work order is yours: the last four digits of the phone, with a lock-out."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import Database
from bot.core.models import VerificationLock
from bot.core.numerals import digit_runs
from bot.core.personal_data import digest


class Verdict(str, Enum):
    """The outcome of an ownership check."""

    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Verification:
    """An ownership check's outcome, attempts left and lock end."""

    verdict: Verdict
    attempts_left: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LockRule:
    """How many wrong answers in a row lock a number, and for how long."""

    max_failures: int
    lock_minutes: int


# The digest (with the number) of the last four digits expected for a case or order number, read in a
# session with the key; None where there is nothing to check against.
TailDigestOf = Callable[[AsyncSession, str, str], Awaitable[str | None]]


def tail_matches(number: str, answer: str, expected_tail_digest: str, key: str) -> bool:
    """Whether the last four digits the citizen said are the ones whose digest (with ``number``) is expected."""
    tails = [run[-4:] for run in digit_runs(answer, min_length=4)]
    return bool(tails) and hmac.compare_digest(digest(number + tails[-1], key), expected_tail_digest)


async def judge(session: AsyncSession, number: str, matched: bool, now: datetime, rule: LockRule) -> Verification:
    """Record an answer about ``number``: a lock in force wins; a wrong answer counts towards a lock."""
    lock = await session.get(VerificationLock, number)
    if lock is not None and lock.locked_until is not None and lock.locked_until > now:
        return Verification(Verdict.LOCKED, locked_until=lock.locked_until)
    if matched:
        if lock is not None:
            await session.delete(lock)
        return Verification(Verdict.VERIFIED)
    if lock is None:
        lock = VerificationLock(case_number=number, failures=0)
        session.add(lock)
    elif lock.locked_until is not None:  # an expired lock: start counting again
        lock.failures = 0
        lock.locked_until = None
    lock.failures += 1
    if lock.failures >= rule.max_failures:
        lock.locked_until = now + timedelta(minutes=rule.lock_minutes)
        return Verification(Verdict.LOCKED, locked_until=lock.locked_until)
    return Verification(Verdict.WRONG, attempts_left=rule.max_failures - lock.failures)


async def verify_tail(
    database: Database,
    number: str,
    answer: str,
    tail_digest_of: TailDigestOf,
    *,
    key: str,
    now: datetime,
    rule: LockRule,
) -> Verification:
    """Check the last four digits said for ``number``; wrong answers lead to a lock, nothing to check is NOT_FOUND.

    Cases and work orders count wrong answers in the same lock table (their numbers never collide).
    """
    async with database.session() as session:
        expected = await tail_digest_of(session, number, key)
        if expected is None:
            return Verification(Verdict.NOT_FOUND)
        return await judge(session, number, tail_matches(number, answer, expected, key), now, rule)

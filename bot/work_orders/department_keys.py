"""Departments' keys to their HTTP API: issued once, stored as digests, revocable."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.appeals.routing import load_routing
from bot.core.db import Database
from bot.core.models import DepartmentKey

# 32 random bytes, URL-safe base64 without padding: 43 characters.
KEY_BYTES = 32
MAX_DEPARTMENT_CHARS = 200
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


class InvalidDepartment(ValueError):
    """A department name that is empty or too long."""


class UnknownKey(LookupError):
    """No key has this id."""


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``key`` is shown once and never stored."""

    key_id: int
    department: str
    key: str


@dataclass(frozen=True)
class KeyInfo:
    """What may be listed about a key (never the key)."""

    key_id: int
    department: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """The department a valid key belongs to."""

    key_id: int
    department: str


def key_digest(key: str) -> str:
    """The SHA-256 digest of a key, as stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def department_name(raw: str) -> str:
    """A department name without surrounding spaces, or ``InvalidDepartment``."""
    name = raw.strip()
    if not name:
        raise InvalidDepartment("部门名称不能为空")
    if len(name) > MAX_DEPARTMENT_CHARS:
        raise InvalidDepartment(f"部门名称不能超过{MAX_DEPARTMENT_CHARS}个字")
    return name


def routing_mentions(department: str) -> bool:
    """Whether a routing rule (data/appeals/routing.yml) sends orders to this department."""
    return department in set(load_routing().departments.values())


async def add_key(database: Database, department: str, now: datetime) -> IssuedKey:
    """Issue a new key to a department; the returned key is the only copy."""
    name = department_name(department)
    key = secrets.token_urlsafe(KEY_BYTES)
    async with database.session() as session:
        row = DepartmentKey(department=name, key_digest=key_digest(key), created_at=now)
        session.add(row)
        await session.flush()
        return IssuedKey(key_id=row.id, department=name, key=key)


def _info(row: DepartmentKey) -> KeyInfo:
    return KeyInfo(key_id=row.id, department=row.department, created_at=row.created_at, revoked_at=row.revoked_at)


async def list_keys(database: Database) -> list[KeyInfo]:
    """Every key, by department then age, revoked ones included."""
    async with database.session() as session:
        rows = await session.scalars(select(DepartmentKey).order_by(DepartmentKey.department, DepartmentKey.id))
        return [_info(row) for row in rows]


async def revoke_key(database: Database, key_id: int, now: datetime) -> KeyInfo:
    """Revoke a key at once (a key already revoked keeps its first revocation time)."""
    async with database.session() as session:
        row = await session.get(DepartmentKey, key_id)
        if row is None:
            raise UnknownKey(f"没有编号为{key_id}的密钥")
        if row.revoked_at is None:
            row.revoked_at = now
        return _info(row)


async def authenticate(database: Database, presented: str) -> Caller | None:
    """The department of a valid, unrevoked key, or None."""
    if not _KEY_SHAPE.fullmatch(presented):
        return None
    async with database.session() as session:
        row = await session.scalar(select(DepartmentKey).where(DepartmentKey.key_digest == key_digest(presented)))
        if row is None or row.revoked_at is not None:
            return None
        return Caller(key_id=row.id, department=row.department)

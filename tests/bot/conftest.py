"""Fixtures of the domain tests: work orders to file, empty databases of both kinds, stores in-process and on Redis."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from bot.work_orders.filing import NewOrder
from tests.conftest import create_postgres_database, drop_postgres_database

REDIS_URL = "redis://127.0.0.1:6379/0"
PROPERTY = ("城乡建设", "住房保障与房地产", "物业服务")
# A complaint (投诉) about a broken lift in 天河区, sent by web chat: what most tests file.
LIFT_COMPLAINT = NewOrder(
    type="投诉",
    summary="小区电梯坏了两周，物业一直不修",
    district="天河区",
    category=PROPERTY,
    sender_id="web-abc",
    channel="webchat",
)


# A dispatched complaint as a row of work_orders, for tests that write straight into the table (old schemas).
ORDER_ROW: dict[str, Any] = {
    "kind": "投诉",
    "title": "",
    "summary": "小区电梯经常坏",
    "sender_id": "tg-1",
    "status": "已派单",
    "anonymous": False,
    "urgency": "normal",
    "source": "conversation",
    "reopened": 0,
    "channel": "telegram",
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of a database with nothing in it, on SQLite and on real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hotline.db'}"
        return
    made = await create_postgres_database()
    yield made
    await drop_postgres_database(made)


def complaint(**fields: Any) -> NewOrder:
    """``LIFT_COMPLAINT`` with ``fields`` changed."""
    return dataclasses.replace(LIFT_COMPLAINT, **fields)


class Closable(Protocol):
    async def close(self) -> None: ...


Store = TypeVar("Store", bound=Closable)


def redis_prefix() -> str:
    """A key prefix of its own on the shared Redis, so that tests never see each other's keys."""
    return f"test:{uuid.uuid4().hex}:"


def in_memory_and_on_redis(in_memory: Callable[[], Store], on_redis: Callable[[str], Store]) -> Any:
    """A fixture giving each test a fresh store of both kinds; ``on_redis`` gets a key prefix of its own."""

    @pytest.fixture(params=["memory", "redis"])
    async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
        made = in_memory() if request.param == "memory" else on_redis(redis_prefix())
        yield made
        await made.close()

    return store

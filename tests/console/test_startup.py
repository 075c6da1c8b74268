"""The instance's start-up: it refuses a database whose times were never converted to UTC, and to start
without its safety model."""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from bot.core.db import Database, OutdatedTimestamps, SchemaOutdated
from bot.safety import danger, model
from console import startup
from tests.bot.test_timestamps import make_old_database


async def test_an_instance_does_not_start_on_a_database_with_old_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await make_old_database(url)
    database = Database(url)
    desk = SimpleNamespace(runtime=SimpleNamespace(database=database), conversations=SimpleNamespace(agent=None))
    monkeypatch.setattr(startup, "handoff_desk", lambda: desk)
    monkeypatch.setattr(startup, "channel_runtime", lambda: SimpleNamespace(desk=None))
    app = SimpleNamespace(ctx=SimpleNamespace(agent=None))
    try:
        with pytest.raises(OutdatedTimestamps, match="db init"):
            await startup.start(app)  # type: ignore[arg-type]
        assert not hasattr(app.ctx, "background")  # no sweeper, no outbox writing UTC among China times
        assert "python -m bot db init" in caplog.text
    finally:
        await database.close()


async def test_an_instance_does_not_start_on_a_database_behind_the_newest_migration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    database = Database(url)
    await database.create_schema()
    async with database.session() as session:  # as a database migrated by an older release would be
        await session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    desk = SimpleNamespace(runtime=SimpleNamespace(database=database), conversations=SimpleNamespace(agent=None))
    monkeypatch.setattr(startup, "handoff_desk", lambda: desk)
    monkeypatch.setattr(startup, "channel_runtime", lambda: SimpleNamespace(desk=None))
    app = SimpleNamespace(ctx=SimpleNamespace(agent=None))
    try:
        with pytest.raises(SchemaOutdated):
            await startup.start(app)  # type: ignore[arg-type]
        assert not hasattr(app.ctx, "background")
        assert "python -m bot db upgrade" in caplog.text
    finally:
        await database.close()


async def test_an_instance_does_not_start_without_its_safety_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The model is trained before the server takes a message; without its training data it refuses the start."""
    monkeypatch.setattr(model, "EXAMPLES", tmp_path)  # a folder without examples
    monkeypatch.setattr(danger, "_trained", functools.lru_cache(maxsize=1)(danger._trained.__wrapped__))
    with pytest.raises(model.SafetyModelError, match="training data unreadable"):
        await startup.prepare()
    assert "start-up refused: safety model: training data unreadable" in caplog.text

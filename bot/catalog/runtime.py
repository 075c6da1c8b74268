"""What a running process shares: settings, the database and the catalogue index."""

from __future__ import annotations

import asyncio
import time

from bot.catalog.search import CatalogIndex, SearchEntry
from bot.catalog.store import load_services
from bot.core.db import Database
from bot.core.models import Service
from bot.core.settings import Settings, get_settings

# How long the catalogue (services and their search index) is kept before it is read again.
INDEX_MAX_AGE_S = 300.0


class Hotline:
    """The domain as one process sees it; created on first use, never at import.

    The catalogue is read-mostly: it is held in memory and read again from the database when it
    is older than ``INDEX_MAX_AGE_S``, so that an import reaches running servers within minutes.
    """

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self._index: CatalogIndex | None = None
        self._services: dict[str, Service] = {}
        self._index_built_at = 0.0
        self._index_lock = asyncio.Lock()
        self._index_signature = 0

    async def service(self, service_id: str) -> Service | None:
        """A service of the catalogue, with its situations, or None."""
        await self.catalog_index()
        return self._services.get(service_id)

    async def catalog_index(self) -> CatalogIndex:
        """The search index, rebuilt from the database when it is older than a few minutes."""
        async with self._index_lock:
            if self._index is None or time.monotonic() - self._index_built_at > INDEX_MAX_AGE_S:
                services = await load_services(self.database)
                self._services = {service.id: service for service in services}
                signature = hash(tuple((s.id, s.content_hash) for s in services))
                if self._index is None or signature != self._index_signature:
                    # Building the index of thousands of services takes seconds: off the event loop,
                    # and only when the catalogue changed.
                    self._index = await asyncio.to_thread(self._build_index, services)
                    self._index_signature = signature
                self._index_built_at = time.monotonic()
            return self._index

    def _build_index(self, services: list[Service]) -> CatalogIndex:
        return CatalogIndex.from_entries(
            (
                SearchEntry(
                    id=s.id,
                    name=s.name,
                    department=s.department,
                    aliases=tuple(s.aliases),
                    situations=tuple(x.name for x in s.situations),
                    source=s.source,
                    materials=tuple(m["name"] for x in s.situations for m in x.materials),
                    area=s.area or "",
                )
                for s in services
            ),
            min_score=self.settings.search_min_score,
        )


_current: Hotline | None = None


def current() -> Hotline:
    """The process's hotline, created from the settings on first use."""
    global _current
    if _current is None:
        settings = get_settings()
        _current = Hotline(settings, Database(settings.database_url))
    return _current


async def close_current() -> None:
    """Close the process's hotline's database connections and forget it (at the server's stop)."""
    global _current
    if _current is not None:
        await _current.database.close()
        _current = None


def use(hotline: Hotline | None) -> None:
    """Replace the process's hotline (tests, and tools that bring their own database)."""
    global _current
    _current = hotline

"""Storing the service catalogue in the project database and reading it back."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import delete, select

from bot.catalog.formats import ParseResult, ServiceRecord
from bot.core.db import Database
from bot.core.imports import FileRefused
from bot.core.models import Service, Situation


class CatalogRefused(FileRefused):
    """A catalogue file with errors: nothing of it was stored."""


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    added: int
    updated: int
    unchanged: int
    warnings: list[str]


def _rows(record: ServiceRecord) -> Service:
    service = Service(
        id=record.id,
        name=record.name,
        department=record.department,
        source=record.source,
        area=record.area,
        aliases=list(record.aliases),
        summary=record.summary,
        online_channel=record.online_channel,
        url=record.url,
        content_hash=record.content_hash(),
    )
    service.situations = [
        Situation(
            position=position,
            name=situation.name,
            aliases=list(situation.aliases),
            conditions=list(situation.conditions),
            materials=[asdict(material) for material in situation.materials],
            offices=[asdict(office) for office in situation.offices],
            fee=situation.fee,
            time_limit_days=situation.time_limit_days,
            fully_online=situation.fully_online,
            visits=situation.visits,
        )
        for position, situation in enumerate(record.situations)
    ]
    return service


async def import_records(database: Database, parsed: ParseResult) -> ImportReport:
    """Store every record of a parsed file in one transaction, or none if it has errors."""
    if parsed.errors:
        raise CatalogRefused(parsed.errors)
    incoming = {record.id: record for record in parsed.records}
    async with database.session() as session:
        existing = dict(
            (
                await session.execute(select(Service.id, Service.content_hash).where(Service.id.in_(list(incoming))))
            ).all()
        )
        changed = [
            service_id
            for service_id, record in incoming.items()
            if service_id in existing and existing[service_id] != record.content_hash()
        ]
        for chunk_start in range(0, len(changed), 500):
            chunk = changed[chunk_start : chunk_start + 500]
            await session.execute(delete(Situation).where(Situation.service_id.in_(chunk)))
            await session.execute(delete(Service).where(Service.id.in_(chunk)))
        new_ids = [service_id for service_id in incoming if service_id not in existing]
        session.add_all(_rows(incoming[service_id]) for service_id in [*changed, *new_ids])
    return ImportReport(
        added=len(new_ids),
        updated=len(changed),
        unchanged=len(incoming) - len(new_ids) - len(changed),
        warnings=parsed.warnings,
    )


async def load_services(database: Database) -> list[Service]:
    """Every service of the catalogue, with its situations."""
    async with database.session() as session:
        result = await session.execute(select(Service).order_by(Service.source.desc(), Service.id))
        return list(result.scalars().all())

"""One citizen across channels: a record keyed by a verified phone number, and its channel links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.db import Database
from bot.core.models import Citizen, CitizenLink
from bot.core.personal_data import digest, mask_phone, parse_phone


@dataclass(frozen=True)
class CitizenView:
    """What a channel or an action needs to know about a verified citizen."""

    id: int
    phone: str
    phone_digest: str

    @property
    def masked_phone(self) -> str:
        """The phone number as it may be shown or logged."""
        return mask_phone(self.phone)


def _view(citizen: Citizen) -> CitizenView:
    return CitizenView(id=citizen.id, phone=citizen.phone, phone_digest=citizen.phone_digest)


async def identify(
    database: Database, phone: str, key: str, now: datetime, channel: str = "", external_id: str = ""
) -> CitizenView:
    """The citizen with this verified phone number (created on first contact), linked to a channel identity.

    Raises:
        InvalidPhone: the number is not a valid mainland mobile number.
    """
    number = parse_phone(phone)
    try:
        return await _identify(database, number, digest(number, key), now, channel, external_id)
    except IntegrityError:  # the same number was seen for the first time twice at once: it exists now
        return await _identify(database, number, digest(number, key), now, channel, external_id)


async def _identify(
    database: Database, number: str, phone_digest: str, now: datetime, channel: str, external_id: str
) -> CitizenView:
    async with database.session() as session:
        citizen = await session.scalar(select(Citizen).where(Citizen.phone_digest == phone_digest))
        if citizen is None:
            citizen = Citizen(phone_digest=phone_digest, phone=number, created_at=now, last_seen_at=now)
            session.add(citizen)
            await session.flush()
        else:
            citizen.last_seen_at = now
        if channel and external_id:
            link = await session.scalar(
                select(CitizenLink).where(CitizenLink.channel == channel, CitizenLink.external_id == external_id)
            )
            if link is None:
                session.add(
                    CitizenLink(channel=channel, external_id=external_id, citizen_id=citizen.id, verified_at=now)
                )
            else:
                link.citizen_id = citizen.id
                link.verified_at = now
        return _view(citizen)


async def linked_citizen(database: Database, channel: str, external_id: str) -> CitizenView | None:
    """The citizen a channel identity was verified as, if any."""
    async with database.session() as session:
        citizen = await session.scalar(
            select(Citizen)
            .join(CitizenLink, CitizenLink.citizen_id == Citizen.id)
            .where(CitizenLink.channel == channel, CitizenLink.external_id == external_id)
        )
        return None if citizen is None else _view(citizen)


async def get_citizen(database: Database, citizen_id: int) -> CitizenView | None:
    """A citizen by id."""
    async with database.session() as session:
        citizen = await session.get(Citizen, citizen_id)
        return None if citizen is None else _view(citizen)

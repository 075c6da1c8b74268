"""Applications (办件): import from departments, ownership checks, and where a case stands."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import parse_moment
from bot.core.db import Database
from bot.core.imports import FileRefused
from bot.core.models import Case, CaseEvent
from bot.core.numerals import digit_runs
from bot.core.personal_data import InvalidIdNumber, InvalidPhone, digest, parse_id_number, parse_phone
from bot.work_orders.filing import SUPERVISION, NewOrder, file_order

# The stages of an application, in order; 制证 and 送达 are both optional.
STAGES = ("受理", "审查", "决定", "制证", "送达", "办结")
FINISHED = "办结"
CASE_NUMBER_LENGTH = 14


class InvalidCaseNumber(ValueError):
    """Text that holds no well-formed 14-digit case number."""


def parse_case_number(text: str) -> str:
    """The case number in ``text`` (Arabic digits or spoken numerals), or ``InvalidCaseNumber``."""
    runs = digit_runs(text, min_length=CASE_NUMBER_LENGTH)
    exact = [run for run in runs if len(run) == CASE_NUMBER_LENGTH]
    if not exact:
        raise InvalidCaseNumber("办件编号是14位数字，前8位是受理日期，例如20261120000158")
    number = exact[0]
    try:
        datetime.strptime(number[:8], "%Y%m%d")
    except ValueError as error:
        raise InvalidCaseNumber("办件编号的前8位应是受理日期，请核对后再说一遍") from error
    return number


def names_a_case_number(text: str) -> bool:
    """Whether a number of six digits or more, in digits or spoken, is said as a case number (我嘅受理号系20261120,
    个号码系 二零二六 幺零零幺), whole or only its first part (said before a pause): after one of its names, and
    beginning with a year (a phone number does not)."""
    return _number_said_as_a_case_number(text) is not None


def names_part_of_a_case_number(text: str) -> bool:
    """Whether only the first part of a case number is said as one (我嘅受理号系20261120: the rest comes next)."""
    number = _number_said_as_a_case_number(text)
    return number is not None and len(number) < CASE_NUMBER_LENGTH


def _number_said_as_a_case_number(text: str) -> str | None:
    """The digits said after one of a case number's names, when they begin with a year; else None."""
    named = _CASE_NUMBER_NAME.search(text)
    if named is None:
        return None
    runs = digit_runs(text[named.end() :], min_length=_FIRST_PART)
    return runs[0] if runs and runs[0].startswith("20") else None


# A case number's names (受理号, 办件编号, 号码).
_CASE_NUMBER_NAME = re.compile(r"(?:受理|办件|申请|回执|业务)?(?:号码|编号|单号)|(?:受理|办件|申请|回执|业务)号")
# How many digits make the first part of a case number (its date, or more).
_FIRST_PART = 6


# ---------------------------------------------------------------- import


class CasesRefused(FileRefused):
    """A cases file with errors: nothing of it was stored."""


@dataclass(frozen=True)
class CaseRecord:
    """A case as a department publishes it."""

    number: str
    service_name: str
    department: str
    promised_date: date
    phone: str
    id_number: str | None
    events: list[tuple[str, datetime, str]]


def _parse_timeline(raw: Any, where: str, errors: list[str]) -> list[tuple[str, datetime, str]]:
    events = _parse_events(raw, where, errors)
    if events is None:
        return []
    _check_timeline(events, where, errors)
    return events


def _parse_events(raw: Any, where: str, errors: list[str]) -> list[tuple[str, datetime, str]] | None:
    """The well-formed events of ``raw`` (a list or 'status@time;…'); None when it is neither."""
    if isinstance(raw, str):
        items: list[Any] = [
            dict(zip(("status", "at", "note"), part.split("@", 2), strict=False))
            for part in raw.split(";")
            if part.strip()
        ]
    elif isinstance(raw, list):
        items = raw
    else:
        errors.append(f"{where}: events must be a list or 'status@time;…'")
        return None
    events = []
    for item in items:
        if not isinstance(item, dict):
            errors.append(f"{where}: each event needs status and at")
            continue
        status = str(item.get("status", "")).strip()
        if status not in STAGES:
            errors.append(f"{where}: unknown status {status!r} (allowed: {'/'.join(STAGES)})")
            continue
        try:
            at = parse_moment(str(item.get("at", "")))  # without an offset: China time
        except ValueError:
            errors.append(f"{where}: event time {item.get('at')!r} is not an ISO date-time")
            continue
        events.append((status, at, str(item.get("note") or "").strip()))
    return events


def _check_timeline(events: list[tuple[str, datetime, str]], where: str, errors: list[str]) -> None:
    """A whole timeline starts with 受理, follows the stages and never goes back in time."""
    order = [STAGES.index(status) for status, _, _ in events]
    if events and (order != sorted(order) or events[0][0] != STAGES[0]):
        errors.append(f"{where}: events must start with 受理 and follow {'→'.join(STAGES)}")
    if [at for _, at, _ in events] != sorted(at for _, at, _ in events):
        errors.append(f"{where}: event times must not go backwards")
    if not events:
        errors.append(f"{where}: a case needs at least its 受理 event")


def _case_record(raw: dict[str, Any], where: str, errors: list[str]) -> CaseRecord | None:
    before = len(errors)
    number = str(raw.get("number", "")).strip()
    try:
        number = parse_case_number(number) if len(number) == CASE_NUMBER_LENGTH else ""
    except InvalidCaseNumber:
        number = ""
    if not number:
        errors.append(f"{where}: number must be 14 digits starting with a date")
    service_name = str(raw.get("service_name", "")).strip()
    department = str(raw.get("department", "")).strip()
    if not service_name or not department:
        errors.append(f"{where}: service_name and department are required")
    try:
        promised = date.fromisoformat(str(raw.get("promised_date", "")).strip())
    except ValueError:
        errors.append(f"{where}: promised_date must be YYYY-MM-DD")
        promised = date.min
    phone = ""
    try:
        phone = parse_phone(str(raw.get("applicant_phone", "")))
    except InvalidPhone:
        errors.append(f"{where}: applicant_phone is not a valid mobile number")
    id_number = str(raw.get("applicant_id") or "").strip() or None
    if id_number is not None:
        try:
            id_number = parse_id_number(id_number).value
        except InvalidIdNumber as error:
            errors.append(f"{where}: applicant_id is invalid ({error})")
    events = _parse_timeline(raw.get("events", ""), where, errors)
    if len(errors) > before:
        return None
    return CaseRecord(number, service_name, department, promised, phone, id_number, events)


def read_cases(path: Path) -> tuple[list[CaseRecord], list[str]]:
    """Read a CSV or JSON file of cases; returns the records and the errors found."""
    errors: list[str] = []
    text = path.read_text(encoding="utf-8-sig")
    rows: list[Any]
    if path.suffix == ".json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            return [], [f"{path.name}: not valid JSON ({error.msg} at line {error.lineno})"]
        rows = loaded if isinstance(loaded, list) else []
        if not isinstance(loaded, list):
            errors.append(f"{path.name}: expected a JSON list of cases")
    elif path.suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        return [], [f"{path.name}: expected a .csv or .json file"]
    records = []
    numbers: set[str] = set()
    for index, row in enumerate(rows, start=1):
        where = f"{path.name} record {index}"
        if not isinstance(row, dict):
            errors.append(f"{where}: expected an object")
            continue
        record = _case_record(row, where, errors)
        if record is None:
            continue
        if record.number in numbers:
            errors.append(f"{where}: case {record.number} appears twice")
            continue
        numbers.add(record.number)
        records.append(record)
    return records, errors


async def import_cases(database: Database, path: Path, key: str, now: datetime) -> int:
    """Store every case of a file in one transaction, replacing earlier versions."""
    records, errors = read_cases(path)
    if errors:
        raise CasesRefused(errors)
    return await store_cases(database, records, key, now)


async def store_cases(database: Database, records: list[CaseRecord], key: str, now: datetime) -> int:
    """Insert or replace cases and their timelines in one transaction.

    A case that exists is updated in place, so that the work orders about it (a 督办) keep it.
    """
    async with database.session() as session:
        for record in records:
            case = await session.get(Case, record.number)
            if case is None:
                case = Case(number=record.number, created_at=now)
                session.add(case)
            case.service_name = record.service_name
            case.department = record.department
            case.status = record.events[-1][0]
            case.promised_date = record.promised_date
            case.phone_digest = digest(record.phone, key)
            case.phone_tail_digest = digest(record.number + record.phone[-4:], key)
            case.id_digest = digest(record.id_number, key) if record.id_number else None
            case.updated_at = now
            case.events = [CaseEvent(status=s, at=at, note=note) for s, at, note in record.events]
    return len(records)


class CaseNotFound(LookupError):
    """No case has this number."""


class CaseOfAnotherDepartment(Exception):
    """The case exists but belongs to another department."""


def parse_case(raw: dict[str, Any], where: str) -> CaseRecord:
    """One case validated as the importer validates it, or ``CasesRefused``."""
    errors: list[str] = []
    record = _case_record(raw, where, errors)
    if record is None:
        raise CasesRefused(errors)
    return record


async def add_case_events(
    database: Database, number: str, department: str, raw_events: list[Any], now: datetime
) -> int:
    """Append steps to a department's case, validated as on import; steps it already has are skipped.

    Returns how many steps were added. Raises ``CaseNotFound``, ``CaseOfAnotherDepartment`` or
    ``CasesRefused`` (the whole timeline would not import).
    """
    where = f"办件{number}"
    async with database.session() as session:
        case = await session.get(Case, number)
        if case is None:
            raise CaseNotFound(number)
        if case.department != department:
            raise CaseOfAnotherDepartment(number)
        errors: list[str] = []
        existing = [(e.status, e.at, e.note) for e in case.events]
        new: list[tuple[str, datetime, str]] = []
        for event in _parse_events(raw_events, where, errors) or []:
            if event not in existing and event not in new:
                new.append(event)
        _check_timeline(existing + new, where, errors)
        if errors:
            raise CasesRefused(errors)
        for status, at, note in new:
            case.events.append(CaseEvent(status=status, at=at, note=note))
        if new:
            case.status = new[-1][0]
            case.updated_at = now
        return len(new)


# ---------------------------------------------------------------- lookup and verification


class Standing(str, Enum):
    """Where a case stands against its promised date."""

    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"
    FINISHED = "finished"


@dataclass(frozen=True)
class CaseView:
    """What may be told to the verified owner of a case."""

    number: str
    service_name: str
    department: str
    status: str
    promised_date: date
    standing: Standing
    timeline: list[tuple[str, datetime, str]]


def standing_of(case: Case, today: date) -> Standing:
    """Finished, overdue or in progress."""
    if case.status == FINISHED:
        return Standing.FINISHED
    if today > case.promised_date:
        return Standing.OVERDUE
    return Standing.IN_PROGRESS


async def find_case(database: Database, number: str, today: date) -> CaseView | None:
    """The case with this number, or None."""
    async with database.session() as session:
        case = await session.get(Case, number)
        if case is None:
            return None
        return CaseView(
            number=case.number,
            service_name=case.service_name,
            department=case.department,
            status=case.status,
            promised_date=case.promised_date,
            standing=standing_of(case, today),
            timeline=[(e.status, e.at, e.note) for e in case.events],
        )


async def applicant_tail_digest(session: AsyncSession, number: str, key: str) -> str | None:
    """The digest of the last four digits of the applicant's phone (for ``verify_tail``); None for no such case."""
    case = await session.get(Case, number)
    return None if case is None else case.phone_tail_digest


async def is_applicant_phone(database: Database, number: str, phone: str, key: str) -> bool:
    """Whether a phone number the channel verified is the applicant's (no attempt counted)."""
    async with database.session() as session:
        case = await session.get(Case, number)
        return case is not None and digest(phone, key) == case.phone_digest


async def is_applicant_digest(database: Database, number: str, phone_digest: str) -> bool:
    """Whether a verified citizen's phone digest is the applicant's (no attempt counted)."""
    async with database.session() as session:
        case = await session.get(Case, number)
        return case is not None and phone_digest == case.phone_digest


async def file_supervision_order(
    database: Database,
    case: CaseView,
    sender_id: str,
    now: datetime,
    channel: str = "",
    citizen_id: int | None = None,
) -> str:
    """File a 督办 work order about an overdue case; returns its number."""
    order = NewOrder(
        kind=SUPERVISION,
        department=case.department,
        summary=f"办件{case.number}（{case.service_name}）已超过承诺时限{case.promised_date.isoformat()}，市民申请督办。",
        sender_id=sender_id,
        channel=channel,
        citizen_id=citizen_id,
        case_number=case.number,
    )
    return (await file_order(database, order, now)).number

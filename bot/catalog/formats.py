"""Reading service catalogues: the project's YAML files and the Guangdong JSONL export."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

MATERIAL_FORMS = ("原件", "复印件", "原件和复印件", "电子件")
DEFAULT_SITUATION = "一般情形"
_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")


@dataclass(frozen=True)
class Material:
    """One item to bring: name, 原件/复印件, how many, notes."""

    name: str
    form: str = ""
    copies: int = 1
    notes: str = ""


@dataclass(frozen=True)
class Office:
    """Where a service is handled."""

    name: str
    address: str = ""
    hours: str = ""
    phone: str = ""


@dataclass(frozen=True)
class SituationRecord:
    """A situation (情形) with everything a citizen needs to act on it."""

    name: str
    aliases: list[str]
    conditions: list[str]
    materials: list[Material]
    offices: list[Office]
    fee: str = ""
    time_limit_days: int | None = None
    fully_online: bool = False
    visits: int | None = None


@dataclass(frozen=True)
class ServiceRecord:
    """A service (事项) as read from a catalogue file, before it is stored."""

    id: str
    name: str
    department: str
    source: str
    situations: list[SituationRecord]
    aliases: list[str] = field(default_factory=list)
    summary: str = ""
    online_channel: str | None = None
    url: str | None = None
    area: str = ""

    def content_hash(self) -> str:
        """A digest of the whole record, to tell a changed record from an unchanged one."""
        encoded = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass
class ParseResult:
    """What a file held: the records, the errors that refuse it, and warnings."""

    records: list[ServiceRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class CatalogFormatError(ValueError):
    """A catalogue path that is neither project YAML nor a JSONL export."""


def read_catalog(path: Path) -> ParseResult:
    """Read a project YAML file or folder, or a JSONL export, by what ``path`` is."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml"))
        if not files:
            raise CatalogFormatError(f"{path}: no .yml files in this folder")
        return read_project_files(files)
    if not path.is_file():
        raise CatalogFormatError(f"{path}: no such file or folder")
    if path.suffix in (".yml", ".yaml"):
        return read_project_files([path])
    if path.suffix in (".jsonl", ".json"):
        return read_gd_jsonl(path)
    raise CatalogFormatError(f"{path}: expected .yml, .yaml or .jsonl")


# ---------------------------------------------------------------- project YAML


def read_project_files(files: list[Path]) -> ParseResult:
    """Read and validate the project's own catalogue files."""
    result = ParseResult()
    seen: dict[str, str] = {}
    for path in files:
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)  # libyaml: safe, faster
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            result.errors.append(f"{path.name}: not valid YAML: {error}")
            continue
        for record in _project_document(document, path.name, result.errors):
            if record.id in seen:
                result.errors.append(f"{path.name}: service id {record.id!r} already used in {seen[record.id]}")
                continue
            seen[record.id] = path.name
            result.records.append(record)
    return result


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _texts(value: Any, where: str, errors: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(f"{where}: expected a list of texts")
        return []
    return [v.strip() for v in value]


def _project_document(document: Any, name: str, errors: list[str]) -> list[ServiceRecord]:
    if not isinstance(document, dict):
        errors.append(f"{name}: expected a mapping with department, offices and services")
        return []
    department = _text(document.get("department"))
    if not department:
        errors.append(f"{name}: department is missing")
    offices = _project_offices(document.get("offices"), name, errors)
    services = document.get("services")
    if not isinstance(services, list) or not services:
        errors.append(f"{name}: services must be a non-empty list")
        return []
    records = []
    for index, raw in enumerate(services, start=1):
        record = _project_service(raw, f"{name} service #{index}", department, offices, errors)
        if record is not None:
            records.append(record)
    return records


def _project_offices(raw: Any, where: str, errors: list[str]) -> dict[str, Office]:
    if not isinstance(raw, dict) or not raw:
        errors.append(f"{where}: offices must be a non-empty mapping")
        return {}
    offices = {}
    for key, value in raw.items():
        if not isinstance(value, dict) or not _text(value.get("name")):
            errors.append(f"{where}: office {key!r} needs at least a name")
            continue
        offices[str(key)] = Office(
            name=_text(value["name"]),
            address=_text(value.get("address")),
            hours=_text(value.get("hours")),
            phone=str(value.get("phone") or "").strip(),
        )
    return offices


def _project_service(
    raw: Any, where: str, department: str, offices: dict[str, Office], errors: list[str]
) -> ServiceRecord | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a mapping")
        return None
    service_id = _text(raw.get("id"))
    name = _text(raw.get("name"))
    where = f"{where} ({service_id or '?'})"
    before = len(errors)
    if not _ID_PATTERN.fullmatch(service_id):
        errors.append(f"{where}: id must be lower-case letters, digits and dashes")
    if not name:
        errors.append(f"{where}: name is missing")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        errors.append(f"{where}: defaults must be a mapping")
        defaults = {}
    situations_raw = raw.get("situations")
    if not isinstance(situations_raw, list) or not situations_raw:
        errors.append(f"{where}: situations must be a non-empty list")
        situations_raw = []
    situations = [
        _project_situation(s, f"{where} situation #{i}", defaults, offices, errors)
        for i, s in enumerate(situations_raw, start=1)
    ]
    names = [s.name for s in situations if s is not None]
    if len(names) != len(set(names)):
        errors.append(f"{where}: situation names must be unique")
    if len(errors) > before:
        return None
    online = raw.get("online_channel")
    return ServiceRecord(
        id=service_id,
        name=name,
        department=department,
        source="project",
        area="广州市",
        aliases=_texts(raw.get("aliases"), f"{where} aliases", errors),
        summary=_text(raw.get("summary")),
        online_channel=online.strip() if isinstance(online, str) and online.strip() else None,
        situations=[s for s in situations if s is not None],
    )


def _project_situation(
    raw: Any,
    where: str,
    defaults: dict[str, Any],
    offices: dict[str, Office],
    errors: list[str],
) -> SituationRecord | None:
    if not isinstance(raw, dict) or not _text(raw.get("name")):
        errors.append(f"{where}: a situation needs a name")
        return None

    def pick(key: str) -> Any:
        return raw[key] if key in raw else defaults.get(key)

    before = len(errors)
    office_keys = pick("offices") or []
    if not isinstance(office_keys, list) or not office_keys:
        errors.append(f"{where}: offices must list at least one office key")
        office_keys = []
    for key in office_keys:
        if key not in offices:
            errors.append(f"{where}: unknown office {key!r}")
    limit = pick("time_limit_days")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        errors.append(f"{where}: time_limit_days must be a whole number of working days")
    visits = pick("visits")
    if not isinstance(visits, int) or isinstance(visits, bool) or not 0 <= visits <= 5:
        errors.append(f"{where}: visits must be a whole number from 0 to 5")
    fully_online = pick("fully_online")
    if not isinstance(fully_online, bool):
        errors.append(f"{where}: fully_online must be true or false")
    fee = pick("fee")
    if not isinstance(fee, str) or not fee.strip():
        errors.append(f"{where}: fee must be a text such as 免费 or 120元")
    materials = _project_materials(raw.get("materials"), where, errors)
    conditions = _texts(pick("conditions"), f"{where} conditions", errors)
    if len(errors) > before:
        return None
    return SituationRecord(
        name=_text(raw["name"]),
        aliases=_texts(raw.get("aliases"), f"{where} aliases", errors),
        conditions=conditions,
        materials=materials,
        offices=[offices[key] for key in office_keys],
        fee=str(fee).strip(),
        time_limit_days=limit,
        fully_online=bool(fully_online),
        visits=visits,
    )


def _project_materials(raw: Any, where: str, errors: list[str]) -> list[Material]:
    if not isinstance(raw, list) or not raw:
        errors.append(f"{where}: materials must be a non-empty list")
        return []
    materials = []
    for index, item in enumerate(raw, start=1):
        spot = f"{where} material #{index}"
        if not isinstance(item, dict) or not _text(item.get("name")):
            errors.append(f"{spot}: needs a name")
            continue
        form = _text(item.get("form"))
        copies = item.get("copies", 1)
        if form not in MATERIAL_FORMS:
            errors.append(f"{spot}: form must be one of {', '.join(MATERIAL_FORMS)}")
            continue
        if not isinstance(copies, int) or isinstance(copies, bool) or copies < 1:
            errors.append(f"{spot}: copies must be a whole number of at least 1")
            continue
        materials.append(Material(name=_text(item["name"]), form=form, copies=copies, notes=_text(item.get("notes"))))
    return materials


# ---------------------------------------------------------------- Guangdong JSONL export

_NOTHING = {"", "无", "无。", "暂无", "无需材料", "不需要材料"}
# Item numbers that start a new material in free text: "1." "2、" "（3）" "(4)" "①".
_ITEM_START = re.compile(r"(?:(?:^|(?<=[\s；;。，,]))\s*\d{1,2}\s*[\.、．]|[（(]\d{1,2}[)）]|[①-⑳])\s*")
_COPIES = re.compile(r"(\d+)\s*份")


def gd_service_id(area: str, department: str, name: str) -> str:
    """A stable id for a record of the Guangdong export."""
    key = f"{area}|{department}|{name}".encode()
    return "gd-" + hashlib.sha1(key).hexdigest()[:12]


def material_from_text(text: str) -> Material:
    """A material item from a line of free text, with 原件/复印件 and 份数 when stated."""
    text = text.strip(" ；;。，,\n\t")
    if "原件" in text and "复印件" in text:
        form = "原件和复印件"
    elif "复印件" in text:
        form = "复印件"
    elif "原件" in text:
        form = "原件"
    elif "电子" in text:
        form = "电子件"
    else:
        form = ""
    copies_match = _COPIES.search(text)
    copies = int(copies_match.group(1)) if copies_match else 1
    return Material(name=text, form=form, copies=max(copies, 1))


def split_free_text_materials(text: str) -> list[str]:
    """Split a free-text material description at its item numbers or line breaks."""
    parts = [p.strip() for p in _ITEM_START.split(text) if p and p.strip(" ；;。\n")]
    if len(parts) < 2:
        parts = [p.strip() for p in re.split(r"[\n；;]+", text) if p.strip(" 。")]
    return parts


def read_gd_jsonl(path: Path) -> ParseResult:
    """Read the JSONL export of the Guangdong catalogue; any broken record refuses the file."""
    result = ParseResult()
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                result.errors.append(f"line {number}: not valid JSON ({error.msg})")
                continue
            record = _gd_record(raw, number, result)
            if record is None:
                continue
            if record.id in seen:
                result.warnings.append(f"line {number}: {record.name!r} repeats line {seen[record.id]}; kept the first")
                continue
            seen[record.id] = number
            result.records.append(record)
    without = sum(1 for record in result.records if not record.situations[0].materials)
    if without:
        result.warnings.append(f"{without} records publish no materials (无); answers give their phone instead")
    return result


def _gd_record(raw: Any, number: int, result: ParseResult) -> ServiceRecord | None:
    if not isinstance(raw, dict):
        result.errors.append(f"line {number}: expected a JSON object")
        return None
    name = _text(raw.get("TASK_NAME"))
    department = _text(raw.get("DEPT_NAME"))
    if not name or not department:
        result.errors.append(f"line {number}: TASK_NAME and DEPT_NAME are required")
        return None
    area = _text(raw.get("AREA_CODE_TEXT"))
    intro = raw.get("material_intro")
    if isinstance(intro, list) and all(isinstance(item, str) for item in intro):
        items = [item for item in intro if item.strip() not in _NOTHING]
    elif isinstance(intro, str):
        items = [] if intro.strip() in _NOTHING else split_free_text_materials(intro)
        if len(items) == 1 and len(items[0]) > 80:
            result.warnings.append(f"line {number}: materials of {name!r} are one unnumbered text; kept as one item")
    elif intro is None:
        items = []
    else:
        result.errors.append(f"line {number}: material_intro must be a text or a list of texts")
        return None
    location = re.sub(r"^\s*办理地点[：:]\s*", "", _text(raw.get("handle_location")))
    phone = _text(raw.get("consult_phone"))
    conditions = [_text(raw.get("accept_standard"))] if _text(raw.get("accept_standard")) else []
    situation = SituationRecord(
        name=DEFAULT_SITUATION,
        aliases=[],
        conditions=conditions,
        materials=[material_from_text(item) for item in items],
        offices=[Office(name=department, address=location, phone=phone)],
    )
    return ServiceRecord(
        id=gd_service_id(area, department, name),
        name=name,
        department=department,
        source="gd",
        area=area,
        summary=_text(raw.get("TASK_TYPE_TEXT")),
        url=_text(raw.get("URL")) or None,
        situations=[situation],
    )

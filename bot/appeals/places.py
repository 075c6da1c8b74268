"""Guangzhou's places and their districts: a report naming 广州南站 or 越秀公园 and no district is in 番禺区 or 越秀区.

The gazetteer is ``data/places/guangzhou.yml`` (district → names); names under ``ambiguous`` never decide.
"""

from __future__ import annotations

from functools import cache

from bot.appeals.categories import DISTRICTS
from bot.core.data_files import read_yaml
from bot.core.settings import PROJECT_ROOT

GAZETTEER = PROJECT_ROOT / "data" / "places" / "guangzhou.yml"
AMBIGUOUS = "ambiguous"


class GazetteerError(Exception):
    """The gazetteer cannot be read or is malformed."""


@cache
def _gazetteer() -> dict[str, list[str]]:
    """The gazetteer's document (district or ``ambiguous`` → names), read and checked once."""
    document = read_yaml(GAZETTEER, GazetteerError)
    if not isinstance(document, dict) or set(document) - {*DISTRICTS, AMBIGUOUS}:
        raise GazetteerError(f"{GAZETTEER.name}: keys must be Guangzhou's districts and {AMBIGUOUS!r}")
    return document


@cache
def places() -> dict[str, str]:
    """Every unambiguous place name and its district, read once."""
    document = _gazetteer()
    ambiguous = set(document.get(AMBIGUOUS) or [])
    found: dict[str, str] = {}
    for district, names in document.items():
        if district == AMBIGUOUS:
            continue
        for name in names or []:
            if not isinstance(name, str) or len(name) < 2:
                raise GazetteerError(f"{GAZETTEER.name}: {district}: {name!r} is not a place name")
            if name in found or name in ambiguous:
                raise GazetteerError(f"{GAZETTEER.name}: {name} is listed twice")
            found[name] = district
    return found


@cache
def place_names() -> tuple[str, ...]:
    """Every name in the gazetteer, the ambiguous ones too (for keeping a place as said, never for a district),
    the longest first."""
    return tuple(sorted({*places(), *(_gazetteer().get(AMBIGUOUS) or [])}, key=len, reverse=True))


def district_of_place(text: str) -> str | None:
    """The district of the known places ``text`` names, or None when it names none or places in two districts
    (五号线杨箕站到珠江新城站: 越秀区 and 天河区). A name inside a longer one found (中新 in 中新知识城) does
    not count."""
    found = [
        (start, start + len(name), district) for name, district in places().items() for start in _starts(text, name)
    ]
    districts = {
        district
        for start, end, district in found
        if not any(s <= start and end <= e and e - s > end - start for s, e, _ in found)
    }
    return districts.pop() if len(districts) == 1 else None


def place_named(text: str) -> str | None:
    """The first known place ``text`` names (the longer of two that begin together), with a known place said
    right after it (中新镇福和) and the side of it (大沙地东), or None."""
    found = [(text.find(name), -len(name), name) for name in places() if name in text]
    if not found:
        return None
    start, _, name = min(found)
    end = start + len(name)
    # Another known place said right after the first (中新镇福和): both.
    inner = max((n for n in places() if text.startswith(n, end)), key=len, default="")
    name, end = name + inner, end + len(inner)
    return name + text[end] if text[end : end + 1] in ("东", "南", "西", "北") else name


def _starts(text: str, name: str) -> list[int]:
    """Where ``name`` begins in ``text``, every time."""
    starts, start = [], text.find(name)
    while start >= 0:
        starts.append(start)
        start = text.find(name, start + 1)
    return starts

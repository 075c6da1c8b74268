"""Compare the project's address and time extraction with cpca and jionlp on the blind set data/eval/address_time.

Usage:
    .venv/bin/python bench/address_time_eval.py      # ours only; cpca and jionlp are skipped when not importable
    PYTHONPATH=/tmp/venv-addr/lib/python3.10/site-packages .venv/bin/python bench/address_time_eval.py   # all three

The libraries, in a venv of their own (the project's dependencies are unchanged):
    /root/.pyenv/versions/3.10.13/bin/python -m venv /tmp/venv-addr && /tmp/venv-addr/bin/pip install cpca jionlp
cpca 0.5.5 needs pandas and pyahocorasick; jionlp 1.5.31 needs jiojio (its 148 MB segmenter), numpy, requests and
zipfile36; both work offline with the data they ship (about 380 MB with their dependencies).

The set is for evaluation only (data/eval/address_time/README.md): never tune anything on it.

None of the three gives a street and a door number of its own: ours gives the address as said (find_address for a
description, clean_place for an answer to "where?"), cpca its 地址 and jionlp its detail, the text after the
district. The same split (split_street_number) turns each of these into a street and a number, so the street and
number columns compare what each leaves after the district; "street in rest" says only whether the expected street
is inside it. Times: ours keeps the citizen's words (find_since), so only whether it names a time is measured;
jionlp's extract_time gives a value, compared as the day the problem began (a duration counts back from the
reference day).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.appeals.extraction import clean_place, find_address, find_district, find_since
from bot.core.settings import PROJECT_ROOT

SET_PATH = PROJECT_ROOT / "data" / "eval" / "address_time" / "set.jsonl"
REFERENCE = dt.date(2026, 12, 6)
# jionlp reads times relative to a moment: noon of the reference day.
REFERENCE_MOMENT = dt.datetime(2026, 12, 6, 12, 0, 0)

_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_DIGITS |= {"八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMBER = re.compile(r"([0-9]+|[零〇一幺二两三四五六七八九十廿百千]+)号")
_STREET = re.compile(
    r"[\u4e00-\u9fff0-9]{1,8}?(?:大道[东南西北中]?|大马路|新马路|马路|公路|国道|路[东南西北中]?|大街|巷|道"
    r"|村(?![\u4e00-\u9fff]{0,4}(?:路|大道)))(?![灯口面边上])"
)
# What ends the name of a town, sub-district or estate said before the street (市桥街清河路, 南村镇汉溪大道).
_BEFORE_STREET = re.compile(r"^.*(?:镇|街道|街|区|新城|新邨)")
# A street's name keeps at least this many characters with its ending (环市东路 stays whole).
MIN_STREET = 3


def chinese_number(text: str) -> int | None:
    """The value of a number in Arabic or Chinese digits (幺零八 → 108, 一百零八 → 108, 廿八 → 28), or None."""
    if text.isdigit():
        return int(text)
    text = text.replace("廿", "二十")
    if not any(unit in text for unit in _UNITS):  # said digit by digit: 幺零八
        return int("".join(str(_DIGITS[char]) for char in text)) if all(c in _DIGITS for c in text) else None
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


def split_street_number(rest: str | None) -> tuple[str | None, str | None]:
    """The street and the door number (108号) in what an extractor left after the district; the same for all."""
    if not rest:
        return None, None
    street_match = _STREET.search(rest)
    street = street_match.group() if street_match else None
    if street is not None and len(_BEFORE_STREET.sub("", street)) >= MIN_STREET:
        street = _BEFORE_STREET.sub("", street)
    number = None
    number_match = _NUMBER.search(rest, street_match.end() if street_match else 0)
    if number_match is not None:
        value = chinese_number(number_match.group(1))
        number = f"{value}号" if value is not None else None
    return street or None, number


@dataclass
class Place:
    """What one extractor says about one address utterance."""

    district: str | None
    rest: str | None


def ours_description(text: str) -> Place:
    """The project's reading of a description: find_district and find_address."""
    return Place(find_district(text), find_address(text))


def ours_answer(text: str) -> Place:
    """The project's reading of an answer to "where?": find_district and clean_place."""
    return Place(find_district(text), clean_place(text) or None)


def cpca_place(text: str) -> Place:
    """cpca.transform on one utterance: its 区 and 地址."""
    import cpca

    row = cpca.transform([text]).iloc[0]
    return Place(row["区"] or None, row["地址"] or None)


def jionlp_place(text: str) -> Place:
    """jionlp.parse_location on one utterance: its county and detail."""
    import jionlp

    parsed = jionlp.parse_location(text, town_village=True)
    return Place(parsed["county"], parsed["detail"] or None)


def ours_since(text: str) -> dt.date | str | None:
    """The project's find_since: the words said, with no value (the string itself, or None)."""
    return find_since(text)


def months_back(months: int) -> dt.date:
    """The reference day ``months`` months earlier (the day clipped to 28)."""
    index = REFERENCE.year * 12 + REFERENCE.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, min(REFERENCE.day, 28))


def delta_start(delta: dict[str, float]) -> dt.date:
    """The day a length of time ({"day": 3}, {"month": 1.0}, {"week": 2}) counted back from the reference began."""
    days = delta.get("day", 0) + 7 * delta.get("week", 0) + delta.get("hour", 0) / 24
    months = delta.get("month", 0) + 12 * delta.get("year", 0)
    if months == int(months):
        return months_back(int(months)) - dt.timedelta(days=days)
    return REFERENCE - dt.timedelta(days=days + 30 * months)


def jionlp_since(text: str) -> dt.date | str | None:
    """jionlp.ner.extract_time on one utterance: the day its first time expression begins, or None."""
    import jionlp

    found = jionlp.ner.extract_time(text, time_base=REFERENCE_MOMENT.timestamp(), with_parsing=True)
    if not found:
        return None
    detail = found[0]["detail"]
    if detail["type"] == "time_delta":
        value = detail["time"]
        return delta_start(value) if isinstance(value, dict) else "unparsed"
    value = detail["time"]
    start = value[0] if isinstance(value, list) else ""
    return dt.date.fromisoformat(start[:10]) if start[:1].isdigit() else "unparsed"


_DURATION = re.compile(r"^P(\d+)([DWMY])$")


def since_matches(expected: str, found: dt.date | str | None) -> bool:
    """Whether ``found`` is the start ``expected`` names (2026-11-25, 2026-11, 2025, or P3D counted back)."""
    if not isinstance(found, dt.date):
        return False
    duration = _DURATION.match(expected)
    if duration is not None:
        count, unit = int(duration.group(1)), duration.group(2)
        start = {
            "D": REFERENCE - dt.timedelta(days=count),
            "W": REFERENCE - dt.timedelta(days=7 * count),
            "M": months_back(count),
            "Y": months_back(12 * count),
        }[unit]
        return found == start
    return found.isoformat().startswith(expected)


def importable(module: str) -> bool:
    """Whether ``module`` can be imported here."""
    return importlib.util.find_spec(module) is not None


def timed(function: Callable[[str], Any], texts: list[str]) -> tuple[list[Any], float]:
    """What ``function`` gives for each text, and the milliseconds per text (after one call to warm up)."""
    function(texts[0])
    start = time.perf_counter()
    results = [function(text) for text in texts]
    return results, 1000 * (time.perf_counter() - start) / len(texts)


def share(hits: int, total: int) -> str:
    """``hits`` of ``total`` as a fraction with the counts."""
    return f"{hits / total:.3f} ({hits}/{total})" if total else "-"


def evaluate_places(name: str, function: Callable[[str], Place], rows: list[dict[str, Any]]) -> list[str]:
    """One line of the address table: district, street in rest, street, number, all three, ms per utterance."""
    places, ms = timed(function, [row["text"] for row in rows])
    district = street_in = street = number = everything = 0
    misses = []
    for row, place in zip(rows, places, strict=True):
        expect = row["expect"]
        found_street, found_number = split_street_number(place.rest)
        right = (
            place.district == expect["district"],
            found_street == expect["street"],
            found_number == expect["number"],
        )
        district += right[0]
        street_in += (expect["street"] or "") in (place.rest or "") if expect["street"] else found_street is None
        street += right[1]
        number += right[2]
        everything += all(right)
        if not all(right):
            misses.append(f"  {row['id']} {row['text']} -> {place.district} | {found_street} | {found_number}")
    total = len(rows)
    print(
        f"{name:<22}{share(district, total):>18}{share(street_in, total):>18}{share(street, total):>18}"
        f"{share(number, total):>18}{share(everything, total):>18}{ms:>9.2f}"
    )
    return misses


def evaluate_times(name: str, function: Callable[[str], dt.date | str | None], rows: list[dict[str, Any]]) -> None:
    """One line of the time table: names a time or not, value where one is expected, ms per utterance."""
    found, ms = timed(function, [row["text"] for row in rows])
    pairs = list(zip(rows, found, strict=True))
    names = sum((value is not None) == (row["expect"]["since"] is not None) for row, value in pairs)
    with_value = [(row, value) for row, value in pairs if row["expect"]["since"] is not None]
    if any(isinstance(value, dt.date) for _, value in with_value):
        correct = sum(since_matches(row["expect"]["since"], value) for row, value in with_value)
        value_share = share(correct, len(with_value))
    else:
        value_share = "no value (words only)"
    print(f"{name:<22}{share(names, len(rows)):>18}{value_share:>24}{ms:>9.2f}")


def main() -> None:
    """Print the address and time tables for ours, cpca and jionlp."""
    rows = [json.loads(line) for line in SET_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    addresses = [row for row in rows if row["kind"] == "address"]
    times = [row for row in rows if row["kind"] == "time"]
    place_readers: list[tuple[str, Callable[[str], Place]]] = [
        ("ours find_address", ours_description),
        ("ours clean_place", ours_answer),
    ]
    time_readers: list[tuple[str, Callable[[str], dt.date | str | None]]] = [("ours find_since", ours_since)]
    for module, place_reader, time_reader in (("cpca", cpca_place, None), ("jionlp", jionlp_place, jionlp_since)):
        if not importable(module):
            print(f"{module} is not importable here: skipped (see the module docstring for how to run it)")
            continue
        place_readers.append((f"{module} ", place_reader))
        if time_reader is not None:
            time_readers.append((f"{module} extract_time", time_reader))
    print(f"\nAddresses ({len(addresses)})")
    header = ("", "district", "street in rest", "street", "number", "all three", "ms/utt")
    print(f"{header[0]:<22}" + "".join(f"{word:>18}" for word in header[1:-1]) + f"{header[-1]:>9}")
    all_misses = {name: evaluate_places(name, reader, addresses) for name, reader in place_readers}
    print(f"\nTimes ({len(times)}, reference {REFERENCE.isoformat()})")
    print(f"{'':<22}{'names a time or not':>18}{'value':>24}{'ms/utt':>9}")
    for name, reader in time_readers:
        evaluate_times(name, reader, times)
    if "-v" in sys.argv:
        for name, misses in all_misses.items():
            print(f"\n{name} misses:")
            print("\n".join(misses))


if __name__ == "__main__":
    main()

"""Picking one of the options the assistant offered, by number, ordinal or words."""

from __future__ import annotations

import re

from bot.catalog.search import normalize
from bot.core.numerals import to_digits

_ORDINAL = re.compile(r"^(?:第)?([1-9])(?:个|种|项|条|号)?$")
_LAST = ("最后一个", "最后那个", "最后一种")


def pick_choice(text: str, options: list[str], loose: bool = True) -> int | None:
    """The index of the option ``text`` selects: "2", "二", "第二个", or the option's words.

    ``loose`` also accepts words that contain, or are contained in, exactly one option; a channel
    that resolves choices before the NLU sees the text uses ``loose=False`` so that a new request
    is never mistaken for a choice.
    """
    said = normalize(text)
    for filler in ("选", "我要", "要", "就", "吧", "啊", "的", "那个", "是"):
        said = said.replace(filler, "") or said
    if not said or not options:
        return None
    if said in _LAST:
        return len(options) - 1
    match = _ORDINAL.match(to_digits(said))
    if match:
        index = int(match.group(1)) - 1
        return index if index < len(options) else None
    normalized = [normalize(option) for option in options]
    exact = [i for i, option in enumerate(normalized) if option == said]
    if exact:
        return exact[0]
    if not loose:
        return None
    contained = [i for i, option in enumerate(normalized) if option and (option in said or said in option)]
    if len(contained) == 1:
        return contained[0]
    return None

"""What every import of a file shares: it is checked whole, and refused whole with every error by line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


class FileRefused(ValueError):
    """A file with errors: nothing of it was stored; ``errors`` says what, line by line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} errors; nothing was imported")
        self.errors = errors


def json_lines(text: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line of JSON Lines; a line that is not JSON gives its JSONDecodeError."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            yield number, error

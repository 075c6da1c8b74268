"""What every import of a file shares: it is checked whole, and refused whole with every error by line."""

from __future__ import annotations


class FileRefused(ValueError):
    """A file with errors: nothing of it was stored; ``errors`` says what, line by line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} errors; nothing was imported")
        self.errors = errors

"""How the appeals' code reads text: the one normalisation of messages, examples and keywords."""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, runs of whitespace as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())

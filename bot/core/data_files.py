"""Reading the project's YAML data files (calendar, deadlines) with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: Path, error: type[Exception]) -> Any:
    """The parsed document of ``path``; an unreadable file or invalid YAML raises ``error``."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)  # libyaml: safe, faster
    except OSError as cause:
        raise error(f"cannot read {path}: {cause.strerror}") from cause
    except yaml.YAMLError as cause:
        raise error(f"{path.name}: not valid YAML ({cause})") from cause

"""Loading Willow's own YAML data files with errors an operator can act on.

Word lists, the wording guide and the helpline directory are edited by people, so every
problem is reported with the file it came from and where in the file it is.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

DATA_DIR = Path(__file__).resolve().parent / "data"

# A data file is a short hand-edited list; anything this big is a mistake, not data.
MAX_DATA_FILE_BYTES = 2_000_000


class DataFileError(ValueError):
    """A data file is missing, unreadable or does not follow its schema."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def load_yaml(path: Path) -> object:
    """Parse one YAML file, raising DataFileError instead of OSError or YAMLError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except IsADirectoryError:
        raise DataFileError(path, "is a directory, expected a YAML file") from None
    except OSError as exc:
        raise DataFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_DATA_FILE_BYTES:
        raise DataFileError(path, f"is larger than {MAX_DATA_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataFileError(path, f"is not valid YAML: {_yaml_problem(exc)}") from None


def load_mapping(path: Path) -> dict[str, object]:
    """Parse a YAML file whose top level must be a mapping."""
    data = load_yaml(path)
    if data is None:
        raise DataFileError(path, "is empty")
    if not isinstance(data, dict):
        raise DataFileError(path, f"top level must be a mapping, found {_kind(data)}")
    return {str(key): value for key, value in data.items()}


def describe_validation_error(error: ValidationError, limit: int = 5) -> str:
    """Pydantic's errors as short `field.path: message` lines, most useful first."""
    items = error.errors()
    locations = [item["loc"] for item in items]
    # "contacts: should have at least 1 item" after one contact failed only repeats that.
    useful = [
        item
        for item in items
        if not (
            item["type"] == "too_short"
            and any(
                len(other) > len(item["loc"]) and other[: len(item["loc"])] == item["loc"]
                for other in locations
            )
        )
    ]
    parts = []
    for item in useful[:limit]:
        where = ".".join(str(piece) for piece in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
    more = len(useful) - limit
    if more > 0:
        parts.append(f"and {more} more problem(s)")
    return "; ".join(parts)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__

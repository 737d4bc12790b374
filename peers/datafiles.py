"""Reading the peers package's YAML data files strictly, with errors a person can act on.

PyYAML's default rules turn ``19:00`` into the number 1140, ``no`` (Norwegian) into False
and ``2026-03-29`` into a date object, and let a repeated key silently replace the first.
For files that people edit by hand that is a trap, so this loader keeps every scalar a
string except plain whole numbers, ``true``/``false`` and ``null``, and refuses repeated keys.
Each loader then parses times and dates itself and can say exactly what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode


class DataFileProblem(Exception):
    """The file could not be read or is not well-formed YAML; the message says where."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with a small set of implicit types and no repeated keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | bool) and key in seen:
                line = key_node.start_mark.line + 1
                raise DataFileProblem(f"line {line}: the key {key!r} appears twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Replace PyYAML's YAML 1.1 guesses with a short, predictable list.
_StrictLoader.yaml_implicit_resolvers = {}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|)$"), ["~", "n", ""]
)


def read_yaml(path: Path) -> object:
    """Parse one YAML file, raising DataFileProblem with a line number on any fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileProblem(f"cannot read the file: {exc}") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        where = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark else ""
        raise DataFileProblem(f"{where}not valid YAML ({exc.problem})") from exc
    except yaml.YAMLError as exc:
        raise DataFileProblem(f"not valid YAML ({exc})") from exc


def describe_validation_error(error: ValidationError) -> list[str]:
    """One short line per problem, such as ``languages item 2: 'xx' is not a known ...``."""
    lines = []
    for item in error.errors(include_url=False):
        where = " ".join(
            f"item {part + 1}" if isinstance(part, int) else str(part) for part in item["loc"]
        )
        context = item.get("ctx", {})
        message = _MESSAGES.get(item["type"], item["msg"]).format(**context)
        if item["type"] == "value_error":
            message = str(context.get("error", item["msg"]))
        lines.append(f"{where}: {message}" if where else message)
    return lines


# Pydantic's wording assumes a programmer; these say the same to whoever edits the file.
_MESSAGES = {
    "missing": "this field is missing",
    "extra_forbidden": "this field is not known (check the spelling)",
    "int_type": "must be a whole number",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping of field: value",
    "model_type": "must be a mapping of field: value",
    "bool_type": "must be true or false",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long (at most {max_length} characters)",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "has too many items (at most {max_length})",
}

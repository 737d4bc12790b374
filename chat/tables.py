"""Every package's tables, imported in one place so migrations and tests see them all."""

from __future__ import annotations

import importlib

# Packages that add tables to chat.models.Base. chat does not import them at module level, so
# the dependency direction (moderation and peers use chat) stays as DESIGN.md says.
TABLE_MODULES = ("chat.models", "moderation.models", "peers.models")


def import_all_tables() -> None:
    for name in TABLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise

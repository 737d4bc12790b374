"""The report's words from the pages' language catalogue (frontend/i18n/reports.<lang>.json)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import orjson

FALLBACK = "en"


@lru_cache(maxsize=16)
def _load(path: Path) -> dict[str, str]:
    try:
        loaded = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, str)}


def words(frontend: Path, language: str | None) -> dict[str, str]:
    """English, with the chosen language's words over it where it has them."""
    merged = dict(_load(frontend / "i18n" / f"reports.{FALLBACK}.json"))
    if language and language.isalpha() and language != FALLBACK:
        merged.update(_load(frontend / "i18n" / f"reports.{language}.json"))
    return merged

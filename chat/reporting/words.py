"""The report's words, from the staff entries of the pages' language catalogues.

The report keys are `staff.reports.*` in frontend/i18n/<lang>.json; here they are handed out
without the `staff.` prefix (`reports.fewer_than_5`), English under any other language.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import orjson

FALLBACK = "en"
PREFIX = "staff."


@lru_cache(maxsize=16)
def _load(path: Path) -> dict[str, str]:
    try:
        loaded = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return {
        key.removeprefix(PREFIX): text
        for key, text in loaded.items()
        if key.startswith(PREFIX + "reports.") and isinstance(text, str)
    }


def words(frontend: Path, language: str | None) -> dict[str, str]:
    """English, with the chosen language's words over it where it has them."""
    merged = dict(_load(frontend / "i18n" / f"{FALLBACK}.json"))
    if language and language.isalpha() and language != FALLBACK:
        merged.update(_load(frontend / "i18n" / f"{language}.json"))
    return merged

"""The room page's and mentor console's words exist in the rooms catalogues, in every language,
with the same placeholders, and cover every code the server can send (no browser needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from moderation.limits import LIMIT_REASONS
from moderation.types import PiiKind, RiskLevel, Stance
from peers.catalogue import Focus
from peers.pseudonyms import PseudonymProblem

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
PAGES = (FRONTEND / "rooms", FRONTEND / "mentor")
LANGUAGES = ("en", "pl", "ar", "ur", "bn", "pa", "so")
# The mentor console is English-only for now, like the staff console.
MENTOR_PREFIX = "mentor."

W_CALL = re.compile(r"""\bw\(\s*["']([^"']+)["']""")
HTML_KEY = re.compile(r"""\bdata-words(?:-[a-z-]+)?="([^"]+)\"""")
STRING = re.compile(r"""["']((?:rooms|mentor)(?:\.[a-z0-9_]+)+)["']""")
TEMPLATE = re.compile(r"""`((?:rooms|mentor)(?:\.[a-z0-9_]+)*)\.\$\{""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def catalogue(lang: str) -> dict[str, str]:
    """The words; keys starting with "_" are notes for translators (e.g. `_review`)."""
    data = json.loads((FRONTEND / "i18n" / f"rooms.{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    words = {key: value for key, value in data.items() if not key.startswith("_")}
    assert all(isinstance(v, str) for v in words.values())
    return words


def sources(*suffixes: str) -> list[str]:
    return [
        path.read_text(encoding="utf-8")
        for folder in PAGES
        for path in sorted(folder.iterdir())
        if path.suffix in suffixes
    ]


def used_keys() -> set[str]:
    keys: set[str] = set()
    for source in sources(".js"):
        keys |= set(W_CALL.findall(source)) | set(STRING.findall(source))
    for source in sources(".html"):
        keys |= set(HTML_KEY.findall(source))
    return keys


def dynamic_prefixes() -> set[str]:
    """Keys built in code, like `rooms.kind.${kind}`: their prefixes."""
    return {prefix for source in sources(".js") for prefix in TEMPLATE.findall(source)}


# What the server sends that the pages turn into words with a built key.
SERVER_CODES = {
    "rooms.busy": {"quiet", "some", "busy", "full"},
    "rooms.kind": {kind.value for kind in PiiKind},
    "rooms.name": {problem.value for problem in PseudonymProblem} | {"staff_name", "taken"},
    "rooms.refused": set(LIMIT_REASONS),
    "rooms.focus": {focus.value for focus in Focus if focus is not Focus.GENERAL},
    "mentor.risk": {level.value for level in RiskLevel},
    # How a mention was read (a note for the mentor): every stance but none and current.
    "mentor.stance": {stance.value for stance in Stance} - {"none", "current"},
    # The console's own actions on a person.
    "mentor.person": {"mute", "unmute", "remove", "ban", "move"},
    "mentor.status": {"moved", "removed", "banned"},
}


def test_the_scan_finds_the_keys_the_pages_use() -> None:
    keys = used_keys()
    assert {"rooms.room.know_someone", "rooms.rules.accept", "mentor.person.mute"} <= keys
    assert "rooms.exit.banned" in keys, "keys kept in tables are found too"
    assert {"rooms.kind", "rooms.name", "mentor.risk"} <= dynamic_prefixes()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_room_key_is_translated(lang: str) -> None:
    have = catalogue(lang)
    needed = {key for key in used_keys() if not key.startswith(MENTOR_PREFIX)}
    for prefix in dynamic_prefixes():
        if not prefix.startswith(MENTOR_PREFIX):
            needed |= {f"{prefix}.{code}" for code in SERVER_CODES[prefix]}
    missing = sorted(needed - have.keys())
    assert missing == [], f"rooms.{lang}.json lacks {missing}"


def test_every_mentor_key_is_in_english() -> None:
    have = catalogue("en")
    needed = {key for key in used_keys() if key.startswith(MENTOR_PREFIX)}
    for prefix in dynamic_prefixes():
        if prefix.startswith(MENTOR_PREFIX):
            needed |= {f"{prefix}.{code}" for code in SERVER_CODES[prefix]}
    assert sorted(needed - have.keys()) == []


def test_no_catalogue_holds_words_nothing_uses() -> None:
    used = used_keys()
    prefixes = dynamic_prefixes()
    for lang in LANGUAGES:
        stale = [
            key
            for key in catalogue(lang)
            if key not in used and not any(key.startswith(p + ".") for p in prefixes)
        ]
        assert stale == [], f"rooms.{lang}.json has unused keys {stale}"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_keep_the_placeholders(lang: str) -> None:
    english = catalogue("en")
    for key, text in catalogue(lang).items():
        assert key in english, f"{key} is not in English"
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), key


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_are_not_left_in_english(lang: str) -> None:
    english = catalogue("en")
    same = [
        key
        for key, text in catalogue(lang).items()
        if text == english[key] and not key.startswith(MENTOR_PREFIX)
    ]
    assert same == []

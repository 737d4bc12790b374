"""Every string the pages use exists in the language catalogues (no browser needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chat.reporting.counting import catalogue_keys as report_catalogue_keys

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CATALOGUES = FRONTEND / "i18n"
LANGUAGES = ("en", "pl", "ar", "ur", "bn", "pa", "so")
# Staff console text is English-only for now; other catalogues fall back to English for it.
STAFF_PREFIX = "staff."

T_CALL = re.compile(r"""\bt\(\s*["']([^"']+)["']""")
HTML_KEY = re.compile(r"""\bdata-i18n(?:-[a-z-]+)?="([^"]+)\"""")
STRING = re.compile(r"""["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


# `_review`: the keys whose translation still waits for a native speaker's check. Keys that
# start with "_" are notes for translators, never shown.
REVIEW = "_review"


def raw(lang: str) -> dict[str, object]:
    data = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{lang}.json must be one JSON object"
    return data


def catalogue(lang: str) -> dict[str, str]:
    texts = {key: value for key, value in raw(lang).items() if not key.startswith("_")}
    assert all(isinstance(value, str) for value in texts.values()), f"{lang}.json: not all text"
    return texts


def used_keys() -> set[str]:
    """Keys in t("…") calls, data-i18n attributes, and key-shaped strings in key tables."""
    namespaces = {key.split(".")[0] for key in catalogue("en")}
    keys: set[str] = set()
    for path in FRONTEND.rglob("*.js"):
        source = path.read_text(encoding="utf-8")
        keys |= set(T_CALL.findall(source))
        # Keys kept in tables (e.g. error code -> key) are strings in a known namespace.
        keys |= {s for s in STRING.findall(source) if s.split(".")[0] in namespaces}
    for path in FRONTEND.rglob("*.html"):
        keys |= set(HTML_KEY.findall(path.read_text(encoding="utf-8")))
    # The admin editors build a field's keys from its data name (frontend/admin/document.js);
    # tests/chat/test_admin_field_words.py checks each names a field some kind has.
    keys |= {
        k
        for k in catalogue("en")
        if k.startswith(("staff.admin.doc.field.", "staff.admin.doc.hint."))
    }
    # The server draws the report's charts and CSV with these words.
    keys |= {f"staff.{key}" for key in report_catalogue_keys()}
    return keys


def test_the_scan_finds_the_keys_the_pages_use() -> None:
    keys = used_keys()
    # A scan that found nothing would make every other test here pass for nothing.
    assert {
        "exit.button",
        "intro.safeguarding",
        "chat.queue_position",
        "staff.chat.quick_exit",
    } <= keys
    assert "error.general" in keys, "keys kept in tables are found too"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_visitor_key_is_translated(lang: str) -> None:
    have = catalogue(lang)
    needed = {key for key in used_keys() if not key.startswith(STAFF_PREFIX)}
    missing = sorted(needed - have.keys())
    assert missing == [], f"{lang}.json lacks {missing}"
    empty = sorted(key for key in needed if not have[key].strip())
    assert empty == [], f"{lang}.json has empty texts for {empty}"


def test_every_staff_key_is_in_english() -> None:
    missing = sorted(
        {k for k in used_keys() if k.startswith(STAFF_PREFIX)} - catalogue("en").keys()
    )
    assert missing == [], f"en.json lacks {missing}"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_keep_the_placeholders_and_add_no_unknown_keys(lang: str) -> None:
    english, other = catalogue("en"), catalogue(lang)
    unknown = sorted(other.keys() - english.keys())
    assert unknown == [], f"{lang}.json has keys English does not: {unknown}"
    for key, text in other.items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), (lang, key)


def test_no_catalogue_key_is_left_unused() -> None:
    unused = sorted(catalogue("en").keys() - used_keys())
    assert unused == [], f"en.json has keys no page uses: {unused}"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_review_marks_name_real_keys(lang: str) -> None:
    marked = raw(lang).get(REVIEW, [])
    assert isinstance(marked, list)
    assert sorted(set(marked) - catalogue(lang).keys()) == [], f"{lang}.json marks unknown keys"


def test_the_pages_load_no_web_fonts() -> None:
    """Every script is drawn with the phone's own fonts: nothing heavy to download first."""
    fonts = [p for p in FRONTEND.rglob("*") if p.suffix in {".woff", ".woff2", ".ttf", ".otf"}]
    assert fonts == []
    assert [p for p in FRONTEND.rglob("*.css") if "@font-face" in p.read_text()] == []

"""The blind held-out risk set stays frozen and well-formed (a schema check; it scores nothing).

The set was written by someone who never saw the risk rules (see heldout/BLIND.md). Pinning its
hash makes any edit visible: a corrected set is a new file, never a quiet change to this one.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

HELDOUT = Path(__file__).resolve().parent / "heldout"
SET = HELDOUT / "blind.jsonl"
NOTE = HELDOUT / "BLIND.md"
SHA256 = "dea5f88a22bf77478599f75b2489a975637eea3b25df1b3caa73e91fea206dfc"

LANGUAGES = {"en", "pl", "ar", "ur", "bn", "pa"}
LEVELS = {"none", "high", "imminent"}
CATEGORIES = {
    "suicide_self_harm",
    "domestic_abuse_danger",
    "child_safeguarding",
    "forced_marriage_honour",
    "overdose_medical",
    "sexual_violence",
}
# The script each language is written in when a line carries no "script", and the scripts a
# line may name instead (romanised Urdu, Bengali, Punjabi and Arabizi; Shahmukhi Punjabi).
USUAL_SCRIPT = {"en": "LATIN", "pl": "LATIN", "ar": "ARABIC", "ur": "ARABIC",
                "bn": "BENGALI", "pa": "GURMUKHI"}  # fmt: skip
OTHER_SCRIPTS = {"ar": {"Latn"}, "ur": {"Latn"}, "bn": {"Latn"}, "pa": {"Latn", "Arab"}}
SCRIPT_NAMES = {"Latn": "LATIN", "Arab": "ARABIC"}
KEYS = {"text", "language", "level", "categories", "script", "previous"}


def _lines() -> list[str]:
    return SET.read_text(encoding="utf-8").splitlines()


def _letter_scripts(text: str) -> set[str]:
    """The Unicode scripts of the letters and vowel signs in a text (digits, emoji ignored)."""
    return {
        unicodedata.name(ch).split()[0] for ch in text if unicodedata.category(ch)[0] in {"L", "M"}
    }


def test_the_set_is_the_frozen_one() -> None:
    digest = hashlib.sha256(SET.read_bytes()).hexdigest()
    assert digest == SHA256, (
        "blind.jsonl changed: the held-out set is frozen (heldout/BLIND.md); "
        "write a new set under a new name instead of editing this one"
    )
    assert SHA256 in NOTE.read_text(encoding="utf-8"), "BLIND.md names the pinned hash"


def test_the_file_is_one_object_a_line_with_no_blank_lines() -> None:
    raw = SET.read_bytes()
    assert raw.endswith(b"\n") and not raw.endswith(b"\n\n")
    lines = _lines()
    assert len(lines) >= 200
    assert all(line.strip() for line in lines)
    texts = [json.loads(line)["text"] for line in lines]
    assert len(set(texts)) == len(texts), "no message appears twice"


@pytest.mark.parametrize("number", range(1, len(_lines()) + 1))
def test_each_line_has_the_agreed_fields_and_values(number: int) -> None:
    row: Any = json.loads(_lines()[number - 1])
    where = f"blind.jsonl line {number}"
    assert isinstance(row, dict), where
    assert {"text", "language", "level", "categories"} <= row.keys() <= KEYS, where

    assert isinstance(row["text"], str) and row["text"].strip(), where
    language = row["language"]
    assert language in LANGUAGES, where
    assert row["level"] in LEVELS, where

    categories = row["categories"]
    assert isinstance(categories, list), where
    assert all(category in CATEGORIES for category in categories), where
    assert len(set(categories)) == len(categories), f"{where}: a category named twice"
    if row["level"] != "none":
        assert categories, f"{where}: a danger line names its main concern"

    previous = row.get("previous", [])
    assert isinstance(previous, list), where
    if "previous" in row:
        assert previous, f"{where}: 'previous' is left out rather than empty"
    assert all(isinstance(p, str) and p.strip() for p in previous), where

    if "script" in row:
        assert row["script"] in OTHER_SCRIPTS.get(language, set()), (
            f"{where}: {row['script']!r} is not a script named for {language!r}"
        )
        expected = SCRIPT_NAMES[row["script"]]
    else:
        expected = USUAL_SCRIPT[language]
    for text in [*previous, row["text"]]:
        scripts = _letter_scripts(text)
        assert scripts == {expected}, f"{where}: written in {scripts}, labelled {expected}"

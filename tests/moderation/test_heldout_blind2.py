"""The second blind held-out risk set: frozen by hash, every line well formed.

The set is scored only to report. These tests never run the detector on it; they hold the
file still (a changed byte fails) and make sure every line says what the evaluation needs:
the message, its language and script, the level and the categories an adviser gave it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

HELDOUT = Path(__file__).parent / "heldout"
SET_FILE = HELDOUT / "blind2.jsonl"
NOTE_FILE = HELDOUT / "BLIND2.md"
FROZEN_SHA256 = "bfa9bcdef12120e1fd8fb4239967f3efef8f54f14551c742cc110f2ed91f7f1a"

LANGUAGES = {"en", "pl", "ar", "ur", "bn", "pa"}
LEVELS = {"imminent", "high", "none"}
DANGER = {"imminent", "high"}
CATEGORIES = {
    "suicide_self_harm",
    "domestic_abuse_danger",
    "child_safeguarding",
    "forced_marriage_honour",
    "overdose_medical",
    "sexual_violence",
}
REQUIRED = {"text", "language", "level", "categories"}
OPTIONAL = {"script", "previous"}
# A script is named only when it is not the language's usual one.
OTHER_SCRIPTS = {"ur": {"Latn"}, "bn": {"Latn"}, "ar": {"Latn"}, "pa": {"Latn", "Arab"}}
USUAL_SCRIPT = {"en": "Latn", "pl": "Latn", "ar": "Arab", "ur": "Arab", "bn": "Beng", "pa": "Guru"}
# Letters Urdu and Shahmukhi use and Arabic does not, and Arabic's own yeh and kaf, which an
# Urdu keyboard never types: a line in the wrong one of the two was labelled wrongly.
URDU_LETTERS = set("ٹڈڑںےیکگہھ")
ARABIC_ONLY_LETTERS = set("يك")


def _writing_system(char: str) -> str:
    code = ord(char)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "Arab"
    if 0x0A00 <= code <= 0x0A7F:
        return "Guru"
    if 0x0980 <= code <= 0x09FF:
        return "Beng"
    if char.isascii() or 0x00C0 <= code <= 0x024F:
        return "Latn"
    return "other"


@cache
def _raw() -> bytes:
    return SET_FILE.read_bytes()


@cache
def _records() -> tuple[dict[str, Any], ...]:
    records = []
    for number, line in enumerate(_raw().decode("utf-8").split("\n")[:-1], start=1):
        record = json.loads(line)
        assert isinstance(record, dict), f"line {number} is not a JSON object"
        records.append(record)
    return tuple(records)


def _expected_script(record: dict[str, Any]) -> str:
    return str(record.get("script") or USUAL_SCRIPT[record["language"]])


def test_the_set_is_frozen() -> None:
    digest = hashlib.sha256(_raw()).hexdigest()
    assert digest == FROZEN_SHA256, "blind2.jsonl changed; it is frozen (see BLIND2.md)"


def test_the_note_names_the_same_file_and_says_it_is_frozen() -> None:
    note = NOTE_FILE.read_text(encoding="utf-8")
    assert FROZEN_SHA256 in note
    assert "Frozen: scored only to report, never tuned on." in note


def test_one_json_object_a_line_and_nothing_else() -> None:
    text = _raw().decode("utf-8")
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert all(line.strip() == line and line for line in lines), "blank or padded line"
    assert len(_records()) == len(lines)


def test_every_line_has_the_fields_and_only_those() -> None:
    for number, record in enumerate(_records(), start=1):
        keys = set(record)
        assert keys >= REQUIRED, f"line {number} lacks {REQUIRED - keys}"
        unknown = keys - REQUIRED - OPTIONAL
        assert not unknown, f"line {number} has unknown fields {unknown}"


def test_values_are_the_allowed_ones() -> None:
    for number, record in enumerate(_records(), start=1):
        where = f"line {number}"
        assert isinstance(record["text"], str), where
        assert record["text"].strip() == record["text"] != "", f"{where}: empty or padded text"
        assert "\n" not in record["text"], where
        assert record["language"] in LANGUAGES, where
        assert record["level"] in LEVELS, where
        categories = record["categories"]
        assert isinstance(categories, list), where
        assert set(categories) <= CATEGORIES, f"{where}: unknown category"
        assert len(set(categories)) == len(categories), f"{where}: repeated category"
        if "script" in record:
            assert record["script"] in OTHER_SCRIPTS.get(record["language"], set()), where
        if "previous" in record:
            previous = record["previous"]
            assert isinstance(previous, list) and previous, f"{where}: previous must be a list"
            for earlier in previous:
                assert isinstance(earlier, str) and earlier.strip() == earlier != "", where
                assert earlier != record["text"], where


def test_danger_has_a_main_category_and_safe_at_most_a_topic() -> None:
    for number, record in enumerate(_records(), start=1):
        if record["level"] in DANGER:
            assert record["categories"], f"line {number}: danger with no category"
        else:
            assert len(record["categories"]) <= 1, f"line {number}: a safe line names one topic"


def test_each_line_is_written_in_the_script_it_claims() -> None:
    for number, record in enumerate(_records(), start=1):
        expected = _expected_script(record)
        for text in [record["text"], *record.get("previous", [])]:
            systems = Counter(_writing_system(c) for c in text if c.isalpha())
            where = f"line {number} ({record['language']}, {expected}): {text[:40]!r}"
            assert systems, f"{where}: no letters"
            if expected == "Latn":
                assert set(systems) == {"Latn"}, where
            else:
                # code-switched lines carry some English; the claimed script still leads
                assert set(systems) <= {expected, "Latn"}, where
                assert systems[expected] * 2 > systems.total(), where
            if expected == "Arab":
                letters = set(text)
                if record["language"] == "ar":
                    assert not letters & URDU_LETTERS, f"{where}: Urdu letters in Arabic"
                else:
                    assert letters & URDU_LETTERS, f"{where}: no Urdu letters"
                    assert not letters & ARABIC_ONLY_LETTERS, f"{where}: Arabic yeh or kaf"


def test_no_message_appears_twice() -> None:
    texts = Counter(record["text"] for record in _records())
    assert [text for text, times in texts.items() if times > 1] == []


def test_the_mix_the_set_was_written_to() -> None:
    records = _records()
    assert 250 <= len(records) <= 300
    danger = [r for r in records if r["level"] in DANGER]
    assert 0.5 <= len(danger) / len(records) <= 0.6
    assert sum(1 for r in records if "previous" in r) >= 15
    for language in LANGUAGES:
        own = [r for r in records if r["language"] == language]
        assert len(own) >= 30, language
        assert any(r["level"] == "none" for r in own), language
        named = {c for r in own if r["level"] in DANGER for c in r["categories"]}
        assert named == CATEGORIES, f"{language} lacks {CATEGORIES - named}"
    scripts = {(r["language"], r.get("script")) for r in records}
    for language, others in OTHER_SCRIPTS.items():
        assert (language, None) in scripts, language
        assert all((language, script) in scripts for script in others), language

"""Which language, and which script, a message is written in.

Her page language says little about a single message: women on the English page write in
Urdu script, romanised Punjabi or Arabizi, and switch mid-sentence. The risk rules read the
languages detected here, always with English, instead of every lexicon at once (where a
Polish "od razu" read as English "od", an overdose).

* The script decides first: Bengali and Gurmukhi letters name their language.
* Arabic script is Arabic or Urdu by py3langid's model (offline, inside the wheel); Punjabi
  in Shahmukhi reads as Urdu to it, and shares most words, so Urdu-script text reads both.
* Latin script: romanised Urdu/Punjabi, Bengali and Arabizi are recognised by their common
  words and (for Arabizi) digits used as letters; otherwise py3langid tells English from
  Polish.
* Her page language is read too, after what was detected, so a short message the detector
  cannot place ("bade mout") is still read in the language she chose.

Pure and deterministic: the model is loaded once, on first use, from the installed package.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from moderation.normalize import ascii_words

KNOWN = ("en", "pl", "ar", "ur", "bn", "pa")

_SCRIPTS = (
    ("Beng", re.compile(r"[\u0980-\u09ff]")),
    ("Guru", re.compile(r"[\u0a00-\u0a7f]")),
    ("Arab", re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")),
    ("Latn", re.compile(r"[A-Za-z\u00c0-\u024f]")),
)
_WORD = re.compile(r"[^\W_]+")
# Letters found only in Urdu/Punjabi among Arabic-script languages (ٹ ڈ ڑ ں ہ ھ ے گ چ پ).
_URDU_LETTERS = re.compile(r"[\u0679\u0688\u0691\u06ba\u06c1\u06be\u06d2]")
_POLISH_LETTERS = re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")
# Digits standing for Arabic letters inside a word: 3 (ع), 7 (ح), 2 (ء), 5 (خ), 9 (ق).
_ARABIZI_DIGIT = re.compile(r"(?<=[a-z])[23579]|[23579](?=[a-z])", re.IGNORECASE)
# Where `_ARABIZI_DIGIT` matches, written to start with the digit so the engine can skip to
# digits instead of trying every position.
_ARABIZI_NEAR = re.compile(r"[23579](?:(?<=[a-z][23579])|(?=[a-z]))", re.IGNORECASE)
_MARKERS_FILE = Path(__file__).parent / "data" / "language_markers.yaml"
_NUMBER_WORD = re.compile(r"\d+(?:st|nd|rd|th|am|pm|mg|yo|s)?", re.IGNORECASE)


@dataclass(frozen=True)
class _Markers:
    shahmukhi: frozenset[str]
    # Everyday words of each romanised language: two of them mark a message as that one.
    roman: dict[str, frozenset[str]]
    # Words shared by several romanised languages count half for each.
    shared: frozenset[str]


@lru_cache(maxsize=1)
def _markers() -> _Markers:
    data = yaml.safe_load(_MARKERS_FILE.read_text(encoding="utf-8"))
    roman = {str(k): frozenset(str(v).split()) for k, v in data["romanised"].items()}
    shared = frozenset(
        w
        for language, words in roman.items()
        for w in words
        if any(w in other for code, other in roman.items() if code != language)
    )
    return _Markers(frozenset(str(data["shahmukhi"]).split()), roman, shared)


_ASCII_LETTER = re.compile(r"[A-Za-z]")


def script_of(text: str) -> str | None:
    """The script most of the message's letters are in (ISO 15924), or None."""
    if text.isascii():
        # Only the Latin range holds ASCII letters.
        return "Latn" if _ASCII_LETTER.search(text) else None
    counts: Counter[str] = Counter()
    for name, letters in _SCRIPTS:
        counts[name] = len(letters.findall(text))
    name, count = counts.most_common(1)[0]
    return name if count else None


def detect(text: str, page_language: str | None = None) -> tuple[str, ...]:
    """The languages whose rules to read for `text`, most likely first, English always in."""
    return _with_page(_detect_languages(text), page_language)


def settled(text: str, page_language: str | None = None) -> tuple[str, ...] | None:
    """What `detect` gives, when that needs no model: None when only the model can tell
    (plain Latin script with no Polish letters and no romanised words); then `detect` gives
    one of `model_outcomes(page_language)`."""
    script = script_of(text)
    if script != "Latn":
        return _with_page(_by_script(text, script), page_language)
    if _POLISH_LETTERS.search(text):
        return _with_page(("pl",), page_language)
    roman = _romanised(text)
    return _with_page(roman, page_language) if roman else None


@lru_cache(maxsize=64)
def model_outcomes(page_language: str | None = None) -> tuple[tuple[str, ...], ...]:
    """Every answer `detect` can give when the model decides (Polish, English, or neither)."""
    return tuple(_with_page(found, page_language) for found in _MODEL_ANSWERS)


def _with_page(found: tuple[str, ...], page_language: str | None) -> tuple[str, ...]:
    if page_language in KNOWN:
        found = (*found, page_language)
    return _with_english(found)


def _detect_languages(text: str) -> tuple[str, ...]:
    return _by_script(text, script_of(text))


def _by_script(text: str, script: str | None) -> tuple[str, ...]:
    if script == "Beng":
        return ("bn",)
    if script == "Guru":
        return ("pa",)
    if script == "Arab":
        return _arabic_script(text)
    if script == "Latn":
        return _latin_script(text)
    return ()


def _arabic_script(text: str) -> tuple[str, ...]:
    words = set(_WORD.findall(text))
    if words & _markers().shahmukhi:
        return ("pa", "ur")
    if _URDU_LETTERS.search(text):
        return ("ur", "pa")
    language, confidence = _classify(text, ("ar", "ur", "fa"))
    if language == "ar" and confidence >= 0.6:
        return ("ar",)
    return ("ur", "pa", "ar")


def _latin_script(text: str) -> tuple[str, ...]:
    if _POLISH_LETTERS.search(text):
        return ("pl",)
    roman = _romanised(text)
    if roman:
        return roman
    # The only answers the model gives here (`_MODEL_ANSWERS`).
    language, confidence = _classify(text, ("en", "pl"))
    if language == "pl" and confidence >= 0.9:
        return ("pl",)
    return ("en",) if confidence >= 0.9 else ()


_MODEL_ANSWERS: tuple[tuple[str, ...], ...] = (("pl",), ("en",), ())


def _romanised(text: str) -> tuple[str, ...]:
    ascii_text = text.isascii()
    # Lower-casing ASCII text changes no word's bounds: one call instead of one per word.
    # In ASCII text `_WORD` is [A-Za-z0-9]+, and lower-casing changes no word's bounds.
    words = ascii_words(text) if ascii_text else [w.lower() for w in _WORD.findall(text)]
    markers = _markers()
    scores: dict[str, float] = {}
    distinct = set(words)
    for language, known in markers.roman.items():
        # Most messages hold no marker of a language: the set says so without a loop.
        for word in words if not known.isdisjoint(distinct) else ():
            if word in known:
                scores[language] = scores.get(language, 0) + (0.5 if word in markers.shared else 1)
    arabizi = 0
    # A digit beside a letter inside a word is beside it in the text too.
    if not ascii_text or _ARABIZI_NEAR.search(text) is not None:
        arabizi = sum(
            1 for w in words if not _NUMBER_WORD.fullmatch(w) and _ARABIZI_DIGIT.search(w)
        )
    scores["ar"] = scores.get("ar", 0) + 2 * arabizi
    ranked = [lang for lang, value in sorted(scores.items(), key=lambda kv: -kv[1]) if value >= 1.5]
    if "ur" in ranked and "pa" not in ranked:
        ranked.append("pa")  # romanised Urdu and Punjabi share most words
    if "pa" in ranked and "ur" not in ranked:
        ranked.append("ur")
    return tuple(ranked)


def _with_english(languages: Iterable[str]) -> tuple[str, ...]:
    ordered = list(dict.fromkeys(languages))
    if "en" not in ordered:
        ordered.append("en")
    return tuple(ordered)


def _classify(text: str, among: tuple[str, ...]) -> tuple[str, float]:
    identifier = _identifier(among)
    language, confidence = identifier.classify(text)
    return str(language), float(confidence)


@lru_cache(maxsize=4)
def _identifier(among: tuple[str, ...]) -> Any:
    # py3langid ships no type hints; the model file is inside the installed wheel.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(among))
    return identifier

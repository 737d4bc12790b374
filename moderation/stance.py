"""Stance: is she at risk, or speaking about a risk?

A message can be about a risk without being at risk: "I would never hurt myself", "what do
you do about forced marriage?", "years ago I tried, now I'm well", a television drama, "my
mum will kill me haha". Such a message keeps its category (staff may want to know) but is
graded no higher than ``low``: a note for staff, not an alert.

The cues are per language, in ``moderation/data/stance.yaml`` (lexicon pattern syntax),
and a message is read with the cues of its detected languages and English. A sign that the
danger is happening now ("tonight", "he's outside") outweighs every stance but fiction
and a question, and a past that is over: "haha" does not make "I've taken the pills
tonight" a joke. A laugh softens only threats and harm by others ("my mum will kill me
haha"), never her own wish to die (see `moderation.risk`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from moderation.lexicon import LexiconError, Pattern, PatternError, parse_pattern
from moderation.types import Stance
from moderation.variants import ROMANISED, widen_pattern

STANCE_FILE = Path(__file__).parent / "data" / "stance.yaml"
_KINDS = ("joke", "hyperbole", "question", "fiction", "past", "resolved", "never", "intent")
# Laughing and winking faces: a joke marker in any language.
_JOKE_EMOJI = re.compile("[\U0001f602\U0001f923\U0001f606\U0001f605\U0001f61c\U0001f61d\U0001f609]")


@dataclass
class _Cues:
    by_kind: dict[str, list[Pattern]] = field(default_factory=dict)

    def any(self, kind: str, text: str) -> bool:
        return any(p.search(text) for p in self.by_kind.get(kind, ()))


def stance_of(raw: str, canon: str, languages: Iterable[str], now: bool) -> Stance:
    """The stance of a message with a risk in it (`canon` is its normalised form)."""
    cues = [_cues_for(language) for language in dict.fromkeys(languages)]

    def said(kind: str) -> bool:
        return any(c.any(kind, canon) for c in cues)

    if said("fiction"):
        return Stance.FICTION
    if said("question"):
        return Stance.QUESTION
    # "this exam will kill me", "ye naukri meri jaan le legi": a killing word said of an
    # everyday thing. A time in the same breath ("the exam tomorrow") does not make it real.
    if said("hyperbole"):
        return Stance.JOKE
    # Before the time cues: "resolved" is often said with "now" ("now I'm fine").
    if said("past") and said("resolved"):
        return Stance.PAST
    if now:
        return Stance.CURRENT
    if said("joke") or _JOKE_EMOJI.search(raw):
        return Stance.JOKE
    if said("never"):
        return Stance.NEGATED
    return Stance.CURRENT


def cue_words(languages: Iterable[str]) -> frozenset[str]:
    """Every word the cues of `languages` are written with."""
    return frozenset(
        word
        for language in languages
        for patterns in _cues_for(language).by_kind.values()
        for pattern in patterns
        for word in pattern.literals
    )


def settled_now(canon: str, languages: Iterable[str]) -> bool:
    """True if she says it is over, or she is at peace ("now I'm fine", "man shant hai")."""
    return any(_cues_for(language).any("resolved", canon) for language in languages)


def hyperbole(canon: str, languages: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Where a killing or dying word is said of an everyday thing ("this exam will kill
    me", "garmi se mar rahi hoon"): a risk phrase found there is softened whatever its
    category, unlike with a laugh; the rest of the message is read as it is."""
    return tuple(
        match.span()
        for language in dict.fromkeys(languages)
        for pattern in _cues_for(language).by_kind.get("hyperbole", ())
        for match in pattern.matches(canon)
    )


def laughs(raw: str, canon: str, languages: Iterable[str]) -> bool:
    """True if she laughs or jokes ("haha", "lol", a laughing face)."""
    return bool(_JOKE_EMOJI.search(raw)) or any(
        _cues_for(language).any("joke", canon) for language in languages
    )


def intends(canon: str, languages: Iterable[str]) -> bool:
    """True if she says she means to act ("doing it", "tonight's the night")."""
    return any(_cues_for(language).any("intent", canon) for language in languages)


@lru_cache(maxsize=16)
def _cues_for(language: str) -> _Cues:
    return _all_cues().get(language, _Cues())


@lru_cache(maxsize=1)
def _all_cues() -> dict[str, _Cues]:
    data = yaml.safe_load(STANCE_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise LexiconError(f"{STANCE_FILE}: must map languages to cue lists")
    return {str(language): _parse_language(language, kinds) for language, kinds in data.items()}


def _parse_language(language: object, kinds: object) -> _Cues:
    where = f"{STANCE_FILE}: {language}"
    if not isinstance(kinds, dict) or not set(map(str, kinds)) <= set(_KINDS):
        raise LexiconError(f"{where}: expected some of {', '.join(_KINDS)}")
    cues = _Cues()
    for kind, patterns in kinds.items():
        if not isinstance(patterns, list):
            raise LexiconError(f"{where}: {kind} must be a list of patterns")
        widen = str(language) if str(language) in ROMANISED else None
        cues.by_kind[str(kind)] = [_parse(p, f"{where}: {kind}", widen) for p in patterns]
    return cues


def _parse(pattern: object, where: str, widen: str | None = None) -> Pattern:
    # Romanised cues also match their other spellings, as the lexicons do.
    try:
        return parse_pattern(widen_pattern(str(pattern), widen) if widen else str(pattern))
    except PatternError as exc:
        raise LexiconError(f"{where}: pattern {pattern!r}: {exc}") from exc

"""Kinder-wording suggestions for what staff write to women and about them.

The guide is data (`moderation/data/wording.yaml`). The checker only suggests: the staff
console shows each suggestion next to the draft and the member of staff decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from moderation.datafiles import DATA_DIR, DataFileError, describe_validation_error, load_mapping

WORDING_FILE = DATA_DIR / "wording.yaml"

Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]

# Staff are not trying to slip past the checker, so the draft is searched as typed; curly
# apostrophes become straight ones, one character for one, so offsets still fit.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_WORD = re.compile(r"[\w']+")
# A first word compared as a whole, and the plain beginning of one that is not.
_PLAIN = re.compile(r"[a-z0-9_]+")
_PLAIN_START = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class WordingSuggestion:
    """One phrase in the draft, where it is, and what to consider instead."""

    rule: str
    phrase: str
    start: int
    end: int
    suggestion: str
    why: str


class WordingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")]
    phrases: list[Phrase] = Field(min_length=1)
    suggestion: Text
    why: Text
    only_near: list[Phrase] = []
    window: int = Field(default=6, ge=1, le=30)
    unless_followed_by: list[Phrase] = []


class WordingGuide(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[WordingRule] = Field(min_length=1)


@dataclass(frozen=True)
class _Compiled:
    rule: WordingRule
    pattern: re.Pattern[str]
    near: re.Pattern[str] | None
    unless: re.Pattern[str] | None
    # How a match of the rule can begin, in plain lower-case ASCII: whole first words, and
    # beginnings of a first word (a word* stem, a word with a hyphen or an apostrophe).
    # None when some phrase starts otherwise: the rule is then searched everywhere.
    words: frozenset[str] | None = None
    stems: tuple[str, ...] = ()


@dataclass(frozen=True)
class _CompiledAll:
    rules: tuple[_Compiled, ...]
    # First word -> the rules a match beginning with it may belong to; likewise for stems.
    by_word: dict[str, tuple[int, ...]]
    by_stem: dict[str, tuple[int, ...]]
    stems: tuple[str, ...]


def check_wording(
    text: str, rules: Sequence[WordingRule] | None = None
) -> tuple[WordingSuggestion, ...]:
    """Suggestions for the draft, in text order; one per place, the longest phrase wins.

    Offsets index the text as given, so the console can underline the words in the draft.
    """
    compiled = _compile_all(tuple(rules)) if rules is not None else _default_compiled()
    draft = text.translate(_APOSTROPHES)
    starts = _starts(compiled, draft)
    if starts is None:
        found = [item for rule in compiled.rules for item in _matches(rule, text, draft, None)]
    else:
        # In the rules' order, as above; a rule none of whose beginnings is in the draft
        # has nothing to find.
        found = [
            item
            for index in sorted(starts)
            for item in _matches(compiled.rules[index], text, draft, starts[index])
        ]
    return _without_overlaps(found)


def _starts(compiled: _CompiledAll, draft: str) -> dict[int, list[int]] | None:
    """Where in `draft` each rule's matches can begin (by rule index; a rule absent has
    none), or None when that cannot be told from the words (a draft beyond plain ASCII).

    Every phrase begins with a word right after something that is not a word character or
    an apostrophe, so a match starts where one of the draft's words starts, and that word
    is a rule's first word or begins with its stem. Only ASCII is compared, where lower
    case is exactly what the patterns' IGNORECASE matches. Trying each rule only there,
    rather than at every position of the draft, takes most of the checker's time away.
    """
    if not draft.isascii():
        return None
    starts: dict[int, list[int]] = {}
    for word in _WORD.finditer(draft.lower()):
        found = word.group(0)
        owners = compiled.by_word.get(found, ())
        if compiled.stems and found.startswith(compiled.stems):
            owners = owners + tuple(
                index
                for stem in compiled.stems
                if found.startswith(stem)
                for index in compiled.by_stem[stem]
            )
        for index in dict.fromkeys(owners):
            starts.setdefault(index, []).append(word.start())
    return starts


def load_wording_rules(path: Path = WORDING_FILE) -> tuple[WordingRule, ...]:
    """Read and validate the wording guide; a bad file raises DataFileError."""
    try:
        guide = WordingGuide.model_validate(load_mapping(path))
    except ValidationError as exc:
        raise DataFileError(path, describe_validation_error(exc)) from None
    seen: set[str] = set()
    for index, rule in enumerate(guide.rules):
        if rule.id in seen:
            raise DataFileError(path, f"rules.{index}: id {rule.id!r} is used twice")
        seen.add(rule.id)
    return tuple(guide.rules)


@lru_cache(maxsize=1)
def default_wording_rules() -> tuple[WordingRule, ...]:
    """The shipped guide, loaded once; call at start-up so a bad file stops the server."""
    return load_wording_rules()


@lru_cache(maxsize=1)
def _default_compiled() -> _CompiledAll:
    return _compile_all(default_wording_rules())


def _compile_all(rules: tuple[WordingRule, ...]) -> _CompiledAll:
    compiled = tuple(_compile(rule) for rule in rules)
    by_word: dict[str, list[int]] = {}
    by_stem: dict[str, list[int]] = {}
    for index, rule in enumerate(compiled):
        for word in rule.words or ():
            by_word.setdefault(word, []).append(index)
        for stem in rule.stems:
            by_stem.setdefault(stem, []).append(index)
    return _CompiledAll(
        compiled,
        {word: tuple(owners) for word, owners in by_word.items()},
        {stem: tuple(owners) for stem, owners in by_stem.items()},
        tuple(by_stem),
    )


def _compile(rule: WordingRule) -> _Compiled:
    near = _alternation(rule.only_near)
    unless = _alternation(rule.unless_followed_by)
    words, stems = _beginnings(rule.phrases)
    return _Compiled(
        rule=rule,
        pattern=re.compile(_alternation_source(rule.phrases), re.IGNORECASE),
        near=re.compile(near, re.IGNORECASE) if near else None,
        unless=re.compile(r"\s*" + unless, re.IGNORECASE) if unless else None,
        words=words,
        stems=stems,
    )


def _beginnings(phrases: Sequence[str]) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    """The whole first words and the first-word stems a match can begin with (see
    `_Compiled`); (None, ()) when a phrase begins with anything but plain ASCII letters."""
    words: set[str] = set()
    stems: set[str] = set()
    for phrase in phrases:
        first = phrase.translate(_APOSTROPHES).split()[0].lower()
        if _PLAIN.fullmatch(first):
            words.add(first)
            continue
        stem = _PLAIN_START.match(first.removesuffix("*"))
        if stem is None:
            return None, ()
        stems.add(stem.group(0))
    return frozenset(words), tuple(sorted(stems))


def _alternation(phrases: Sequence[str]) -> str:
    return _alternation_source(phrases) if phrases else ""


def _alternation_source(phrases: Sequence[str]) -> str:
    ordered = sorted(phrases, key=len, reverse=True)
    return r"(?<![\w'])(?:" + "|".join(_phrase_regex(p) for p in ordered) + r")(?![\w'])"


def _phrase_regex(phrase: str) -> str:
    words = phrase.translate(_APOSTROPHES).split()
    parts = [
        re.escape(word[:-1]) + r"\w*" if word.endswith("*") and len(word) > 1 else re.escape(word)
        for word in words
    ]
    # Hyphens and spaces are interchangeable in the guide and in drafts.
    return r"[\s-]+".join(parts).replace(r"\-", r"[\s-]?")


def _found(compiled: _Compiled, draft: str, starts: list[int] | None) -> Iterator[re.Match[str]]:
    """The rule's matches, as `pattern.finditer(draft)` finds them; with `starts` (where
    they can begin, in order), tried only there."""
    if starts is None:
        yield from compiled.pattern.finditer(draft)
        return
    end = 0
    for start in starts:
        if start < end:
            continue
        match = compiled.pattern.match(draft, start)
        if match is not None:
            yield match
            end = match.end()


def _matches(
    compiled: _Compiled, text: str, draft: str, starts: list[int] | None
) -> list[WordingSuggestion]:
    out = []
    for match in _found(compiled, draft, starts):
        if compiled.unless and compiled.unless.match(draft, match.end()):
            continue
        if compiled.near and not _is_near(compiled, draft, match):
            continue
        out.append(
            WordingSuggestion(
                rule=compiled.rule.id,
                phrase=text[match.start() : match.end()],
                start=match.start(),
                end=match.end(),
                suggestion=compiled.rule.suggestion,
                why=compiled.rule.why,
            )
        )
    return out


def _is_near(compiled: _Compiled, draft: str, match: re.Match[str]) -> bool:
    assert compiled.near is not None
    window = compiled.rule.window
    # Words are short; the slack only bounds the work on a very long draft.
    reach = 40 * window
    before = _WORD.findall(draft, max(0, match.start() - reach), match.start())[-window:]
    after = _WORD.findall(draft, match.end(), match.end() + reach)[:window]
    context = " ".join([*before, "|", *after])
    return compiled.near.search(context) is not None


def _without_overlaps(found: list[WordingSuggestion]) -> tuple[WordingSuggestion, ...]:
    ordered = sorted(found, key=lambda item: (item.start, -(item.end - item.start)))
    kept: list[WordingSuggestion] = []
    for item in ordered:
        if kept and item.start < kept[-1].end:
            continue
        kept.append(item)
    return tuple(kept)

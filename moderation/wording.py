"""Kinder-wording suggestions for what staff write to women and about them.

The guide is data (`moderation/data/wording.yaml`). The checker only suggests: the staff
console shows each suggestion next to the draft and the member of staff decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def check_wording(
    text: str, rules: Sequence[WordingRule] | None = None
) -> tuple[WordingSuggestion, ...]:
    """Suggestions for the draft, in text order; one per place, the longest phrase wins.

    Offsets index the text as given, so the console can underline the words in the draft.
    """
    compiled = _compile_all(tuple(rules)) if rules is not None else _default_compiled()
    draft = text.translate(_APOSTROPHES)
    found = [item for rule in compiled for item in _matches(rule, text, draft)]
    return _without_overlaps(found)


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
def _default_compiled() -> tuple[_Compiled, ...]:
    return _compile_all(default_wording_rules())


def _compile_all(rules: tuple[WordingRule, ...]) -> tuple[_Compiled, ...]:
    return tuple(_compile(rule) for rule in rules)


def _compile(rule: WordingRule) -> _Compiled:
    near = _alternation(rule.only_near)
    unless = _alternation(rule.unless_followed_by)
    return _Compiled(
        rule=rule,
        pattern=re.compile(_alternation_source(rule.phrases), re.IGNORECASE),
        near=re.compile(near, re.IGNORECASE) if near else None,
        unless=re.compile(r"\s*" + unless, re.IGNORECASE) if unless else None,
    )


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


def _matches(compiled: _Compiled, text: str, draft: str) -> list[WordingSuggestion]:
    out = []
    for match in compiled.pattern.finditer(draft):
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

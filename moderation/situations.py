"""Situations told in parts: danger that no single phrase holds.

A lexicon phrase needs its words side by side. Women write the parts of a situation apart
and in any order: "left the baby in her cot while i nipped out to score", "zabardasti meri
shaadi karwa rahe hain", "the rope is in the garage, ive checked it holds". Here a
situation is a set of parts (who is at risk, the means, the act, the place, the time, a
lethality marker), each a list of phrases per language in the lexicon pattern syntax, in
``moderation/data/situations.yaml``. It is found when every part is present within a
window of words, in any order; parts may come from different languages of the message
(code-switching: "bache ko akela chhor ke went to score").

A situation found is graded like a phrase (`moderation.risk`): negated before its first
part or after its last (only before, for a rule marked ``negation: before`` whose parts
hold a negation of their own), or put in the past, it is a mention; a time now makes high
imminent; and the stance of the whole message applies.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from moderation.lexicon import WORD_CHAR, LexiconError, Pattern, PatternError, parse_pattern
from moderation.types import RiskCategory, RiskLevel
from moderation.variants import ROMANISED, widen_pattern

SITUATIONS_FILE = Path(__file__).parent / "data" / "situations.yaml"
# Parts listed under this key are read whatever the language (emoji read as words, numbers).
ANY_LANGUAGE = "any"
_WORD = re.compile(rf"{WORD_CHAR}+")
_MAX_SPANS = 6  # of each part, per message: enough to find the tightest window
_MAX_WINDOW = 24


@dataclass(frozen=True)
class Rule:
    name: str
    categories: tuple[RiskCategory, ...]
    level: RiskLevel
    window: int
    parts: tuple[str, ...]
    # "around": a negation before the first part or after the last makes it a mention;
    # "before": only before the first, for situations whose parts hold a negation of their
    # own ("sleep and never wake", "আর কখনো জাগতে চাই না").
    negation: str = "around"


@dataclass(frozen=True)
class Span:
    """Where one part matched: characters in the text, and the word numbers."""

    start: int
    end: int
    first_word: int
    last_word: int
    language: str
    pattern: Pattern


@dataclass(frozen=True)
class Found:
    rule: Rule
    spans: tuple[Span, ...]  # in text order

    @property
    def start(self) -> int:
        return self.spans[0].start

    @property
    def end(self) -> int:
        return max(s.end for s in self.spans)


class Situations:
    """The situations of one file, compiled once; read-only, safe to share."""

    def __init__(self, parts: dict[str, dict[str, tuple[Pattern, ...]]], rules: Sequence[Rule]):
        self._parts = parts
        self._rules = tuple(rules)
        # Which patterns a word can start (their anchors are the beginnings of words): a
        # message visits only the patterns its words point at.
        self._by_anchor: dict[str, set[int]] = {}
        self._always: set[int] = set()
        for by_language in parts.values():
            for patterns in by_language.values():
                for pattern in patterns:
                    if not pattern.anchors:
                        self._always.add(id(pattern))
                    for anchor in pattern.anchors:
                        self._by_anchor.setdefault(anchor, set()).add(id(pattern))
        self._lengths = sorted({len(a) for a in self._by_anchor})
        # A rule is searched only when each of its parts has a pattern whose words are
        # present in a language read: the parts a message can hold are told from the ids
        # present, before any regex runs.
        self._needs = tuple(frozenset(rule.parts) for rule in self._rules)
        self._owners_by_read: dict[
            tuple[str, ...], tuple[frozenset[int], dict[int, frozenset[str]]]
        ] = {}
        self._word_ids: dict[str, frozenset[int]] = {}

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    def words(self) -> dict[str, set[str]]:
        """The words the parts are written with, by language."""
        out: dict[str, set[str]] = {}
        for by_language in self._parts.values():
            for language, patterns in by_language.items():
                out.setdefault(language, set()).update(w for p in patterns for w in p.literals)
        return out

    def find(self, text: str, languages: Sequence[str]) -> list[Found]:
        """Every situation whose parts are all in `text` within its window."""
        if not self._rules:
            return []
        read = (*dict.fromkeys(languages), ANY_LANGUAGE)
        present = self._present(text)
        ids, owners = self._owners(read)
        held: set[str] = set()
        for pattern_id in present & ids:
            held |= owners[pattern_id]
        starts: list[int] | None = None
        spans_of: dict[str, list[Span]] = {}
        found: list[Found] = []
        for rule, needs in zip(self._rules, self._needs, strict=True):
            # A part's spans do not depend on the rule: passing over a rule that lacks a
            # part changes nothing found.
            if not needs <= held:
                continue
            chosen: list[list[Span]] = []
            for name in rule.parts:
                spans = spans_of.get(name)
                if spans is None:
                    if starts is None:
                        starts = [m.start() for m in _WORD.finditer(text)]
                    spans = self._spans(name, text, read, starts, present)
                    spans_of[name] = spans
                if not spans:
                    break
                chosen.append(spans)
            else:
                best = _tightest(chosen, rule.window)
                if best is not None:
                    found.append(Found(rule, best))
        return found

    def _owners(self, read: tuple[str, ...]) -> tuple[frozenset[int], dict[int, frozenset[str]]]:
        """The patterns of the parts in the languages `read`, and each one's parts' names."""
        found = self._owners_by_read.get(read)
        if found is None:
            names: dict[int, set[str]] = {}
            for name, by_language in self._parts.items():
                for language in read:
                    for pattern in by_language.get(language, ()):
                        names.setdefault(id(pattern), set()).add(name)
            owners = {pattern_id: frozenset(n) for pattern_id, n in names.items()}
            found = (frozenset(owners), owners)
            if len(self._owners_by_read) >= 256:
                self._owners_by_read.clear()
            self._owners_by_read[read] = found
        return found

    def _present(self, text: str) -> set[int]:
        found = set(self._always)
        for word in set(_WORD.findall(text)):
            ids = self._word_ids.get(word)
            if ids is None:
                hit: set[int] = set()
                for length in self._lengths:
                    if length > len(word):
                        break
                    hit |= self._by_anchor.get(word[:length], set())
                ids = frozenset(hit)
                if len(self._word_ids) >= 20_000:
                    self._word_ids.clear()
                self._word_ids[word] = ids
            found |= ids
        return found

    def _spans(
        self,
        name: str,
        text: str,
        languages: Sequence[str],
        starts: list[int],
        present: set[int],
    ) -> list[Span]:
        out: list[Span] = []
        by_language = self._parts.get(name, {})
        for language in languages:
            for pattern in by_language.get(language, ()):
                if id(pattern) not in present:
                    continue
                for match in itertools.islice(pattern.matches(text), _MAX_SPANS):
                    start, end = match.span()
                    first = bisect_right(starts, start) - 1
                    last = bisect_right(starts, max(start, end - 1)) - 1
                    out.append(Span(start, end, first, last, language, pattern))
                if len(out) >= _MAX_SPANS:
                    return out
        return out


def _tightest(chosen: list[list[Span]], window: int) -> tuple[Span, ...] | None:
    """The combination of one span per part covering the fewest words, if within `window`;
    two parts may not be the same words."""
    best: tuple[Span, ...] | None = None
    best_width = window + 1
    for combo in itertools.product(*chosen):
        first = min(s.first_word for s in combo)
        last = max(s.last_word for s in combo)
        width = last - first + 1
        if width >= best_width or _overlap(combo):
            continue
        best, best_width = combo, width
    if best is None:
        return None
    return tuple(sorted(best, key=lambda s: s.start))


def _overlap(combo: Sequence[Span]) -> bool:
    ordered = sorted(combo, key=lambda s: s.start)
    return any(b.start < a.end for a, b in itertools.pairwise(ordered))


@lru_cache(maxsize=1)
def default_situations() -> Situations:
    return load_situations(SITUATIONS_FILE)


def load_situations(path: Path) -> Situations:
    """Read and check a situations file; a bad one raises `LexiconError` saying where."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("parts"), dict):
        raise LexiconError(f"{path}: must have 'parts' (a mapping) and 'rules' (a list)")
    parts = {str(name): _part(path, str(name), raw) for name, raw in data["parts"].items()}
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list):
        raise LexiconError(f"{path}: 'rules' must be a list")
    rules = [_rule(path, index, raw, parts) for index, raw in enumerate(raw_rules, start=1)]
    return Situations(parts, rules)


def _part(path: Path, name: str, raw: object) -> dict[str, tuple[Pattern, ...]]:
    if not isinstance(raw, dict):
        raise LexiconError(f"{path}: part {name}: must map languages to pattern lists")
    out: dict[str, tuple[Pattern, ...]] = {}
    for language, patterns in raw.items():
        where = f"{path}: part {name}: {language}"
        if not isinstance(patterns, list) or not patterns:
            raise LexiconError(f"{where}: must be a non-empty list of patterns")
        out[str(language)] = tuple(_compile(str(p), str(language), where) for p in patterns)
    return out


def _compile(source: str, language: str, where: str) -> Pattern:
    try:
        if language in ROMANISED:
            return parse_pattern(widen_pattern(source, language))
        return parse_pattern(source)
    except PatternError as exc:
        raise LexiconError(f"{where}: pattern {source!r}: {exc}") from exc


def _rule(path: Path, index: int, raw: object, parts: Mapping[str, object]) -> Rule:
    where = f"{path}: rule {index}"
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: must be a mapping")
    name = str(raw.get("name", index))
    where = f"{where} ({name})"
    names = raw.get("parts")
    if not isinstance(names, list) or len(names) < 2:
        raise LexiconError(f"{where}: 'parts' must list two or more parts")
    unknown = [n for n in names if n not in parts]
    if unknown:
        raise LexiconError(f"{where}: unknown part(s) {', '.join(map(str, unknown))}")
    window = raw.get("window")
    if not isinstance(window, int) or isinstance(window, bool) or not 2 <= window <= _MAX_WINDOW:
        raise LexiconError(f"{where}: 'window' must be a whole number from 2 to {_MAX_WINDOW}")
    category = raw.get("category")
    listed = category if isinstance(category, list) else [category]
    try:
        categories = tuple(RiskCategory(str(c)) for c in listed)
        level = RiskLevel(str(raw.get("level")))
    except ValueError as exc:
        raise LexiconError(f"{where}: {exc}") from exc
    if level is RiskLevel.NONE or not categories:
        raise LexiconError(f"{where}: needs a category and a level above none")
    negation = raw.get("negation", "around")
    if negation not in ("around", "before"):
        raise LexiconError(f"{where}: 'negation' must be 'around' or 'before'")
    return Rule(name, categories, level, window, tuple(map(str, names)), str(negation))

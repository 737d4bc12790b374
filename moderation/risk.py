"""Risk detection: does a message show danger, of what kind, and how urgent?

Rules-based, from the per-language lexicons in ``moderation/data/lexicons``. A message is
read in its own language first: `moderation.language` detects its language and script and
the rules of that language and English are read (romanised Urdu, Punjabi, Bengali and
Arabizi as the languages they are; her page language too). A phrase in a lexicon gives a
category and a level; the words around it can change the level:

* negated within the phrase's clause ("I'm not going to kill myself") -> at most ``low``;
* about the past ("when I was 16", "years ago") -> at most ``low``;
* a ``high`` phrase in a message with a sign that it is happening now ("tonight", "rn",
  "pills in front of me", "he's outside") -> ``imminent``;
* someone else's suicidal feelings ("my friend said she wants to die", or a phrase marked
  ``about: other``) -> one level lower, never below ``low``. Other categories keep their level
  when reported: a child at risk, a friend who has overdosed, a threat "he said he'd kill me"
  matter as much when she tells us about them.

Then the stance of the whole message (`moderation.stance`): a risk denied ("I would never"),
asked about, past and over, from television or the news, or a joke about someone else's
threat, is a mention: at most ``low``, a note for staff. Only ``high`` and ``imminent``
alert (`RiskAssessment.alert`).

Her last few messages can be passed as ``previous``: a time now ("tonight", "he's here
rn") joins danger she wrote before, or a means she wrote of with a wish to act now
("I've saved them up" ... "doing it tonight"), into one imminent situation.

Everyday phrases listed under ``ignore`` ("dying to see it", "harm reduction") are blanked
out before matching. Words of eight or more letters in a pattern, and shorter ones written
``~word``, also match with one typo ("overdoes", "sucide"). Romanised and Arabizi spellings,
elongations, text-speak and means emoji are folded first (`moderation.variants`), and
situations told in parts, words apart, are read beside the phrases (`moderation.situations`).

What the rules can and cannot do: they catch danger written in the words the lexicons know,
and their variants, with few false alarms. New wording is often missed (see
tests/moderation/heldout/README.md for measured figures on a set never tuned on), so they
are a net for staff, not a substitute for reading. A classifier trained offline can sit
behind the same `Classifier` interface; `combine` and `stacked` merge its opinion with the
rules. None is shipped: the rules stand alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from moderation.language import KNOWN, detect, model_outcomes, settled
from moderation.lexicon import (
    WORD_CHAR,
    Entry,
    Lexicon,
    LexiconError,
    Pattern,
    load_lexicons,
)
from moderation.normalize import normalise, word_runs
from moderation.situations import Found, Situations, default_situations
from moderation.stance import cue_words, hyperbole, intends, laughs, settled_now, stance_of
from moderation.types import (
    NO_RISK,
    RiskAssessment,
    RiskCategory,
    RiskLevel,
    RiskMatch,
    Stance,
    highest_level,
)
from moderation.variants import Speller, widen_lexicons

__all__ = [
    "Classifier",
    "LexiconError",
    "RuleDetector",
    "assess",
    "combine",
    "default_detector",
    "stacked",
]

# Only suicidal feelings are graded lower when they are someone else's: the woman writing is
# not the one at risk. For every other category the danger is the same whoever reports it.
_LOWER_WHEN_REPORTED = frozenset({RiskCategory.SUICIDE_SELF_HARM})
_NOT_SOFTENED_BY_A_LAUGH = frozenset(
    {RiskCategory.SUICIDE_SELF_HARM, RiskCategory.OVERDOSE_MEDICAL}
)
_MAX_MATCHES = 20
_MAX_MATCHES_PER_PATTERN = 25
_READ_HEAD = 48_000
_READ_TAIL = 16_000
_LONG_RUN_CHARS = 64
_LONG_RUN = re.compile(rf"({WORD_CHAR}{{{_LONG_RUN_CHARS}}}){WORD_CHAR}+")
# How far around a phrase to look for negation, history or reported speech (characters).
_CONTEXT_CHARS = 160
# Arabic-script full stop (۔), comma (،) and semicolon (؛) end a sentence or clause too.
_SENTENCE_END = re.compile(r"[.!?؟।۔\n]")
_CLAUSE_END = re.compile(r"[.!?؟।۔,،;؛:\n]")
_WORD = re.compile(rf"{WORD_CHAR}+")
_MASK = " \u00b7 "  # a non-word mark that phrases cannot match across
_FUZZY_SHORTEST = 4  # a five-letter ~word with a letter missing
# Her messages read together as one situation: this one and up to this many before it.
_CONTEXT_MESSAGES = 3
# The language is told from the start of a message; more adds time, not certainty.
_DETECT_CHARS = 600


class Classifier(Protocol):
    """Anything that grades a message's risk: the rules, or a model trained offline."""

    def assess(
        self, text: str, language: str | None, previous: Sequence[str] = ()
    ) -> RiskAssessment: ...


def combine(rules: RiskAssessment, extra: RiskAssessment) -> RiskAssessment:
    """Merge two opinions: the higher level, every category and every match of both."""
    matches = _dedupe([*rules.matches, *extra.matches])
    level = highest_level([rules.level, extra.level])
    graded = [(c, rules.level) for c in rules.categories]
    graded += [(c, extra.level) for c in extra.categories]
    categories = _order_categories(graded)
    stance = rules.stance if rules.flagged else extra.stance
    return RiskAssessment(level, categories, matches, stance, rules.languages)


@dataclass(frozen=True)
class _Stacked:
    first: Classifier
    second: Classifier

    def assess(
        self, text: str, language: str | None, previous: Sequence[str] = ()
    ) -> RiskAssessment:
        return combine(
            self.first.assess(text, language, previous),
            self.second.assess(text, language, previous),
        )


def stacked(extra: Classifier, rules: Classifier | None = None) -> Classifier:
    """A classifier that asks the rules (default ones unless given) and then `extra`."""
    return _Stacked(rules or default_detector(), extra)


@dataclass(frozen=True)
class _Hit:
    category: RiskCategory
    level: RiskLevel
    phrase: str
    # Where in the normalised message it was found; (0, 0) for danger joined from before.
    span: tuple[int, int] = (0, 0)


class RuleDetector:
    """The lexicon rules, compiled once; safe to share between threads (it is read-only)."""

    def __init__(self, lexicons: dict[str, Lexicon], situations: Situations | None = None) -> None:
        # Romanised words also match their other spellings (`moderation.variants`).
        lexicons = widen_lexicons(lexicons)
        self._lexicons = lexicons
        self._situations = situations if situations is not None else default_situations()
        self._speller = Speller(lexicons, cue_words(("en", "pl")), self._situations.words())
        # Oldest first; a reading depends only on the text, the page language and the rules.
        self._readings: dict[tuple[str, str | None], _Reading] = {}
        self._imminent = {id(lex): {id(p): p for p in lex.imminent} for lex in lexicons.values()}
        self._imminent_ids = {key: frozenset(cues) for key, cues in self._imminent.items()}
        self._undecided_by_outcomes: dict[
            tuple[tuple[str, ...], ...], tuple[frozenset[int], tuple[Lexicon, ...]]
        ] = {}
        self._all = tuple(lexicons.values())
        self._vocabulary = _Vocabulary(
            {w for lex in self._all for p in _entry_patterns(lex) for w in p.fuzzy_words},
            {w for lex in self._all for w in _known_words(lex)},
            {w for lex in self._all for p in _all_patterns(lex) for w in p.prefixes},
        )
        self._index = _AnchorIndex(
            p for lex in self._all for p in [*_entry_patterns(lex), *lex.ignore, *lex.imminent]
        )
        # Every entry pattern with where it belongs, numbered in reading order, so a message
        # visits only the patterns whose anchors it contains instead of all of them.
        self._owners: dict[int, list[tuple[int, Lexicon, Entry, Pattern]]] = {}
        order = itertools.count()
        for lexicon in self._all:
            for entry in lexicon.entries:
                for pattern in entry.patterns:
                    owner = (next(order), lexicon, entry, pattern)
                    self._owners.setdefault(id(pattern), []).append(owner)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._lexicons)

    def assess(
        self, text: str, language: str | None = None, previous: Sequence[str] = ()
    ) -> RiskAssessment:
        """Grade one message, read with her last few (`previous`, oldest first).

        Never raises for any text.
        """
        reading = self._read_once(text, language)
        recent = [t for t in previous[-_CONTEXT_MESSAGES:] if t]
        if recent and reading.stance in (Stance.CURRENT, Stance.NONE):
            earlier = [self._read_once(t, language) for t in recent]
            reading = _situation(reading, earlier)
        return reading.assessment()

    def _read_once(self, text: str, language: str | None) -> _Reading:
        """A message is read when it arrives and again with each of the next few, as their
        context: the readings of recent chat-sized messages are remembered, not redone."""
        if len(text) > _READING_CACHE_MAX_CHARS:
            return self._read(text, language)
        key = (text, language)
        reading = self._readings.get(key)
        if reading is None:
            reading = self._read(text, language)
            if len(self._readings) >= _READING_CACHE_SIZE:
                del self._readings[next(iter(self._readings))]
            self._readings[key] = reading
        return reading

    def _read(self, text: str, language: str | None) -> _Reading:
        words = _bounded(normalise(text))
        if not words:
            return _Reading()
        head = text[:_DETECT_CHARS]
        languages = settled(head, language)
        canon, present = self._canon(words)
        if languages is None and self._situations.find(canon, _every_outcome(language)):
            # A situation is found in one of the languages the model may give: ask it.
            languages = detect(head, language)
        if languages is None:
            # Only the language model can tell English from Polish here, and it costs more
            # than the rest of the reading. It is not asked when no phrase of the lexicon its
            # answer decides on is present: the other lexicons read the same either way.
            undecided, lexicons = self._undecided(model_outcomes(language))
            if undecided.isdisjoint(present):
                blanked, left = self._blank(canon, present, lexicons)
                if undecided.isdisjoint(left):
                    return self._read_decided(text, blanked, left, lexicons, head, language)
            languages = detect(head, language)
        lexicons = self._select(languages)
        canon, present = self._blank(canon, present, lexicons)
        now = self._now(canon, present, lexicons)
        hits = self._hits(canon, present, lexicons, now)
        hits += _new_only(self._situation_hits(canon, languages, now), hits)
        stance = Stance.NONE
        if hits:
            stance = stance_of(text, canon, languages, now)
        intent = now and intends(canon, languages)
        # "today I went to the gurdwara, I'm at peace": a time, but not danger joined now.
        calm = now and not hits and settled_now(canon, languages)
        light, laughed = _lightly(text, canon, languages, stance)
        return _Reading(
            tuple(hits), now, stance, languages, intent, calm=calm, light=light, laughed=laughed
        )

    def _read_decided(
        self,
        text: str,
        canon: str,
        present: set[int],
        lexicons: tuple[Lexicon, ...],
        head: str,
        language: str | None,
    ) -> _Reading:
        """The reading when the lexicons the model's answer decides on have nothing present:
        the phrases found are those of the other lexicons, whatever the answer. The stance
        and the wish to act are read in the languages, so they are told when something is
        found or the wish depends on them; otherwise only if they are ever reported."""
        now = self._now(canon, present, lexicons)
        hits = self._hits(canon, present, lexicons, now)
        if hits:
            languages = detect(head, language)
            stance = stance_of(text, canon, languages, now)
            light, laughed = _lightly(text, canon, languages, stance)
            intent = now and intends(canon, languages)
            return _Reading(
                tuple(hits), now, stance, languages, intent, light=light, laughed=laughed
            )
        if not now:
            return _Reading((), False, Stance.NONE, None, False, (head, language))
        outcomes = model_outcomes(language)
        common = set.intersection(*(set(o) for o in outcomes))
        if intends(canon, sorted(common)):
            return _Reading((), True, Stance.NONE, None, True, (head, language))
        if not intends(canon, sorted(set().union(*outcomes) - common)):
            return _Reading((), True, Stance.NONE, None, False, (head, language))
        languages = detect(head, language)
        return _Reading((), True, Stance.NONE, languages, intends(canon, languages))

    def _undecided(
        self, outcomes: tuple[tuple[str, ...], ...]
    ) -> tuple[frozenset[int], tuple[Lexicon, ...]]:
        """The patterns whose reading depends on which of `outcomes` the model gives, and the
        lexicons to read the rest with."""
        found = self._undecided_by_outcomes.get(outcomes)
        if found is None:
            choices = [self._select(languages) for languages in outcomes]
            ids = [[id(lexicon) for lexicon in choice] for choice in choices]
            everywhere = set.intersection(*(set(i) for i in ids))
            kept = [[i for i in choice if i in everywhere] for choice in ids]
            if any(k != kept[0] for k in kept):
                everywhere = set()  # read in another order: nothing is settled
            patterns = {
                id(pattern)
                for choice in choices
                for lexicon in choice
                if id(lexicon) not in everywhere
                for pattern in [*_entry_patterns(lexicon), *lexicon.ignore, *lexicon.imminent]
            }
            decided = tuple(lex for lex in choices[0] if id(lex) in everywhere)
            found = (frozenset(patterns), decided)
            self._undecided_by_outcomes[outcomes] = found
        return found

    def _canon(self, words: str) -> tuple[str, set[int]]:
        spelled = self._speller.spell(words)
        # In ASCII text the word characters are those of `\w`: the runs abuse reads too.
        found = word_runs(spelled) if spelled.isascii() else frozenset(_WORD.findall(spelled))
        canon = self._vocabulary.correct(spelled, found)
        if canon is not spelled:
            found = frozenset(_WORD.findall(canon))
        return canon, self._index.present_words(found)

    def _situation_hits(self, canon: str, languages: Sequence[str], now: bool) -> list[_Hit]:
        """Situations told in parts (`moderation.situations`), graded like phrases."""
        hits: list[_Hit] = []
        for found in self._situations.find(canon, languages):
            lexicon = self._lexicons.get(found.spans[0].language) or self._lexicons.get("en")
            if lexicon is None:
                continue
            hits += _found_hits(found, canon, lexicon, now)
        return hits

    def _blank(
        self, canon: str, present: set[int], lexicons: Sequence[Lexicon]
    ) -> tuple[str, set[int]]:
        blanked = canon
        for lexicon in lexicons:
            for pattern in lexicon.ignore:
                if id(pattern) in present:
                    blanked = pattern.blank(blanked, _MASK)
        if blanked != canon:
            return blanked, self._index.present(blanked)
        return canon, present

    def _now(self, canon: str, present: set[int], lexicons: Sequence[Lexicon]) -> bool:
        # Only the time cues whose anchors are present can match.
        for lex in lexicons:
            cues = self._imminent[id(lex)]
            for pid in present.intersection(self._imminent_ids[id(lex)]):
                if cues[pid].search(canon):
                    return True
        return False

    def _hits(
        self, canon: str, present: set[int], lexicons: Sequence[Lexicon], now: bool
    ) -> list[_Hit]:
        chosen = {id(lexicon) for lexicon in lexicons}
        owners = sorted(
            (
                owner
                for pid in present
                for owner in self._owners.get(pid, ())
                # A pattern whose regex finds nothing anywhere has no match to grade.
                if id(owner[1]) in chosen and owner[3].regex.search(canon) is not None
            ),
            key=lambda owner: owner[0],
        )
        return [
            hit
            for _order, lexicon, entry, pattern in owners
            for hit in _pattern_hits(entry, pattern, lexicon, canon, now)
        ]

    def _select(self, languages: Sequence[str]) -> tuple[Lexicon, ...]:
        # Her language's rules and English (the detector always adds it); a language with
        # no lexicon adds nothing. Reading every lexicon made one language's short words
        # fire on another's everyday ones ("od razu").
        # A language a deployment added, which the detector cannot recognise, is always read.
        chosen = [self._lexicons[code] for code in languages if code in self._lexicons]
        chosen += [lex for code, lex in self._lexicons.items() if code not in KNOWN]
        return tuple(chosen) or self._all


def _bounded(text: str) -> str:
    """Keep the work per message bounded whatever is pasted in.

    A run of letters longer than any phrase is cut short, and of a very long message the
    beginning and the end are read (chat messages are far shorter; the pipeline's length
    limit applies first).
    """
    # Such a run lies inside one of the text's words: most texts have no word that long.
    if len(text) > _LONG_RUN_CHARS and max(map(len, text.split()), default=0) > _LONG_RUN_CHARS:
        text = _LONG_RUN.sub(r"\1", text)
    if len(text) <= _READ_HEAD + _READ_TAIL:
        return text
    return text[:_READ_HEAD] + _MASK + text[-_READ_TAIL:]


def _entry_patterns(lexicon: Lexicon) -> Iterable[Pattern]:
    return (pattern for entry in lexicon.entries for pattern in entry.patterns)


def _all_patterns(lexicon: Lexicon) -> list[Pattern]:
    cues = [*lexicon.past, *lexicon.reported, *lexicon.imminent, *lexicon.ignore]
    return [*_entry_patterns(lexicon), *cues]


def _known_words(lexicon: Lexicon) -> Iterable[str]:
    for pattern in _all_patterns(lexicon):
        yield from pattern.literals
    yield from lexicon.negation | lexicon.negation_after | lexicon.clause_breaks


def _might_match(pattern: Pattern, text: str) -> bool:
    return not pattern.anchors or any(anchor in text for anchor in pattern.anchors)


def _search(pattern: Pattern, text: str) -> bool:
    return _might_match(pattern, text) and pattern.search(text)


def _pattern_hits(
    entry: Entry, pattern: Pattern, lexicon: Lexicon, text: str, now: bool
) -> Iterable[_Hit]:
    # A phrase repeated thousands of times (a pasted wall of text) must not cost seconds;
    # beyond a few dozen the grade of each copy adds nothing.
    for match in itertools.islice(pattern.matches(text), _MAX_MATCHES_PER_PATTERN):
        context = _Context(text, match, pattern, lexicon)
        for category in entry.categories:
            level = _grade(entry, category, context, now)
            yield _Hit(category, level, match.group(0).strip(), match.span())


def _new_only(found: list[_Hit], hits: list[_Hit]) -> list[_Hit]:
    """Situations that add something: a category the phrases did not find, or a higher
    level (staff see each concern once, not a phrase and its situation twice)."""
    best: dict[RiskCategory, int] = {}
    for hit in hits:
        best[hit.category] = max(best.get(hit.category, -1), hit.level.rank)
    return [hit for hit in found if hit.level.rank > best.get(hit.category, -1)]


def _every_outcome(language: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(code for found in model_outcomes(language) for code in found))


def _found_hits(found: Found, text: str, lexicon: Lexicon, now: bool) -> Iterable[_Hit]:
    """A situation's hits: negated before its first part or after its last (a negation
    word inside a part counts only if the part does not name it), or in the past, it is
    a mention."""
    first, last = found.spans[0], found.spans[-1]
    # The parts' own words are not read as a past ("what i used to do" is the amount).
    masked = text
    for span in found.spans:
        masked = masked[: span.start] + "\u00b7" * (span.end - span.start) + masked[span.end :]
    whole = _span_context(masked, found.start, found.end, first.pattern, lexicon)
    opening = _span_context(text, first.start, first.end, first.pattern, lexicon)
    closing = _span_context(text, last.start, last.end, last.pattern, lexicon)
    if found.rule.negation == "before":
        negated = opening.negated_before()
    else:
        negated = opening.negated() or closing.negated()
    calmed = negated or whole.past()
    phrase = " … ".join(text[s.start : s.end].strip() for s in found.spans)
    for category in found.rule.categories:
        level = found.rule.level
        if calmed:
            level = _lowest(level, RiskLevel.LOW)
        elif level is RiskLevel.HIGH and now:
            level = RiskLevel.IMMINENT
        if category in _LOWER_WHEN_REPORTED and whole.reported():
            level = _step_down(level)
        yield _Hit(category, level, phrase, (found.start, found.end))


def _span_context(text: str, start: int, end: int, pattern: Pattern, lexicon: Lexicon) -> _Context:
    match = re.compile(rf"(?s).{{{end - start}}}").match(text, start)
    assert match is not None
    return _Context(text, match, pattern, lexicon)


_WORD_CACHE_SIZE = 20_000
_UNCHANGED_KEPT = 50_000
# Enough for the last few messages of every chat a busy node carries at once.
_READING_CACHE_SIZE = 4_096
_READING_CACHE_MAX_CHARS = 2_000


class _AnchorIndex:
    """Finds, from the words of a text, the patterns that could possibly match it.

    Checking every pattern's anchors one by one costs milliseconds per message; looking each
    word's beginnings up in one dictionary costs microseconds.
    """

    # Words at least this long are also searched inside, for phrases typed (or joined up
    # from spaced letters) without spaces: "killmyself", "selfharm".
    _SCAN_INSIDE = 7

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self._by_anchor: dict[str, set[int]] = {}
        self._always: set[int] = set()
        self._patterns: dict[int, Pattern] = {}
        for pattern in patterns:
            self._patterns[id(pattern)] = pattern
            if not pattern.anchors:
                self._always.add(id(pattern))
            for anchor in pattern.anchors:
                self._by_anchor.setdefault(anchor, set()).add(id(pattern))
        self._lengths = sorted({len(anchor) for anchor in self._by_anchor})
        # What each pattern's match must hold (`Pattern.required`): one number for each
        # distinct set of strings of which one must be there, and for each string the sets
        # it satisfies. A pattern is possible when all its sets are satisfied.
        numbers: dict[frozenset[str], int] = {}
        satisfies: dict[str, set[int]] = {}
        self._needs: dict[int, frozenset[int]] = {}
        for pid, pattern in self._patterns.items():
            needed: set[int] = set()
            for anchors in pattern.required:
                number = numbers.setdefault(frozenset(anchors), len(numbers))
                needed.add(number)
                for anchor in anchors:
                    satisfies.setdefault(anchor, set()).add(number)
            self._needs[pid] = frozenset(needed)
        self._satisfies = {anchor: frozenset(sets) for anchor, sets in satisfies.items()}
        self._required_lengths = sorted({len(anchor) for anchor in self._satisfies})
        # Words repeat from message to message; remember, for each one, the patterns it
        # points at and the sets its required strings satisfy (bounded).
        self._words: dict[str, tuple[frozenset[int], frozenset[int]]] = {}

    def present(self, text: str) -> set[int]:
        return self.present_words(set(_WORD.findall(text)))

    def present_words(self, words: Set[str]) -> set[int]:
        """`present` for a text whose words (runs of `WORD_CHAR`) are `words`.

        A pattern found by its anchor is kept only if the text holds every string a match
        of it must hold (`Pattern.required`): in an ordinary sentence most do not. Those
        strings are runs of word characters, so each lies inside one word of the text."""
        found = set(self._always)
        satisfied: set[int] = set()
        known = self._words
        for word in words:
            entry = known.get(word)
            if entry is None:
                entry = (self._ids_for(word), self._satisfied_by(word))
                if len(known) >= _WORD_CACHE_SIZE:
                    known.clear()
                known[word] = entry
            found |= entry[0]
            satisfied |= entry[1]
        needs = self._needs
        return {pid for pid in found if needs[pid] <= satisfied}

    def _ids_for(self, word: str) -> frozenset[int]:
        found: set[int] = set()
        starts = range(len(word)) if len(word) >= self._SCAN_INSIDE else (0,)
        for start in starts:
            for length in self._lengths:
                if start + length > len(word):
                    break
                ids = self._by_anchor.get(word[start : start + length])
                if ids:
                    found |= ids
        return frozenset(found)

    def _satisfied_by(self, word: str) -> frozenset[int]:
        satisfies = self._satisfies
        numbers: set[int] = set()
        for length in self._required_lengths:
            for start in range(len(word) - length + 1):
                sets = satisfies.get(word[start : start + length])
                if sets:
                    numbers |= sets
        return frozenset(numbers)


class _Context:
    """The words around one matched phrase, within its clause or sentence."""

    def __init__(self, text: str, match: re.Match[str], pattern: Pattern, lexicon: Lexicon):
        start, end = match.span()
        before = text[max(0, start - _CONTEXT_CHARS) : start]
        after = text[end : end + _CONTEXT_CHARS]
        self.sentence_before = _SENTENCE_END.split(before)[-1]
        self.sentence_after = _SENTENCE_END.split(after)[0]
        self.sentence = f"{self.sentence_before}{match.group(0)}{self.sentence_after}"
        clauses = _CLAUSE_END.split(before)
        self.clause_text = clauses[-1]
        self.clause_before = _WORD.findall(self.clause_text)
        if (
            len(clauses) > 1
            and self.clause_before
            and self.clause_before[0] in lexicon.reported_links
        ):
            self.clause_text = clauses[-2] + " " + self.clause_text
        self.clause_after = _WORD.findall(_CLAUSE_END.split(after)[0])
        self.inside = _WORD.findall(match.group(0))
        self.pattern = pattern
        self.lexicon = lexicon

    def negated(self) -> bool:
        lex = self.lexicon
        if any(w in lex.negation and w not in self.pattern.literals for w in self.inside):
            return True
        if self.negated_before():
            return True
        return any(w in lex.negation_after for w in self.clause_after[:2])

    def negated_before(self) -> bool:
        """A negation word in the few words before, in the same clause."""
        lex = self.lexicon
        window: list[str] = []
        for word in reversed(self.clause_before):
            if word in lex.clause_breaks or len(window) >= lex.negation_window:
                break
            window.append(word)
        return any(w in lex.negation for w in window)

    def past(self) -> bool:
        # The whole sentence, phrase included: "my ex used to beat me" matches as one phrase.
        return _any_in(self.lexicon.past, self.sentence)

    def reported(self) -> bool:
        return _any_in(self.lexicon.reported, self.clause_text)


def _any_in(patterns: Sequence[Pattern], *texts: str) -> bool:
    return any(_search(p, t) for p in patterns for t in texts if t)


def _grade(entry: Entry, category: RiskCategory, context: _Context, now: bool) -> RiskLevel:
    level = entry.level
    calmed = context.negated() or context.past()
    if calmed:
        level = _lowest(level, RiskLevel.LOW)
    elif level is RiskLevel.HIGH and now:
        level = RiskLevel.IMMINENT
    if category in _LOWER_WHEN_REPORTED and (entry.about_other or context.reported()):
        level = _step_down(level)
    return level


def _lowest(a: RiskLevel, b: RiskLevel) -> RiskLevel:
    return a if a.rank <= b.rank else b


def _step_down(level: RiskLevel) -> RiskLevel:
    return {RiskLevel.IMMINENT: RiskLevel.HIGH, RiskLevel.HIGH: RiskLevel.LOW}.get(level, level)


@dataclass(frozen=True)
class _Reading:
    """What the rules found in one message, before it is summed up."""

    hits: tuple[_Hit, ...] = ()
    now: bool = False
    stance: Stance = Stance.NONE
    # None: not worked out yet (nothing was found, so nothing reported them); see `read_in`.
    languages: tuple[str, ...] | None = ()
    # A time and a wish to act in this message ("doing it tonight"): joined with a means
    # or wish written before, it is one situation.
    intent: bool = False
    # What to tell the languages from, when they were not worked out: (text, page language).
    detect_from: tuple[str, str | None] | None = None
    # A time, said with "it is over" or "I'm at peace": it does not join danger said before.
    calm: bool = False
    # Where a killing word is said of an everyday thing ("this exam will kill me"): a phrase
    # found there is softened whatever its category.
    light: tuple[tuple[int, int], ...] = ()
    # Whether a joke stance came from a laugh (else only from such hyperbole, which softens
    # nothing outside its own words).
    laughed: bool = True

    @property
    def read_in(self) -> tuple[str, ...]:
        """The languages whose rules were read."""
        if self.languages is not None:
            return self.languages
        if self.detect_from is None:
            return ()
        return detect(*self.detect_from)

    def assessment(self) -> RiskAssessment:
        if not self.hits:
            return NO_RISK
        matches = _dedupe(
            [RiskMatch(h.category, _lowest(h.level, self._cap(h)), h.phrase) for h in self.hits]
        )
        level = highest_level([m.level for m in matches])
        categories = _order_categories([(m.category, m.level) for m in matches])
        stance = self.stance
        if stance is Stance.JOKE and level.rank >= RiskLevel.HIGH.rank:
            stance = Stance.CURRENT
        return RiskAssessment(level, categories, matches, stance, self.read_in)

    def _cap(self, hit: _Hit) -> RiskLevel:
        if self.stance is Stance.CURRENT:
            return RiskLevel.IMMINENT
        if self.light and _overlaps(hit.span, self.light):
            return RiskLevel.LOW
        if self.stance is Stance.JOKE and self.light and not self.laughed:
            return RiskLevel.IMMINENT
        # A laugh softens "he'll kill me haha", never her own wish to die: "i want to die
        # lol" is how many write in earnest.
        if self.stance is Stance.JOKE and hit.category in _NOT_SOFTENED_BY_A_LAUGH:
            return RiskLevel.IMMINENT
        return RiskLevel.LOW


def _lightly(
    text: str, canon: str, languages: Sequence[str], stance: Stance
) -> tuple[tuple[tuple[int, int], ...], bool]:
    """For a joke stance: where the hyperbole is, and whether she also laughs."""
    if stance is not Stance.JOKE:
        return (), True
    light = hyperbole(canon, languages)
    return light, not light or laughs(text, canon, languages)


def _overlaps(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    start, end = span
    return start < end and any(
        start < other_end and other_start < end for other_start, other_end in spans
    )


def _situation(current: _Reading, earlier: list[_Reading]) -> _Reading:
    """Her last few messages read as one situation.

    "I've saved them up" then "tonight": the danger said before becomes imminent when she
    now says when. Danger already said is not alerted again for every later message; only
    a sign of time, or new danger in this one, makes it count now.
    """
    if not current.now or current.calm:
        return current
    # Danger said before counts with any time now; a mere mention (a means, a low wish)
    # only when she also says she means to act.
    least = RiskLevel.LOW if current.intent else RiskLevel.HIGH
    before = [
        hit
        for reading in earlier
        if reading.stance in (Stance.CURRENT, Stance.NONE)
        for hit in reading.hits
        if hit.level.rank >= least.rank
    ]
    if not before:
        return current
    raised = tuple(_Hit(hit.category, RiskLevel.IMMINENT, hit.phrase) for hit in before)
    return _Reading((*current.hits, *raised), True, Stance.CURRENT, current.read_in)


def _dedupe(matches: list[RiskMatch]) -> tuple[RiskMatch, ...]:
    unique = dict.fromkeys(matches)
    ordered = sorted(unique, key=lambda m: -m.level.rank)
    return tuple(ordered[:_MAX_MATCHES])


def _order_categories(graded: list[tuple[RiskCategory, RiskLevel]]) -> tuple[RiskCategory, ...]:
    """Categories, most serious first (ties in the order of `RiskCategory`)."""
    best: dict[RiskCategory, int] = {}
    for category, level in graded:
        best[category] = max(best.get(category, 0), level.rank)
    order = list(RiskCategory)
    return tuple(sorted(best, key=lambda c: (-best[c], order.index(c))))


class _Vocabulary:
    """Corrects one-typo misspellings of the lexicons' long words ("sucide" -> "suicide")."""

    def __init__(self, targets: set[str], known: set[str], prefixes: set[str]) -> None:
        # Known words (every word the lexicons use, and words of a family written as
        # "slap*") are never "corrected": "slapped" must not become "slipped".
        self._words = frozenset(targets)
        self._known = frozenset(known | targets)
        self._prefixes = frozenset(p for p in prefixes if len(p) >= 3)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes})
        self._by_deletion: dict[str, list[str]] = {}
        for word in sorted(self._words):
            for variant in _deletions(word):
                self._by_deletion.setdefault(variant, []).append(word)
        self._cache: dict[str, str] = {}
        # Words seen before that stay as they are: most of every message.
        self._unchanged: set[str] = set()

    def correct(self, text: str, words: Set[str] | None = None) -> str:
        """`text` with its misspelt words corrected; `words` are its words when known.
        `text` itself (the same object) when no word changes."""
        pending = (set(_WORD.findall(text)) if words is None else words) - self._unchanged
        changes = False
        for word in pending:
            if self._corrected(word) == word:
                if len(self._unchanged) >= _UNCHANGED_KEPT:
                    self._unchanged.clear()
                self._unchanged.add(word)
            else:
                changes = True
        return _WORD.sub(self._correct_match, text) if changes else text

    def _correct_match(self, match: re.Match[str]) -> str:
        return self._corrected(match.group(0))

    def _corrected(self, word: str) -> str:
        if len(word) < _FUZZY_SHORTEST or word in self._known or self._in_family(word):
            return word
        cached = self._cache.get(word)
        if cached is None:
            cached = self._nearest(word) or word
            if len(self._cache) < 50_000:
                self._cache[word] = cached
        return cached

    def _in_family(self, word: str) -> bool:
        return any(word[:n] in self._prefixes for n in self._prefix_lengths if n < len(word))

    def _nearest(self, word: str) -> str | None:
        candidates = list(self._by_deletion.get(word, ()))
        for variant in _deletions(word):
            if variant in self._words:
                candidates.append(variant)
            candidates.extend(self._by_deletion.get(variant, ()))
        for candidate in sorted(set(candidates)):
            if _one_edit_apart(word, candidate):
                return candidate
        return None


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit_apart(a: str, b: str) -> bool:
    """True if one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:
        return True
    return a[i : i + 2] == b[i : i + 2][::-1] and a[i + 2 :] == b[i + 2 :]


@lru_cache(maxsize=4)
def _detector_for(extra_dir: str | None) -> RuleDetector:
    return RuleDetector(load_lexicons(extra_dir))


def default_detector(extra_dir: Path | None = None) -> RuleDetector:
    """Built-in lexicons plus those in `extra_dir` (the server passes WILLOW_LEXICON_DIR from
    its settings), loaded once per directory."""
    return _detector_for(str(extra_dir) if extra_dir is not None else None)


def assess(text: str, language: str | None = None, previous: Sequence[str] = ()) -> RiskAssessment:
    """Grade one message with the default rules (see the module docstring)."""
    return default_detector().assess(text, language, previous)

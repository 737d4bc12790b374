"""Risk lexicons: loading, validating and compiling the YAML word lists.

Each file in ``moderation/data/lexicons/`` holds one language's phrases; a deployment may add
files in the directory named by ``WILLOW_LEXICON_DIR``, whose entries and cue words are added
to the built-in ones for the same language. The pattern syntax is documented at the top of
every built-in file (and in `parse_pattern`).

Everything here runs once, at first use; a bad file stops the load with a `LexiconError`
that names the file, the entry and what is wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from moderation.normalize import normalise
from moderation.types import RiskCategory, RiskLevel

BUILTIN_DIR = Path(__file__).parent / "data" / "lexicons"
EXTRA_DIR_ENV = "WILLOW_LEXICON_DIR"

# Letters of a word, including the combining vowel signs of Bengali and Gurmukhi and Arabic
# marks, which `\w` alone does not count as part of a word.
WORD_CHAR = r"[\w\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0980-\u0a7f]"
# Between two words of a phrase: spaces or a little punctuation, or nothing at all, so that
# letters joined up by `normalise` ("k i l l m e" -> "killme") still match.
_SEPARATOR = r"[\s,;:\-–—/*\"()…]{0,4}"
# Words this long match with one typo; shorter ones only when written ~word. Shorter common
# words are too often one letter from another real word ("looked"/"locked").
_FUZZY_MIN_LENGTH = 8
_FUZZY_MIN_LENGTH_MARKED = 5
_GLUED_RUN = 10
_MAX_GAP = 8
# The C loader when PyYAML was built with it: several times faster on these files.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TOP_KEYS = {"language", "negation", "negation_after", "negation_window", "clause_breaks",
             "reported_links", "past", "reported", "imminent", "ignore",
             "entries"}  # fmt: skip
_ENTRY_KEYS = {"category", "level", "about", "patterns", "note"}


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message says where and why."""


class PatternError(ValueError):
    """A pattern string that does not follow the lexicon syntax."""


@dataclass(frozen=True)
class Pattern:
    """One compiled phrase pattern."""

    source: str
    expression: str
    # Cheap prefilter: the phrase can only match if one of these strings is in the text.
    anchors: tuple[str, ...]
    # Words written in the pattern itself (a negation word there is part of the phrase).
    literals: frozenset[str]
    # Literal words that also match with one typo.
    fuzzy_words: frozenset[str]
    # Beginnings written as word* (a word starting with one is never "corrected").
    prefixes: frozenset[str] = frozenset()
    # Every required part's anchors, most selective first: a match holds one string of each
    # as it stands, so a text missing any of them cannot match (checked before the regex).
    required: tuple[tuple[str, ...], ...] = ()

    @cached_property
    def regex(self) -> re.Pattern[str]:
        # Compiled on first use: most phrases are never needed in a given process, and
        # compiling all of them would slow every start by a second or more.
        return re.compile(self.expression)

    def matches(self, text: str) -> Iterator[re.Match[str]]:
        """Every match that starts at the beginning of a word.

        The start-of-word test is done here rather than as a look-behind in the regex, so
        that the regex starts with its words and the engine can skip ahead quickly.
        """
        if not self.could_match(text):
            return
        regex = self.regex
        match = _first_at_word(regex, text, 0)
        while match is not None:
            yield match
            match = _first_at_word(regex, text, max(match.end(), match.start() + 1))

    def could_match(self, text: str) -> bool:
        """False when `text` lacks a string every match holds (then it cannot match)."""
        for anchors in self.required:
            for anchor in anchors:
                if anchor in text:
                    break
            else:
                return False
        return True

    def search(self, text: str) -> bool:
        """True if the pattern matches anywhere in `text`."""
        return self.could_match(text) and _first_at_word(self.regex, text, 0) is not None

    def blank(self, text: str, mask: str) -> str:
        """`text` with every match replaced by `mask`."""
        pieces: list[str] = []
        last = 0
        for match in self.matches(text):
            pieces += [text[last : match.start()], mask]
            last = match.end()
        return "".join(pieces) + text[last:] if pieces else text


@dataclass(frozen=True)
class Entry:
    categories: tuple[RiskCategory, ...]
    level: RiskLevel
    about_other: bool
    patterns: tuple[Pattern, ...]


@dataclass
class Lexicon:
    """Everything known for one language, after built-in and deployment files are merged."""

    language: str
    sources: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    negation: set[str] = field(default_factory=set)
    negation_after: set[str] = field(default_factory=set)
    negation_window: int = 3
    clause_breaks: set[str] = field(default_factory=set)
    # Words that tie reported speech to the clause before ("she said, that she ..."):
    # when a clause starts with one, reported-speech cues are also looked for before it.
    reported_links: set[str] = field(default_factory=set)
    past: list[Pattern] = field(default_factory=list)
    reported: list[Pattern] = field(default_factory=list)
    imminent: list[Pattern] = field(default_factory=list)
    ignore: list[Pattern] = field(default_factory=list)


def _first_at_word(regex: re.Pattern[str], text: str, position: int) -> re.Match[str] | None:
    """The first match from `position` on that starts at the beginning of a word."""
    while position <= len(text):
        match = regex.search(text, position)
        if match is None:
            return None
        start = match.start()
        if start == 0 or not _WORD_CHAR_RE.match(text, start - 1) or _glued(text, start):
            return match
        position = start + 1
    return None


def _glued(text: str, start: int) -> bool:
    """True if `start` is inside a long run of letters: words typed (or spaced letters
    joined) without spaces, like "iwanttodie", where a phrase may begin mid-run."""
    begin = start
    while begin > 0 and _WORD_CHAR_RE.match(text, begin - 1):
        begin -= 1
        if start - begin > 24:
            return False
    end = start
    while end < len(text) and _WORD_CHAR_RE.match(text, end) and end - begin < _GLUED_RUN:
        end += 1
    return end - begin >= _GLUED_RUN


# --- pattern syntax ------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\(|\)|\[|\]|\||\{[^}]*\}|[^\s()\[\]|{}]+)")
_GAP = re.compile(r"\{(\d+),(\d+)\}")
# "#" is any whole number, "##" a number of 10 or more ("took 30 tablets", not "took 2").
_HAS_LETTER = _WORD_CHAR_RE = re.compile(WORD_CHAR)
_LETTER_RUNS = re.compile(f"{WORD_CHAR}+")
_PLAIN_WORD = re.compile(rf"(?:{WORD_CHAR}|[-&.])+")
_NUMBERS = {"#": r"\d+", "##": r"[1-9]\d+"}


@dataclass
class _Part:
    regex: str
    optional: bool = False
    gap: bool = False
    # Alternative sets of strings, one of which must occur if this part matches.
    anchors: tuple[str, ...] | None = None
    # The characters a match of this part can start with (None: any).
    first: frozenset[str] | None = None
    # Its regex starts with a literal letter (a word, or a group of branches that each
    # do): the engine then finds where it can start by itself, faster than a look-ahead.
    literal: bool = False


@dataclass
class _Words:
    """The words a pattern is written with, collected while it is parsed."""

    literals: set[str] = field(default_factory=set)
    fuzzy: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)


def parse_pattern(source: str) -> Pattern:
    """Compile a pattern. Syntax (matching is on `normalise`d text):

    ``word`` the whole word (words of 8+ letters also match with one typo);
    ``~word`` the word, or the word with one typo; ``=word`` the word exactly, no typo;
    ``word*`` a word starting with these letters;
    ``(a|b c)`` one of the alternatives; ``[a b]`` optional words;
    ``{m,n}`` between m and n other words; ``#`` a number, ``##`` a number of 10 or more.
    """
    tokens = _TOKEN.findall(source)
    if not tokens:
        raise PatternError("pattern is empty")
    seen = _Words()
    parts, rest = _parse_sequence(tokens, seen, closer=None)
    if rest:
        raise PatternError(f"unexpected {rest[0]!r}")
    if all(part.optional or part.gap for part in parts):
        raise PatternError("pattern has no required word")
    body = _join(parts)
    # A look-ahead on the possible first letters lets the engine skip most positions
    # quickly; without it a long alternation is tried in full at every character.
    first = _first_chars(parts)
    lead = f"(?=[{''.join(re.escape(c) for c in sorted(first))}])" if first else ""
    if _starts_literally(parts[0]):
        lead = ""  # it could only repeat what the first letters already say
    expression = rf"{lead}{body}(?!{WORD_CHAR})"
    return Pattern(
        source,
        expression,
        _choose_anchors(parts),
        frozenset(seen.literals),
        frozenset(seen.fuzzy),
        frozenset(seen.prefixes),
        _required_anchors(parts),
    )


def _parse_sequence(
    tokens: list[str], seen: _Words, closer: str | None
) -> tuple[list[_Part], list[str]]:
    parts: list[_Part] = []
    while tokens:
        piece = tokens[0]
        if piece in ("|", ")", "]"):
            if closer is None:
                raise PatternError(f"unexpected {piece!r}")
            return parts, tokens
        tokens = tokens[1:]
        if piece in ("(", "["):
            end = ")" if piece == "(" else "]"
            part, tokens = _parse_group(tokens, seen, end)
            part.optional = piece == "["
            parts.append(part)
        elif piece.startswith("{"):
            parts.append(_parse_gap(piece))
        elif piece in _NUMBERS:
            parts.append(_Part(_NUMBERS[piece], first=frozenset("0123456789")))
        else:
            parts.append(_parse_word(piece, seen))
    if closer is not None:
        raise PatternError(f"missing {closer!r}")
    return parts, tokens


def _parse_group(tokens: list[str], seen: _Words, end: str) -> tuple[_Part, list[str]]:
    branches: list[list[_Part]] = []
    while True:
        parts, tokens = _parse_sequence(tokens, seen, closer=end)
        if not parts:
            raise PatternError("empty alternative in a group")
        branches.append(parts)
        if not tokens:
            raise PatternError(f"missing {end!r}")
        if tokens[0] == "|":
            tokens = tokens[1:]
            continue
        if tokens[0] != end:
            raise PatternError(f"{tokens[0]!r} closes a group opened with the other bracket")
        tokens = tokens[1:]
        break
    regex = "(?:" + "|".join(_join(branch) for branch in branches) + ")"
    anchor_sets = [_choose_anchors(branch) for branch in branches]
    anchors: tuple[str, ...] | None = None
    if all(anchor_sets):
        anchors = tuple(sorted({a for anchor_set in anchor_sets for a in anchor_set}))
    starts = [_first_chars(branch) for branch in branches]
    first = None
    if all(start is not None for start in starts):
        first = frozenset(c for start in starts if start for c in start)
    literal = all(_starts_literally(branch[0]) for branch in branches)
    return _Part(regex, anchors=anchors, first=first, literal=literal), tokens


def _starts_literally(part: _Part) -> bool:
    return part.literal and not part.optional and not part.gap


def _parse_gap(token: str) -> _Part:
    match = _GAP.fullmatch(token)
    if not match:
        raise PatternError(f"bad word gap {token!r}: write it as {{min,max}}, e.g. {{0,2}}")
    low, high = int(match.group(1)), int(match.group(2))
    if low > high or high > _MAX_GAP:
        raise PatternError(f"bad word gap {token!r}: need min <= max <= {_MAX_GAP}")
    return _Part(rf"(?:\s+\S+){{{low},{high}}}", gap=True)


def _parse_word(token: str, seen: _Words) -> _Part:
    exact = token.startswith("=")
    tolerant = token.startswith("~")
    prefix = token.endswith("*")
    raw = token.strip("=~*")
    if not raw or any(mark in raw for mark in "=~*") or (prefix and (exact or tolerant)):
        raise PatternError(f"bad word {token!r}")
    words = normalise(raw).split()
    if not words or not all(_HAS_LETTER.search(w) and _PLAIN_WORD.fullmatch(w) for w in words):
        raise PatternError(
            f"bad word {token!r}: words are letters (and - & .); use [...] for optional words"
        )
    if prefix:
        # A prefix is not a word of its own: "overdos*" must not stop "overdos" being
        # read as a typo of "overdose".
        seen.prefixes.update(words)
    else:
        seen.literals.update(words)
    shortest = _FUZZY_MIN_LENGTH_MARKED if tolerant else _FUZZY_MIN_LENGTH
    if not exact and not prefix:
        seen.fuzzy.update(w for w in words if len(w) >= shortest)
    regex = _SEPARATOR.join(re.escape(w) for w in words)
    if prefix:
        regex += f"{WORD_CHAR}*"
    # The anchor is a run of letters, as the detector's word index sees them.
    runs = [run for w in words for run in _LETTER_RUNS.findall(w)]
    return _Part(regex, anchors=(max(runs, key=len),), first=frozenset(words[0][0]), literal=True)


def _join(parts: list[_Part]) -> str:
    out = ""
    previous = "start"  # what came before this part: start, gap or word
    for part in parts:
        if part.gap:
            out += part.regex
            previous = "gap"
            continue
        separator = {"start": "", "gap": r"\s+", "word": _SEPARATOR}[previous]
        if part.optional and previous == "start":
            out += f"(?:{part.regex}{_SEPARATOR})?"
        elif part.optional:
            out += f"(?:{separator}{part.regex})?"
        else:
            out += separator + part.regex
        previous = "word"
    return out


def _first_chars(parts: list[_Part]) -> frozenset[str] | None:
    """What a match of this sequence can start with, when that is known."""
    chars: set[str] = set()
    for part in parts:
        if part.gap or part.first is None:
            return None
        chars |= part.first
        if not part.optional:
            return frozenset(chars)
    return None


def _choose_anchors(parts: list[_Part]) -> tuple[str, ...]:
    """The required part whose shortest alternative is longest: the most selective filter."""
    best: tuple[str, ...] = ()
    for part in parts:
        if part.optional or part.gap or not part.anchors:
            continue
        if not best or min(map(len, part.anchors)) > min(map(len, best)):
            best = part.anchors
    return best


def _required_anchors(parts: list[_Part]) -> tuple[tuple[str, ...], ...]:
    """The anchors of every required part, the most selective (longest shortest) first."""
    found = {part.anchors for part in parts if not part.optional and not part.gap and part.anchors}
    return tuple(sorted(found, key=lambda anchors: (-min(map(len, anchors)), anchors)))


# --- files ---------------------------------------------------------------------------------


def load_lexicons(extra_dir: str | os.PathLike[str] | None = None) -> dict[str, Lexicon]:
    """Built-in lexicons plus those in `extra_dir`, merged by language."""
    lexicons: dict[str, Lexicon] = {}
    for path in _yaml_files(BUILTIN_DIR):
        _load_file(path, lexicons)
    if extra_dir is not None:
        directory = Path(extra_dir)
        if not directory.is_dir():
            raise LexiconError(f"{directory}: lexicon directory ({EXTRA_DIR_ENV}) not found")
        for path in _yaml_files(directory):
            _load_file(path, lexicons)
    return lexicons


def _yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _load_file(path: Path, lexicons: dict[str, Lexicon]) -> None:
    name = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{name}: not UTF-8 text ({exc.reason})") from exc
    except yaml.YAMLError as exc:
        raise LexiconError(f"{name}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise LexiconError(f"{name}: cannot be read: {exc.strerror}") from exc
    load_document(data, name, lexicons)


def load_document(data: object, name: str, lexicons: dict[str, Lexicon]) -> None:
    """Validate one parsed file and add it to `lexicons` (keyed by language)."""
    if not isinstance(data, Mapping):
        raise LexiconError(f"{name}: the file must be a mapping with 'language' and 'entries'")
    unknown = sorted(set(map(str, data)) - _TOP_KEYS)
    if unknown:
        raise LexiconError(f"{name}: unknown key(s) {', '.join(unknown)}")
    language = data.get("language")
    if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}", language):
        raise LexiconError(f"{name}: 'language' must be a language code like 'en' or 'pl'")
    lexicon = lexicons.setdefault(language, Lexicon(language))
    lexicon.sources.append(name)
    lexicon.negation |= _words(data, "negation", name)
    lexicon.negation_after |= _words(data, "negation_after", name)
    lexicon.clause_breaks |= _words(data, "clause_breaks", name)
    lexicon.reported_links |= _words(data, "reported_links", name)
    if "negation_window" in data:
        window = data["negation_window"]
        if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= 8:
            raise LexiconError(f"{name}: 'negation_window' must be a whole number from 0 to 8")
        lexicon.negation_window = window
    for key in ("past", "reported", "imminent", "ignore"):
        getattr(lexicon, key).extend(_cue_patterns(data, key, name))
    entries = data.get("entries", [])
    if not isinstance(entries, list):
        raise LexiconError(f"{name}: 'entries' must be a list")
    for index, raw in enumerate(entries, start=1):
        lexicon.entries.append(_entry(raw, f"{name}: entry {index}"))


def _words(data: Mapping[str, object], key: str, name: str) -> set[str]:
    values = data.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise LexiconError(f"{name}: '{key}' must be a list of words")
    return {normalise(v) for v in values if normalise(v)}


def _cue_patterns(data: Mapping[str, object], key: str, name: str) -> list[Pattern]:
    values = data.get(key, [])
    if not isinstance(values, list):
        raise LexiconError(f"{name}: '{key}' must be a list of patterns")
    return [_compile(value, f"{name}: {key}") for value in values]


def _compile(value: object, where: str) -> Pattern:
    if not isinstance(value, str):
        raise LexiconError(f"{where}: pattern {value!r} must be text")
    try:
        return parse_pattern(value)
    except PatternError as exc:
        raise LexiconError(f"{where}: pattern {value!r}: {exc}") from exc


def _entry(raw: object, where: str) -> Entry:
    if not isinstance(raw, Mapping):
        raise LexiconError(f"{where}: must be a mapping with category, level and patterns")
    patterns = raw.get("patterns")
    if isinstance(patterns, list) and patterns and isinstance(patterns[0], str):
        where = f"{where} ({patterns[0]!r})"
    unknown = sorted(set(map(str, raw)) - _ENTRY_KEYS)
    if unknown:
        raise LexiconError(f"{where}: unknown key(s) {', '.join(unknown)}")
    categories = _categories(raw.get("category"), where)
    level = raw.get("level")
    allowed = [lv.value for lv in RiskLevel if lv is not RiskLevel.NONE]
    if level not in allowed:
        raise LexiconError(f"{where}: level {level!r} is not one of {', '.join(allowed)}")
    about = raw.get("about", "self")
    if about not in ("self", "other"):
        raise LexiconError(f"{where}: about {about!r} must be 'self' or 'other'")
    if not isinstance(patterns, list) or not patterns:
        raise LexiconError(f"{where}: 'patterns' must be a non-empty list")
    compiled = tuple(_compile(p, where) for p in patterns)
    return Entry(categories, RiskLevel(level), about == "other", compiled)


def _categories(value: object, where: str) -> tuple[RiskCategory, ...]:
    names: Iterable[object] = value if isinstance(value, list) else [value]
    allowed = [c.value for c in RiskCategory]
    out: list[RiskCategory] = []
    for name in names:
        if name not in allowed:
            raise LexiconError(f"{where}: category {name!r} is not one of {', '.join(allowed)}")
        out.append(RiskCategory(str(name)))
    if not out:
        raise LexiconError(f"{where}: 'category' is empty")
    return tuple(out)

"""Spelling variation, folded before the risk rules match.

Women write the same word many ways, and the lexicons can list only a few of them. This
module makes the rest match, by mechanism rather than by listing:

* **romanised Urdu, Punjabi and Bengali**: there is no one spelling ("shaadi", "shadi",
  "shadee"; "mujhe", "mujhay"; "qatl", "katl"; "ghutteya", "ghuttia"; "viah", "wiah").
  Each Latin word is folded to a key (`fold_roman`: q->k, w->v, ee->i, oo->u, doubled
  letters single, final -ay/-ey -> -e, -iya-/-eya- -> -ia-). The romanised lexicons'
  words are widened to "(word|key)" (`widen_pattern`), and a message word that is not an
  English or Polish lexicon word is replaced by its key when some romanised word has it;
* **elongation and doubled letters** ("tabletts", "pilss", "helpp"): an unknown word whose
  doubled letters, made single, give a lexicon word's, becomes that word;
* **text-speak** ("2nite", "tmrw", "gna", "ppl", "sum1"): a short table of forms that mean
  one thing in every language the service reads;
* **emoji** that name a means (🔪 💊 🪢 🔫 🩸): read as the word ("knife", "pills", ...). A
  word alone matches nothing: only phrases and situations with other parts present do.

The English and Polish lexicons' own words are never changed, so their phrases read as
before. Pure and cached per word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from moderation.lexicon import WORD_CHAR, Entry, Lexicon, Pattern, parse_pattern
from moderation.normalize import normalise

__all__ = [
    "ROMANISED",
    "Speller",
    "fold_arabizi",
    "fold_for",
    "fold_roman",
    "widen_lexicons",
    "widen_pattern",
]

# Languages whose Latin-letter words are romanised, and how their spellings are folded.
# Arabizi is Arabic in Latin letters and digits ("ra7 y2telni"); its digits are read as the
# normaliser reads them, on both sides, so only its vowels and "ch"/"sh" are folded.
SOUTH_ASIAN = frozenset({"ur", "pa", "bn"})
ROMANISED = frozenset({*SOUTH_ASIAN, "ar"})

_ASCII_WORD = re.compile(r"[a-z]+")
_DOUBLE = re.compile(r"([a-z])\1+")
_WORD = re.compile(rf"{WORD_CHAR}+")
# Split on words, keeping them: the pieces at odd places are the words.
_WORDS_KEPT = re.compile(rf"({WORD_CHAR}+)")
# Pattern syntax tokens, as `moderation.lexicon` reads them.
_TOKEN = re.compile(r"\s*(\(|\)|\[|\]|\||\{[^}]*\}|[^\s()\[\]|{}]+)")

# Forms that mean one thing whatever the language of the message.
TEXT_SPEAK: dict[str, str] = {
    "2nite": "tonight",
    "2night": "tonight",
    "2nyt": "tonight",
    "tonite": "tonight",
    "tnite": "tonight",
    "2day": "today",
    "2dy": "today",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmrow": "tomorrow",
    "tmoz": "tomorrow",
    "tomoz": "tomorrow",
    "2moro": "tomorrow",
    "2morrow": "tomorrow",
    "2mrw": "tomorrow",
    "gna": "gonna",
    "gunna": "gonna",
    "gnna": "gonna",
    "wana": "wanna",
    "wnna": "wanna",
    "wnt": "want",
    "dnt": "dont",
    "cnt": "cant",
    "cud": "could",
    "wud": "would",
    "shud": "should",
    "ppl": "people",
    "sum1": "someone",
    "some1": "someone",
    "every1": "everyone",
    "evry1": "everyone",
    "no1": "no one",
    "ne1": "anyone",
    "any1": "anyone",
    "b4": "before",
    "bcoz": "because",
    "bcos": "because",
    "coz": "because",
    "cuz": "because",
    "plz": "please",
    "pls": "please",
    "plss": "please",
    "pleez": "please",
    "wiv": "with",
    "imma": "im going to",
    "rly": "really",
    "nite": "night",
}

# Emoji that name a means of harm, read as the word. Others (faces, hearts) stay as they
# are: the stance reads laughing faces.
EMOJI_WORDS: dict[str, str] = {
    "\U0001f52a": "knife",  # kitchen knife
    "\U0001f5e1": "knife",  # dagger
    "\U0001f52b": "gun",  # pistol
    "\U0001f48a": "pills",  # pill
    "\U0001fa79": "plaster",  # adhesive bandage
    "\U0001fa78": "blood",  # drop of blood
    "\U0001fa92": "razor",  # razor
    "\U0001faa2": "rope",  # knot
    "\u26b0": "coffin",  # coffin
    "\U0001f489": "needle",  # syringe
}
_EMOJI = re.compile("[" + "".join(EMOJI_WORDS) + "]")


# Words whose key would be another language's word: Urdu "hoon" (am) is not Punjabi "hun"
# (now), a time cue.
_KEEP = frozenset({"hoon", "hoo"})


def fold_roman(word: str) -> str:
    """The key of a romanised word: its common spelling variants share it."""
    if word in _KEEP or not _ASCII_WORD.fullmatch(word):
        return word
    w = word.replace("q", "k").replace("w", "v").replace("ee", "i").replace("oo", "u")
    w = _DOUBLE.sub(r"\1", w)
    w = w.replace("iya", "ia").replace("eya", "ia")
    if len(w) > 3 and (w.endswith("ay") or w.endswith("ey")):
        w = w[:-2] + "e"
    return w


def fold_arabizi(word: str) -> str:
    """The key of an Arabizi word: "7boub" and "7boob", "3ich" and "3ish" share it."""
    if not _ASCII_WORD.fullmatch(word):
        return word
    w = word.replace("ch", "sh").replace("ou", "u").replace("ee", "i").replace("oo", "u")
    return _DOUBLE.sub(r"\1", w)


def fold_for(language: str) -> Callable[[str], str]:
    return fold_arabizi if language == "ar" else fold_roman


def _collapse(word: str) -> str:
    return _DOUBLE.sub(r"\1", word)


def widen_pattern(source: str, language: str = "ur") -> str:
    """A pattern whose romanised words also match their key: "shaadi" -> "(shaadi|shadi)";
    in Arabic, a word also matches with "and" (و) joined before it ("وضغط", "وما")."""
    fold = fold_for(language)
    out: list[str] = []
    for token in _TOKEN.findall(source):
        widened = _widen_token(token, fold)
        if language == "ar" and widened == token:
            widened = _with_and(token)
        out.append(widened)
    return " ".join(out)


_ARABIC_WORD = re.compile(r"[\u0621-\u064a\u066e-\u06d3]+")
_AND = "\u0648"


def _with_and(token: str) -> str:
    mark = token[0] if token[:1] in ("=", "~") else ""
    star = "*" if token.endswith("*") and len(token) > 1 else ""
    word = token[len(mark) : len(token) - len(star)]
    if len(word) < 2 or not _ARABIC_WORD.fullmatch(word) or word.startswith(_AND):
        return token
    return f"({token}|{mark}{_AND}{word}{star})"


def _widen_token(token: str, fold: Callable[[str], str]) -> str:
    mark = token[0] if token[:1] in ("=", "~") else ""
    star = "*" if token.endswith("*") and len(token) > 1 else ""
    # Folded as the message is: after the normaliser (Arabizi "7bob" is read "tbob").
    word = normalise(token[len(mark) : len(token) - len(star)])
    if not word or not _ASCII_WORD.fullmatch(word):
        return token
    key = fold(word)
    # A beginning folded too short would begin too many words ("hhh*" is not "h*").
    if key == word or (star and len(key) < 4):
        return token
    # A prefix's key may be shorter than a word ends up ("bache*"): keep both forms.
    return f"({token}|{mark}{key}{star})"


def _widen(pattern: Pattern, language: str) -> Pattern:
    widened = widen_pattern(pattern.source, language)
    if widened == " ".join(_TOKEN.findall(pattern.source)):
        return pattern
    return parse_pattern(widened)


def _widen_all(patterns: Iterable[Pattern], language: str) -> list[Pattern]:
    return [_widen(p, language) for p in patterns]


def widen_lexicons(lexicons: dict[str, Lexicon]) -> dict[str, Lexicon]:
    """The lexicons with the romanised languages' words widened to their keys."""
    out: dict[str, Lexicon] = {}
    for code, lexicon in lexicons.items():
        if code not in ROMANISED:
            out[code] = lexicon
            continue
        fold = fold_for(code)
        joined: set[str] = set()
        if code == "ar":
            joined = {_AND + w for w in lexicon.negation if _ARABIC_WORD.fullmatch(w)}
        entries = [
            Entry(e.categories, e.level, e.about_other, tuple(_widen_all(e.patterns, code)))
            for e in lexicon.entries
        ]
        out[code] = replace(
            lexicon,
            entries=entries,
            negation=lexicon.negation | {fold(w) for w in lexicon.negation} | joined,
            negation_after=lexicon.negation_after | {fold(w) for w in lexicon.negation_after},
            clause_breaks=lexicon.clause_breaks | {fold(w) for w in lexicon.clause_breaks},
            reported_links=lexicon.reported_links | {fold(w) for w in lexicon.reported_links},
            past=_widen_all(lexicon.past, code),
            reported=_widen_all(lexicon.reported, code),
            imminent=_widen_all(lexicon.imminent, code),
            ignore=_widen_all(lexicon.ignore, code),
        )
    return out


def _literals(patterns: Iterable[Pattern]) -> set[str]:
    return {w for p in patterns for w in p.literals}


def _patterns(lexicon: Lexicon) -> list[Pattern]:
    entries = [p for e in lexicon.entries for p in e.patterns]
    return [*entries, *lexicon.past, *lexicon.reported, *lexicon.imminent, *lexicon.ignore]


class Speller:
    """Rewrites a normalised message's words into the forms the lexicons are written in."""

    def __init__(
        self,
        lexicons: dict[str, Lexicon],
        extra_words: Iterable[str] = (),
        extra_by_language: dict[str, set[str]] | None = None,
    ) -> None:
        """`extra_words`: more words never to change (the English and Polish stance cues);
        `extra_by_language`: more words of each language (the situations' parts)."""
        protected: set[str] = set(extra_words)
        prefixes: set[str] = set()
        roman: set[str] = set()
        arabizi: set[str] = set()
        extra = extra_by_language or {}
        for code in sorted(set(lexicons) | set(extra)):
            lexicon = lexicons.get(code) or Lexicon(code)
            patterns = _patterns(lexicon)
            words = _literals(patterns) | lexicon.negation | lexicon.negation_after
            words |= lexicon.clause_breaks | lexicon.reported_links | extra.get(code, set())
            if code in ROMANISED:
                latin = {w for w in words if _ASCII_WORD.fullmatch(w)}
                if code == "ar":
                    arabizi |= latin
                else:
                    roman |= latin
            else:
                protected |= words
                prefixes |= {w for p in patterns for w in p.prefixes if len(w) >= 3}
        self._protected = frozenset(protected)
        self._prefixes = frozenset(prefixes)
        self._prefix_lengths = sorted({len(p) for p in prefixes})
        self._roman_keys = frozenset(fold_roman(w) for w in roman)
        self._arabizi_keys = frozenset(fold_arabizi(w) for w in arabizi)
        by_collapse: dict[str, set[str]] = {}
        for word in protected:
            if _ASCII_WORD.fullmatch(word) and len(word) >= 3:
                by_collapse.setdefault(_collapse(word), set()).add(word)
        self._by_collapse = {k: next(iter(v)) for k, v in by_collapse.items() if len(v) == 1}
        self._cache: dict[str, str] = {}

    def spell(self, text: str) -> str:
        """`text` (already normalised) with its words in the lexicons' spelling."""
        if not text.isascii():
            text = _EMOJI.sub(_emoji_word, text)
        # One dict lookup per word (no Python call per word); most messages change nothing.
        pieces = _WORDS_KEPT.split(text)
        words = pieces[1::2]
        get = self._cache.get
        spelled = [get(word) for word in words]
        if None in spelled:
            spelled = [
                self._word(w) if s is None else s for w, s in zip(words, spelled, strict=True)
            ]
        if spelled == words:
            return text
        pieces[1::2] = spelled
        return "".join(pieces)

    def _word(self, word: str) -> str:
        cached = self._cache.get(word)
        if cached is None:
            cached = self._respell(word)
            if len(self._cache) >= 50_000:
                self._cache.clear()
            self._cache[word] = cached
        return cached

    def _respell(self, word: str) -> str:
        speak = TEXT_SPEAK.get(word)
        if speak is not None:
            return speak
        if word in self._protected or not _ASCII_WORD.fullmatch(word):
            return word
        if any(word[:n] in self._prefixes for n in self._prefix_lengths if n < len(word)):
            return word
        collapsed = _collapse(word)
        if collapsed != word and collapsed in self._by_collapse:
            return self._by_collapse[collapsed]
        key = fold_roman(word)
        if key in self._roman_keys:
            return key
        key = fold_arabizi(word)
        if key in self._arabizi_keys:
            return key
        return word


def _emoji_word(match: re.Match[str]) -> str:
    return f" {EMOJI_WORDS[match.group(0)]} "

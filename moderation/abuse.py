"""Hate, harassment and sexual abuse terms, from per-language word lists.

Lists live in `moderation/data/wordlists/<language>.yaml` (format in the README there) and
in the directory named by WILLOW_WORDLIST_DIR. Terms and messages both pass through
`normalise`, so "Y0U'RE A $LUT" and "you're a slut" are the same to the filter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from moderation.datafiles import DATA_DIR, DataFileError, describe_validation_error, load_mapping
from moderation.normalize import normalise, word_runs

Category = Literal["hate", "harassment", "sexual"]
CATEGORIES: tuple[Category, ...] = ("hate", "harassment", "sexual")
_CATEGORY_BY_NAME: dict[str, Category] = {category: category for category in CATEGORIES}
ALL_LANGUAGES = "*"
BASE_LANGUAGE = "en"
SHIPPED_WORDLIST_DIR = DATA_DIR / "wordlists"

_LANGUAGE_FILE = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?")
_YOU = "{you}"
_HAS_WORD = re.compile(r"[^\W_]")
# Between the words of a phrase, any run of spaces or punctuation: "kill, yourself".
_GAP = r"[\W_]+"
# A run of word characters, as `(?<!\w)` and `(?!\w)` in the lists' patterns see them.
_RUN = re.compile(r"\w+")

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class WordListFile(BaseModel):
    """One word-list file as written by an operator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str | None = None
    description: str = ""
    you_forms: list[Term] = []
    hate: list[Term] = []
    harassment: list[Term] = []
    sexual: list[Term] = []
    remove: list[Term] = []


@dataclass(frozen=True)
class AbuseMatch:
    category: Category
    text: str


class _Keys:
    """A cheap test that a text cannot hold any term of a list.

    A term's keys are the runs of word characters of the words it must contain (the
    "{you}" forms aside: one of several is enough). A match of the term holds each key
    inside one run of word characters of the text, so unless some term has every key
    inside the text's runs, the list's large pattern need not be searched. The keys inside
    each run are remembered, as words repeat from message to message.
    """

    _KEPT = 50_000

    def __init__(self, terms: Iterable[frozenset[str]]) -> None:
        # Each term filed under its longest key (any would do: all must be there).
        self._terms: dict[str, list[frozenset[str]]] = {}
        for keys in terms:
            longest = max(sorted(keys), key=len)
            self._terms.setdefault(longest, []).append(keys)
        self._keys = frozenset(key for keys in terms for key in keys)
        self._lengths = sorted({len(key) for key in self._keys})
        self._runs: dict[str, frozenset[str]] = {}

    def may_match(self, runs: Iterable[str]) -> bool:
        held: set[str] = set()
        known = self._runs
        for run in runs:
            inside = known.get(run)
            if inside is None:
                inside = self._inside(run)
                if len(known) >= self._KEPT:
                    known.clear()
                known[run] = inside
            held |= inside
        for key in held.intersection(self._terms):
            for keys in self._terms[key]:
                if keys <= held:
                    return True
        return False

    def _inside(self, run: str) -> frozenset[str]:
        keys = self._keys
        return frozenset(
            run[start : start + length]
            for length in self._lengths
            for start in range(len(run) - length + 1)
            if run[start : start + length] in keys
        )


@dataclass(frozen=True)
class _LanguageList:
    you_forms: tuple[str, ...]
    terms: dict[Category, tuple[str, ...]]
    pattern: re.Pattern[str] | None
    keys: _Keys | None = None


@dataclass(frozen=True)
class WordLists:
    """Compiled lists by language code."""

    languages: dict[str, _LanguageList]
    # The lists chosen for each language asked about, remembered.
    _chosen: dict[str | None, tuple[_LanguageList, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def for_language(self, language: str | None) -> list[_LanguageList]:
        chosen = self._chosen.get(language)
        if chosen is None:
            chosen = tuple(self._for_language(language))
            if len(self._chosen) < 64:
                self._chosen[language] = chosen
        return list(chosen)

    def _for_language(self, language: str | None) -> list[_LanguageList]:
        if language is None:
            return list(self.languages.values())
        code = _language_code(language)
        chosen = [
            self.languages[c] for c in dict.fromkeys((code, BASE_LANGUAGE)) if c in self.languages
        ]
        return chosen

    def terms(self, language: str) -> dict[Category, tuple[str, ...]]:
        """The normalised terms for one language, for the staff console and tests."""
        found = self.languages.get(_language_code(language))
        return dict(found.terms) if found else {}


def find_abuse(text: str, language: str | None, lists: WordLists | None = None) -> tuple[str, ...]:
    """The abusive terms in the text, as they read after normalising, in order, each once."""
    return tuple(dict.fromkeys(match.text for match in find_abuse_matches(text, language, lists)))


def find_abuse_matches(
    text: str, language: str | None, lists: WordLists | None = None
) -> tuple[AbuseMatch, ...]:
    """Every match with its category (hate, harassment, sexual)."""
    chosen = (lists or default_wordlists()).for_language(language)
    normalised = normalise(text)
    runs: frozenset[str] | None = None
    found: list[AbuseMatch] = []
    for word_list in chosen:
        if word_list.pattern is None:
            continue
        if word_list.keys is not None:
            if runs is None:
                runs = word_runs(normalised)
            if not word_list.keys.may_match(runs):
                continue
        for match in word_list.pattern.finditer(normalised):
            category = _CATEGORY_BY_NAME.get(match.lastgroup or "")
            if category is not None:
                found.append(AbuseMatch(category, match.group(0)))
    return tuple(found)


def default_wordlist_dirs(extra: Path | None = None) -> list[Path]:
    """The shipped lists, then `extra` (the server passes WILLOW_WORDLIST_DIR)."""
    return [SHIPPED_WORDLIST_DIR] if extra is None else [SHIPPED_WORDLIST_DIR, extra]


@lru_cache(maxsize=4)
def default_wordlists(extra: Path | None = None) -> WordLists:
    """The lists in use, loaded once; call at start-up so a bad file stops the server early."""
    return load_wordlists(default_wordlist_dirs(extra))


def load_wordlists(dirs: Sequence[Path]) -> WordLists:
    """Load every `<language>.yaml` in the directories, later files adding to earlier ones."""
    merged: dict[str, dict[str, list[str]]] = {}
    for directory in dirs:
        for path in _list_files(directory):
            _merge(merged, path, _read(path))
    return WordLists({code: _compile(parts) for code, parts in merged.items()})


def _list_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise DataFileError(directory, "word-list directory not found")
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    for path in files:
        if not _LANGUAGE_FILE.fullmatch(path.stem):
            raise DataFileError(
                path, "word-list files must be named after a language code, e.g. en.yaml"
            )
    return files


def _read(path: Path) -> WordListFile:
    try:
        parsed = WordListFile.model_validate(load_mapping(path))
    except ValidationError as exc:
        raise DataFileError(path, describe_validation_error(exc)) from None
    if parsed.language is not None and _language_code(parsed.language) != _language_code(path.stem):
        raise DataFileError(
            path, f"language {parsed.language!r} does not match the file name {path.name!r}"
        )
    return parsed


def _merge(merged: dict[str, dict[str, list[str]]], path: Path, data: WordListFile) -> None:
    parts = merged.setdefault(
        _language_code(path.stem), {"you_forms": [], "hate": [], "harassment": [], "sexual": []}
    )
    parts["you_forms"].extend(_normalised(path, data.you_forms, "you_forms"))
    for category in CATEGORIES:
        parts[category].extend(_normalised(path, getattr(data, category), category))
    removed = set(_normalised(path, data.remove, "remove"))
    for category in CATEGORIES:
        parts[category] = [term for term in parts[category] if term not in removed]
    uses_you = any(_YOU in term for category in CATEGORIES for term in parts[category])
    if uses_you and not parts["you_forms"]:
        raise DataFileError(path, "terms use {you} but no you_forms are given for this language")


def _normalised(path: Path, terms: Iterable[str], field: str) -> list[str]:
    out = []
    for index, term in enumerate(terms):
        pieces = [normalise(piece) for piece in term.split(_YOU)]
        if not _HAS_WORD.search("".join(pieces)):
            raise DataFileError(path, f"{field}[{index}]: {term!r} has no letters to match")
        out.append(f" {_YOU} ".join(pieces).strip())
    return out


def _compile(parts: dict[str, list[str]]) -> _LanguageList:
    you_forms = tuple(dict.fromkeys(parts["you_forms"]))
    terms: dict[Category, tuple[str, ...]] = {
        category: tuple(dict.fromkeys(parts[category])) for category in CATEGORIES
    }
    groups = [
        f"(?P<{category}>{_alternatives(found, you_forms)})"
        for category, found in terms.items()
        if found
    ]
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(groups)})(?!\w)") if groups else None
    keys = [_keys(term) for found in terms.values() for term in found]
    return _LanguageList(you_forms, terms, pattern, _Keys(keys) if all(keys) else None)


def _keys(term: str) -> frozenset[str]:
    """The runs of word characters of the words a term must contain, as its pattern
    matches them literally (a trailing * is not part of the word)."""
    return frozenset(
        run
        for piece in term.split(_YOU)
        for word in piece.split()
        for run in _RUN.findall(word.removesuffix("*"))
    )


def _alternatives(terms: Iterable[str], you_forms: tuple[str, ...]) -> str:
    return "|".join(_term_regex(term, you_forms) for term in _longest_first(terms))


def _term_regex(term: str, you_forms: tuple[str, ...]) -> str:
    you = "(?:" + "|".join(_phrase(form) for form in _longest_first(you_forms)) + ")"
    pieces = [_phrase(piece.strip()) if piece.strip() else "" for piece in term.split(_YOU)]
    return _GAP.join(piece for piece in _join_you(pieces, you) if piece)


def _join_you(pieces: list[str], you: str) -> list[str]:
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if index:
            out.append(you)
        out.append(piece)
    return out


def _phrase(text: str) -> str:
    words = text.split()
    last = words[-1]
    # A trailing * takes any ending; otherwise a plural is accepted.
    tail = re.escape(last[:-1]) + r"\w*" if last.endswith("*") else re.escape(last) + "(?:e?s)?"
    return _GAP.join([*map(re.escape, words[:-1]), tail])


def _longest_first(items: Iterable[str]) -> list[str]:
    return sorted(items, key=len, reverse=True)


def _language_code(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]

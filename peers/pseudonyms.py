"""Names women use in peer rooms: a fresh random one each session, or one she chooses.

A name must never become a way to find her, or for someone to pass on a way to be found,
so a chosen name that looks like a phone number, an e-mail address, a website or a
social-media handle is refused. Refusals carry a reason code that the page shows in her
own language.
"""

from __future__ import annotations

import functools
import random
import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from peers.datafiles import DataFileProblem, read_yaml

DEFAULT_WORDS_PATH = Path(__file__).parent / "data" / "pseudonym_words.yaml"

MIN_LENGTH = 2
MAX_LENGTH = 24
_NUMBER_RANGE = (10, 99)
_MIN_WORDS = 20
_ALLOWED_PUNCTUATION = frozenset(".,'’-_!?()&")
# Zero-width joiner and non-joiner shape letters in Persian, Urdu and Indic scripts.
_JOINERS = frozenset("\u200c\u200d")
_DIGIT_RUN = re.compile(r"\d(?:[\s.\-_()]*\d){4,}")
_WEB = re.compile(
    r"https?|www|://|[^\W_]\.(?:com|net|org|co|uk|io|me|info|biz)\b"
    r"|\b(?:whatsapp|snapchat|instagram|insta|telegram|tiktok|facebook|kik)\b"
)
_SPACES = re.compile(r"\s+")


class PseudonymProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BAD_CHARACTERS = "bad_characters"
    LOOKS_LIKE_CONTACT = "looks_like_contact"


class PseudonymError(ValueError):
    """A chosen name was refused; `reason` is a code for the language catalogue."""

    def __init__(self, reason: PseudonymProblem) -> None:
        self.reason = reason
        super().__init__(f"pseudonym refused: {reason.value}")


def validate_pseudonym(name: str) -> str:
    """The name tidied (trimmed, spaces collapsed, NFC), or PseudonymError saying why not.

    Any script is welcome: letters, combining marks, digits, spaces and a little basic
    punctuation. A name needs at least one letter.
    """
    if len(name) > 10 * MAX_LENGTH:
        raise PseudonymError(PseudonymProblem.TOO_LONG)
    tidy = _SPACES.sub(" ", _drop_stray_joiners(unicodedata.normalize("NFC", name))).strip()
    if len(tidy) < MIN_LENGTH:
        raise PseudonymError(PseudonymProblem.TOO_SHORT)
    if _looks_like_contact(tidy):
        raise PseudonymError(PseudonymProblem.LOOKS_LIKE_CONTACT)
    if len(tidy) > MAX_LENGTH:
        raise PseudonymError(PseudonymProblem.TOO_LONG)
    if not all(_allowed(char) for char in tidy) or not any(char.isalpha() for char in tidy):
        raise PseudonymError(PseudonymProblem.BAD_CHARACTERS)
    return tidy


def _drop_stray_joiners(text: str) -> str:
    # A joiner only has an effect between two letters; elsewhere it would just let two
    # names that look identical count as different.
    kept: list[str] = []
    for index, char in enumerate(text):
        if char in _JOINERS and not (
            kept and _is_letter(kept[-1]) and _is_letter(text[index + 1 : index + 2])
        ):
            continue
        kept.append(char)
    return "".join(kept)


def _is_letter(char: str) -> bool:
    return bool(char) and unicodedata.category(char)[0] in "LM"


def _looks_like_contact(name: str) -> bool:
    # NFKC folds look-alikes such as full-width digits and the small commercial at.
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "@" in folded or bool(_DIGIT_RUN.search(folded) or _WEB.search(folded))


def _allowed(char: str) -> bool:
    category = unicodedata.category(char)
    return (
        category[0] in "LM"
        or category == "Nd"
        or char == " "
        or char in _ALLOWED_PUNCTUATION
        or char in _JOINERS
    )


@dataclass(frozen=True)
class WordLists:
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]


class WordListError(ValueError):
    """The pseudonym word list file is unusable."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"pseudonym word list {path}: {problem}")


def load_words(path: Path = DEFAULT_WORDS_PATH) -> WordLists:
    """Read and check the word lists, raising WordListError on the first fault."""
    try:
        data = read_yaml(path)
    except DataFileProblem as exc:
        raise WordListError(path, str(exc)) from exc
    if not isinstance(data, dict) or set(data) != {"adjectives", "nouns"}:
        raise WordListError(path, "the file must have exactly two lists: adjectives and nouns")
    adjectives = _word_list(path, "adjectives", data["adjectives"])
    nouns = _word_list(path, "nouns", data["nouns"])
    # "Adjective Noun 99": two spaces and the widest number.
    longest = max(map(len, adjectives)) + max(map(len, nouns)) + 2 + len(str(_NUMBER_RANGE[1]))
    if longest > MAX_LENGTH:
        raise WordListError(
            path, f"the longest adjective and noun make a name over {MAX_LENGTH} characters"
        )
    return WordLists(adjectives, nouns)


def _word_list(path: Path, key: str, words: object) -> tuple[str, ...]:
    if not isinstance(words, list) or len(words) < _MIN_WORDS:
        raise WordListError(path, f"{key} must be a list of at least {_MIN_WORDS} words")
    for number, word in enumerate(words, start=1):
        if not isinstance(word, str) or " " in word or _invalid(word):
            raise WordListError(path, f"{key} word {number} ({word!r}) is not a single plain word")
        if words.index(word) != number - 1:
            raise WordListError(path, f"{key} word {number} ({word!r}) is listed twice")
    return tuple(words)


def _invalid(word: str) -> bool:
    try:
        return validate_pseudonym(word) != word
    except PseudonymError:
        return True


@functools.cache
def default_words() -> WordLists:
    """The word lists shipped with Willow, read once."""
    return load_words(DEFAULT_WORDS_PATH)


_SYSTEM_RANDOM = secrets.SystemRandom()


def new_pseudonym(rng: random.Random | None = None, words: WordLists | None = None) -> str:
    """A friendly random name such as "Quiet Heron 27" (unpredictable unless `rng` is given)."""
    chooser = rng if rng is not None else _SYSTEM_RANDOM
    lists = words if words is not None else default_words()
    number = chooser.randint(*_NUMBER_RANGE)
    return f"{chooser.choice(lists.adjectives)} {chooser.choice(lists.nouns)} {number}"

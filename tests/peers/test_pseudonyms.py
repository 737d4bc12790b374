"""Room names: random friendly ones, and checks on the ones women choose."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from peers.pseudonyms import (
    MAX_LENGTH,
    PseudonymError,
    PseudonymProblem,
    WordListError,
    default_words,
    load_words,
    new_pseudonym,
    validate_pseudonym,
)

# --- random names ---------------------------------------------------------------------------


def test_random_name_is_two_words_and_a_small_number() -> None:
    words = default_words()
    for _ in range(200):
        name = new_pseudonym()
        adjective, noun, number = name.split(" ")
        assert adjective in words.adjectives and noun in words.nouns
        assert 10 <= int(number) <= 99
        assert validate_pseudonym(name) == name
        assert len(name) <= MAX_LENGTH


def test_random_names_vary() -> None:
    assert len({new_pseudonym() for _ in range(50)}) > 40


def test_seeded_generator_repeats_itself() -> None:
    first = [new_pseudonym(random.Random(7)) for _ in range(3)]
    again = [new_pseudonym(random.Random(7)) for _ in range(3)]
    assert first == again
    assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ \d\d", first[0])


# --- chosen names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  Anna  ", "Anna"),
        ("Mary   Jane", "Mary Jane"),
        ("Mary\tJane\n", "Mary Jane"),
        ("Jo", "Jo"),
        ("Ania Kowalska", "Ania Kowalska"),
        ("Mary-Jane O’Neil", "Mary-Jane O’Neil"),
        ("نور الهدى", "نور الهدى"),
        ("سمیرا", "سمیرا"),
        ("ਪ੍ਰੀਤ ਕੌਰ", "ਪ੍ਰੀਤ ਕੌਰ"),
        ("সুমি", "সুমি"),
        ("Zoë 2", "Zoë 2"),
        ("Sunny Day!", "Sunny Day!"),
        ("x" * MAX_LENGTH, "x" * MAX_LENGTH),
    ],
)
def test_chosen_names_in_any_script_are_kept(given: str, kept: str) -> None:
    assert validate_pseudonym(given) == kept


def test_decomposed_accents_are_composed() -> None:
    assert validate_pseudonym("Zoe\u0308") == "Zoë"


def test_joiner_between_letters_is_kept_and_stray_ones_dropped() -> None:
    assert validate_pseudonym("می\u200cخواهم") == "می\u200cخواهم"
    assert validate_pseudonym("زینب\u200c") == "زینب"
    assert validate_pseudonym("a \u200d b") == "a b"


def refused(name: str) -> PseudonymProblem:
    with pytest.raises(PseudonymError) as caught:
        validate_pseudonym(name)
    return caught.value.reason


@pytest.mark.parametrize("name", ["", " ", "A", "  b  ", "\u200c"])
def test_too_short(name: str) -> None:
    assert refused(name) is PseudonymProblem.TOO_SHORT


@pytest.mark.parametrize("name", ["x" * (MAX_LENGTH + 1), "Anna " * 10, "y" * 10_000])
def test_too_long(name: str) -> None:
    assert refused(name) is PseudonymProblem.TOO_LONG


@pytest.mark.parametrize(
    "name",
    [
        "<script>",
        "Anna 🌸",
        "Anna\u202eevil",
        "bell\x07",
        "a/b",
        "42",
        "!!",
        'Say "hi"',
    ],
)
def test_bad_characters(name: str) -> None:
    assert refused(name) is PseudonymProblem.BAD_CHARACTERS


@pytest.mark.parametrize(
    "name",
    [
        "anna@mail",
        "me＠home",
        "call 07700900123",
        "Anna 07700 900",
        "Ring 0-7-7-0-0",
        "Anna １２３４５",
        "http me",
        "HTTPS anna",
        "www anna",
        "anna.co.uk",
        "find me on insta",
        "WhatsApp Anna",
    ],
)
def test_looks_like_contact(name: str) -> None:
    assert refused(name) is PseudonymProblem.LOOKS_LIKE_CONTACT


@pytest.mark.parametrize("name", ["Anna 1234", "Instant Tea", "St. Anne", "Dr. Who 22"])
def test_ordinary_names_that_are_not_contacts(name: str) -> None:
    assert validate_pseudonym(name) == name


def test_error_carries_the_reason_code() -> None:
    with pytest.raises(PseudonymError) as caught:
        validate_pseudonym("x")
    assert caught.value.reason == "too_short"
    assert isinstance(caught.value, ValueError)


# --- the word list file ---------------------------------------------------------------------


def word_file(tmp_path: Path, adjectives: list[str], nouns: list[str]) -> Path:
    path = tmp_path / "words.yaml"
    lines = ["adjectives:", *[f"  - {w}" for w in adjectives], "nouns:"]
    lines += [f"  - {w}" for w in nouns]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ADJECTIVES = [f"Calm{letter}" for letter in "abcdefghijklmnopqrstuv"]
NOUNS = [f"Wren{letter}" for letter in "abcdefghijklmnopqrstuv"]


def test_word_list_file_loads(tmp_path: Path) -> None:
    words = load_words(word_file(tmp_path, ADJECTIVES, NOUNS))
    assert words.adjectives[0] == "Calma" and len(words.nouns) == len(NOUNS)
    assert new_pseudonym(random.Random(1), words).split(" ")[0] in ADJECTIVES


def test_word_list_too_short(tmp_path: Path) -> None:
    with pytest.raises(WordListError, match="at least 20 words"):
        load_words(word_file(tmp_path, ADJECTIVES[:5], NOUNS))


def test_word_list_repeated_word(tmp_path: Path) -> None:
    with pytest.raises(WordListError, match="listed twice"):
        load_words(word_file(tmp_path, [*ADJECTIVES, "Calma"], NOUNS))


@pytest.mark.parametrize("word", ["Two words", "12345", "x@y", "<b>"])
def test_word_list_bad_word(tmp_path: Path, word: str) -> None:
    with pytest.raises(WordListError, match="not a single plain word"):
        load_words(word_file(tmp_path, [*ADJECTIVES, word], NOUNS))


def test_word_list_words_too_long_for_a_name(tmp_path: Path) -> None:
    with pytest.raises(WordListError, match="over 24 characters"):
        load_words(word_file(tmp_path, [*ADJECTIVES, "Incomprehensible"], NOUNS))


def test_word_list_wrong_shape(tmp_path: Path) -> None:
    path = tmp_path / "words.yaml"
    path.write_text("- Calm\n- Wren\n", encoding="utf-8")
    with pytest.raises(WordListError, match="adjectives and nouns"):
        load_words(path)


def test_word_list_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "words.yaml"
    path.write_text("adjectives: [Calm\n", encoding="utf-8")
    with pytest.raises(WordListError, match="not valid YAML"):
        load_words(path)

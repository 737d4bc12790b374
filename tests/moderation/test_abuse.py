"""Abuse word lists: what they catch, what they leave alone, and bad list files."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.abuse import (
    SHIPPED_WORDLIST_DIR,
    default_wordlist_dirs,
    default_wordlists,
    find_abuse,
    find_abuse_matches,
    load_wordlists,
)
from moderation.datafiles import DataFileError


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("You're a SLUT!!", "youre a slut"),
        ("u r a whore", "ura whore"),
        ("k y s", "kys"),
        ("KiLL    y0urself", "kill yourself"),
        ("kill, yourself", "kill, yourself"),
        ("k\u200bill yourself", "kill yourself"),
        ("n1gg3r", "nigger"),
        ("Th3 P4k1s", "pakis"),
        ("go back to ur country", "go back to ur country"),
        ("send nudes pls", "send nudes"),
        ("i know where you live", "i know where you live"),
        ("кill yourself", "kill yourself"),  # Cyrillic к
    ],
)
def test_english_terms_and_evasions_are_caught(text: str, term: str) -> None:
    assert find_abuse(text, "en") == (term,)


@pytest.mark.parametrize(
    "text",
    [
        "he called me a slut and I believed him",
        "I need a fag and a cup of tea",
        "the bike pedal broke",
        "skill yourself up with the course",
        "Pakistan is lovely in spring",
        "treat yourself, you deserve it",
        "spicy food",
        "my niggling doubts",
        "sussex is nice",
    ],
)
def test_everyday_words_and_her_own_story_are_not_abuse(text: str) -> None:
    assert find_abuse(text, "en") == ()


def test_matches_carry_their_category() -> None:
    matches = find_abuse_matches("you slut, send nudes, paki", "en")
    assert [match.category for match in matches] == ["harassment", "sexual", "hate"]


def test_polish_room_uses_polish_and_english_lists() -> None:
    assert find_abuse("Zabij się", "pl") == ("zabij sie",)
    assert find_abuse("wiem, gdzie mieszkasz", "pl-PL") == ("wiem, gdzie mieszkasz",)
    assert find_abuse("you slut", "pl") == ("you slut",)
    assert find_abuse("Zabij się", "en") == ()


def test_unknown_language_uses_every_list() -> None:
    assert find_abuse("ty szmato", None) == ("ty szmato",)
    assert find_abuse("ty szmato", "cy") == ()


def test_each_term_is_reported_once() -> None:
    assert find_abuse("kys kys KYS", "en") == ("kys",)


@pytest.mark.parametrize("text", ["", "   ", "\x00" * 10, "\ud800", "🙂" * 1000, "a" * 100_000])
def test_odd_input_never_raises(text: str) -> None:
    assert find_abuse(text, "en") == ()


def test_shipped_lists_load_and_have_each_category() -> None:
    terms = default_wordlists().terms("en")
    assert all(terms[category] for category in ("hate", "harassment", "sexual"))


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_extra_directory_adds_and_removes_terms(tmp_path: Path) -> None:
    write(tmp_path, "en.yaml", "harassment: [nobody likes you]\nremove: [pikey]\n")
    write(tmp_path, "fr.yaml", "you_forms: [tu es]\nharassment: ['{you} une salope']\n")
    lists = load_wordlists([SHIPPED_WORDLIST_DIR, tmp_path])
    assert find_abuse("Nobody likes you.", "en", lists) == ("nobody likes you",)
    assert find_abuse("pikey", "en", lists) == ()
    assert find_abuse("tu es une salope", "fr", lists) == ("tu es une salope",)
    # The shipped lists are still there.
    assert find_abuse("kys", "en", lists) == ("kys",)


def test_the_setting_names_the_extra_directory(tmp_path: Path) -> None:
    write(tmp_path, "en.yaml", "hate: [examplebadword]\n")
    assert default_wordlist_dirs() == [SHIPPED_WORDLIST_DIR]
    dirs = default_wordlist_dirs(tmp_path)
    assert dirs == [SHIPPED_WORDLIST_DIR, tmp_path]
    assert find_abuse("an examplebadword here", "en", load_wordlists(dirs)) == ("examplebadword",)


def test_star_matches_any_ending(tmp_path: Path) -> None:
    write(tmp_path, "en.yaml", "hate: ['grott*']\n")
    lists = load_wordlists([tmp_path])
    assert find_abuse("such grotty grottiness", "en", lists) == ("grotty", "grottiness")


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("en.yaml", "hate: [ok\n", "not valid YAML"),
        ("en.yaml", "", "is empty"),
        ("en.yaml", "- a list\n", "top level must be a mapping"),
        ("en.yaml", "hatred: [x]\n", "hatred: Extra inputs are not permitted"),
        ("en.yaml", "hate: badword\n", "hate: Input should be a valid list"),
        ("en.yaml", "hate: [123]\n", "hate.0: Input should be a valid string"),
        ("en.yaml", "hate: ['  ']\n", "hate.0"),
        ("en.yaml", "hate: ['!!!']\n", "hate[0]: '!!!' has no letters"),
        ("en.yaml", "language: pl\nhate: [x]\n", "does not match the file name"),
        ("english.yaml", "hate: [x]\n", "named after a language code"),
        ("xx.yaml", "harassment: ['{you} idiot']\n", "no you_forms"),
    ],
)
def test_bad_list_file_names_file_and_problem(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(DataFileError) as caught:
        load_wordlists([tmp_path])
    assert caught.value.path == str(path)
    assert problem in str(caught.value)


def test_non_utf8_list_is_reported(tmp_path: Path) -> None:
    tmp_path.joinpath("en.yaml").write_bytes(b"hate: [caf\xe9]\n")
    with pytest.raises(DataFileError, match="not UTF-8"):
        load_wordlists([tmp_path])


def test_missing_extra_directory_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(DataFileError, match="word-list directory not found") as caught:
        load_wordlists([SHIPPED_WORDLIST_DIR, missing])
    assert caught.value.path == str(missing)


def test_other_files_in_the_directory_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "notes")
    write(tmp_path, "en.yaml", "hate: [examplebadword]\n")
    assert find_abuse("examplebadword", "en", load_wordlists([tmp_path]))

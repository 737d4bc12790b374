"""Which language's rules a message is read with."""

from __future__ import annotations

import pytest

from moderation.language import detect, script_of
from moderation.risk import assess
from moderation.types import RiskLevel


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("i cant take it anymore", "en"),
        ("od razu ci napisze jak wrócę", "pl"),
        ("nie chce mi sie zyc", "pl"),
        ("انا تعبانة كتير وما حدا بيسمعني", "ar"),
        ("میں بہت پریشان ہوں", "ur"),
        ("আমি খুব ক্লান্ত", "bn"),
        ("ਮੈਂ ਬਹੁਤ ਥੱਕ ਗਈ ਹਾਂ", "pa"),
        ("مینوں بہت ڈر لگدا اے", "pa"),
        ("mujhe bohat dar lag raha hai", "ur"),
        ("ami khub bhoy pacchi", "bn"),
        ("ana ta3bana ktir w ma 7ada 3am yesma3ni", "ar"),
    ],
)
def test_the_language_of_the_message_comes_first_and_english_is_always_read(
    text: str, first: str
) -> None:
    found = detect(text)
    assert found[0] == first
    assert "en" in found


def test_romanised_urdu_and_punjabi_are_read_together() -> None:
    assert {"ur", "pa"} <= set(detect("mainu nahi pata main ki karan"))


def test_her_page_language_is_read_when_the_message_is_too_short_to_tell() -> None:
    assert "ar" in detect("bade mout", "ar")
    assert "ar" not in detect("bade mout")


def test_scripts() -> None:
    assert script_of("hello") == "Latn"
    assert script_of("ਸਤ ਸ੍ਰੀ ਅਕਾਲ") == "Guru"
    assert script_of("123 !!") is None


def test_polish_od_razu_is_not_an_english_overdose() -> None:
    assert assess("od razu ci napisze", "pl").level is RiskLevel.NONE
    assert assess("od razu ci napisze", "en").level is RiskLevel.NONE
    assert assess("i think she took an od", "en").flagged

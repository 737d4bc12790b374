"""A mention of a risk is a note for staff; only current danger alerts."""

from __future__ import annotations

import pytest

from moderation.risk import assess
from moderation.types import RiskCategory, RiskLevel, Stance

S = RiskCategory.SUICIDE_SELF_HARM
D = RiskCategory.DOMESTIC_ABUSE_DANGER


@pytest.mark.parametrize(
    ("text", "language", "stance"),
    [
        ("im not going to kill myself dont worry, just sad", "en", Stance.NEGATED),
        ("nigdy nie zrobiłabym sobie krzywdy", "pl", Stance.NEGATED),
        ("عمري ما رح انتحر", "ar", Stance.NEGATED),
        ("میں خودکشی نہیں کروں گی", "ur", Stance.NEGATED),
        ("main khudkushi nahi karungi", "ur", Stance.NEGATED),
        ("আমি আত্মহত্যা করব না", "bn", Stance.NEGATED),
        ("ਮੈਂ ਖੁਦਕੁਸ਼ੀ ਨਹੀਂ ਕਰਾਂਗੀ", "pa", Stance.NEGATED),
        ("is forced marriage illegal in the uk?", "en", Stance.QUESTION),
        ("zabardasti shaadi ke baare mein kya karte hain aap?", "ur", Stance.QUESTION),
        ("i self harmed as a teenager but havent for ages", "en", Stance.PAST),
        ("my ex was violent but thats all behind me now", "en", Stance.PAST),
        ("that eastenders storyline about coercive control and him strangling her", "en",
         Stance.FICTION),
        ("these heels are killing me haha", "en", None),
        ("zabije mnie ten szef lol", "pl", None),
        ("hahaha ra7 y2telni el bard", "ar", None),
    ],
)  # fmt: skip
def test_mentions_never_alert(text: str, language: str, stance: Stance | None) -> None:
    result = assess(text, language)
    assert not result.alert
    assert result.level.rank <= RiskLevel.LOW.rank
    if stance is not None and result.flagged:
        assert result.stance is stance


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("i want to die lol", "en", S),
        ("hes outside right now haha i dont know what to do", "en", D),
        ("i wish i could fall asleep and never wake up", "en", S),
        ("chcę zasnąć i się nie obudzić", "pl", S),
        ("میں مرنا چاہتی ہوں", "ur", S),
        ("ami more jete chai", "bn", S),
    ],
)
def test_current_danger_alerts_even_with_a_laugh_or_never(
    text: str, language: str, category: RiskCategory
) -> None:
    result = assess(text, language)
    assert result.alert
    assert category in result.categories
    assert result.stance is Stance.CURRENT


def test_a_time_now_joins_what_she_wrote_before_into_one_situation() -> None:
    earlier = ["my ex said hed kill me if i ever moved on", "i got a new bf last week"]
    alone = assess("hes here rn", "en")
    together = assess("hes here rn", "en", earlier)
    assert not alone.alert
    assert together.level is RiskLevel.IMMINENT
    assert together.categories == (D,)


def test_danger_already_told_is_not_alerted_again_without_a_new_sign() -> None:
    earlier = ["he said he will kill me"]
    assert assess("he said he will kill me", "en").alert
    assert not assess("thank you for listening", "en", earlier).flagged


def test_a_mention_before_does_not_make_a_later_time_an_alert() -> None:
    earlier = ["i would never hurt myself"]
    assert not assess("going to my mums tonight", "en", earlier).alert


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # a killing or dying word said of an everyday thing, with a time beside it
        ("this coursework is going to kill me tomorrow", "en"),
        ("wykończy mnie ta praca dzisiaj", "pl"),
        ("ye exam aaj meri jaan le lega", "ur"),
        ("আজকের পরীক্ষা আমাকে মেরে ফেলবে", "bn"),
        ("ajj da paper mainu maar dega", "pa"),
    ],
)
def test_hyperbole_is_a_mention_even_with_a_time(text: str, language: str) -> None:
    result = assess(text, language)
    assert not result.alert, result
    if result.flagged:
        assert result.stance is Stance.JOKE


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        ("this exam is killing me and honestly i want to die", "en", S),
        ("ye exam meri jaan le lega, aur main marna chahti hoon", "ur", S),
        ("this job is killing me and he said hell kill me if i leave", "en", D),
    ],
)
def test_hyperbole_softens_only_its_own_words(
    text: str, language: str, category: RiskCategory
) -> None:
    result = assess(text, language)
    assert result.alert and category in result.categories, result

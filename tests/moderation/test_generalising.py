"""Rules that generalise: spelling variants folded, situations told in parts, emoji and
text-speak read, and mentions of the same situations kept as notes for staff."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.evaluate import load_examples
from moderation.lexicon import LexiconError
from moderation.risk import assess
from moderation.scorecard import score
from moderation.situations import load_situations
from moderation.types import RiskCategory
from moderation.variants import fold_roman, widen_pattern

S = RiskCategory.SUICIDE_SELF_HARM
D = RiskCategory.DOMESTIC_ABUSE_DANGER
C = RiskCategory.CHILD_SAFEGUARDING
OD = RiskCategory.OVERDOSE_MEDICAL
F = RiskCategory.FORCED_MARRIAGE_HONOUR

TUNING_WIDE = Path(__file__).with_name("tuning_wide.jsonl")
TUNING_PROBES = Path(__file__).with_name("tuning_probes.jsonl")
BLIND = Path(__file__).with_name("heldout") / "blind.jsonl"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("shaadi", "shadee"),
        ("mujhe", "mujhay"),
        ("qatl", "katl"),
        ("ghutteya", "ghuttia"),
        ("viah", "wiah"),
        ("goliyaan", "goliyan"),
        ("mehfooz", "mehfuz"),
    ],
)
def test_romanised_spellings_share_a_key(a: str, b: str) -> None:
    assert fold_roman(a) == fold_roman(b)


def test_a_widened_pattern_keeps_its_syntax() -> None:
    assert widen_pattern("(shaadi|nikah) {0,3} =mujhay kar*") == (
        "( (shaadi|shadi) | nikah ) {0,3} (=mujhay|=mujhe) kar*"
    )


@pytest.mark.parametrize(
    ("text", "language", "category"),
    [
        # spelling variants of romanised words the lexicons list another way
        ("ghar wale zabardasti meri shadee karwa rahe hain", "ur", F),
        ("usne mujhay jaan se marne ki dhamki di", "ur", D),
        # text-speak and elongation
        ("gna end it all 2nite", "en", S),
        ("took a whole box of tabletts", "en", OD),
        # a means written as an emoji, with the other parts of the situation
        ("\U0001f52a hes got one in his hand and hes drunk", "en", D),
        # the parts of a situation apart from each other
        ("left my little one asleep upstairs and went out to score", "en", C),
        ("my ex gets my 13 year old to deliver parcels for him", "en", C),
        ("6 weeks clean and i went and did my old amount", "en", OD),
        ("the rope is in the shed", "en", S),
        ("ਘਰਦੇ ਮੈਨੂੰ ਪਿੰਡ ਲਿਜਾ ਕੇ ਵਿਆਹ ਕਰ ਦੇਣਗੇ, ਟਿਕਟਾਂ ਆ ਗਈਆਂ", "pa", F),
        # sleep and never wake, where the negation comes inside the wish
        ("bas so jaun aur phir kabhi na uthun", "ur", S),
        ("ঘুমাতে চাই, আর কখনো জাগতে চাই না", "bn", S),
        ("ਜੀ ਕਰਦਾ ਸੌਂ ਜਾਵਾਂ ਤੇ ਮੁੜ ਕਦੇ ਨਾ ਉੱਠਾਂ", "pa", S),
    ],
)
def test_danger_in_new_wording_alerts(text: str, language: str, category: RiskCategory) -> None:
    result = assess(text, language)
    assert result.alert, (text, result)
    assert category in result.categories


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("\U0001f48a time, vitamins done, off to work", "en"),
        ("chopping onions \U0001f52a\U0001f9c5 lol", "en"),
        ("i would never leave my baby alone to go and score", "en"),
        ("is it ok to leave a 9 year old alone for ten minutes?", "en"),
        ("we're flying to pakistan for my cousin's wedding, so excited", "en"),
        ("main kabhi khud ko nuksaan nahi pohnchaungi", "ur"),
        ("ਮੈਂ ਕਦੇ ਆਪਣੇ ਆਪ ਨੂੰ ਨੁਕਸਾਨ ਨਹੀਂ ਪਹੁੰਚਾਵਾਂਗੀ", "pa"),
        ("আমি কখনো নিজের ক্ষতি করব না", "bn"),
        ("years ago i tried to end it, now im doing well", "en"),
        ("od razu jak wrócę to napiszę", "pl"),
    ],
)
def test_mentions_and_everyday_words_do_not_alert(text: str, language: str) -> None:
    assert not assess(text, language).alert


def test_the_situations_file_loads_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "situations.yaml"
    bad.write_text(
        "parts:\n  who:\n    en: ['(me|her']\nrules:\n  - {name: x, category: suicide_self_harm,"
        " level: high, window: 4, parts: [who, who]}\n",
        encoding="utf-8",
    )
    with pytest.raises(LexiconError, match="part who: en"):
        load_situations(bad)
    bad.write_text(
        "parts:\n  who:\n    en: ['me']\nrules:\n  - {name: x, category: suicide_self_harm,"
        " level: high, window: 4, parts: [who, nobody]}\n",
        encoding="utf-8",
    )
    with pytest.raises(LexiconError, match="unknown part"):
        load_situations(bad)


def test_the_wide_tuning_set_scores_what_was_measured() -> None:
    # Measured with the rules alone (docs/MODERATION.md, "Generalising rules"): 119/119
    # danger found and 0/85 safe alerting, from 74/119 and 1/85 before. The rules were
    # tuned on this set, so these are floors against losing ground, not a measure of
    # wording nobody wrote down.
    examples = load_examples(TUNING_WIDE)
    card = score(examples)
    assert (card.total.recall or 0) >= 0.95
    assert (card.total.false_alert_rate or 0) <= 0.02
    for language in ("en", "pl", "ar", "ur", "bn", "pa"):
        assert (score(e for e in examples if e.language == language).total.recall or 0) >= 0.9


def test_the_wide_tuning_set_is_apart_from_the_held_out_set() -> None:
    held_out = Path(__file__).with_name("heldout") / "heldout.jsonl"
    wide = {e.text for e in load_examples(TUNING_WIDE)}
    assert not wide & {e.text for e in load_examples(held_out)}


def test_the_probes_keep_what_each_round_fixed() -> None:
    # Rounds one to three scored 87/90 danger found and 0/50 safe alerting after tuning;
    # round four (the kinds of failure found on the retired blind set: honour threats, a
    # girl married off under eighteen or abroad, papers taken, kept in, "wait till I get
    # home", stalking after she left, a man of the family alone with a child, everyday
    # hyperbole in six languages) is held here line by line.
    examples = load_examples(TUNING_PROBES)
    card = score(examples)
    assert (card.total.recall or 0) >= 0.95
    assert card.total.false_alerts == 0


def test_the_tuning_sets_share_no_line_with_the_blind_set() -> None:
    # The blind set is tuning data now, but its lines are not copied: the rules are fixed
    # for a kind of failure, and the fix is held by lines written in other words.
    blind = {e.text for e in load_examples(BLIND)}
    for path in (TUNING_WIDE, TUNING_PROBES):
        assert not blind & {e.text for e in load_examples(path)}, path

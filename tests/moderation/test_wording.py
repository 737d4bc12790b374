"""Kinder-wording suggestions for staff drafts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from moderation.datafiles import DataFileError
from moderation.wording import (
    WordingRule,
    check_wording,
    default_wording_rules,
    load_wording_rules,
)


def rules_hit(text: str) -> list[tuple[str, str]]:
    return [(item.rule, item.phrase) for item in check_wording(text)]


@pytest.mark.parametrize(
    ("text", "rule", "phrase"),
    [
        ("She is an addict.", "addict", "addict"),
        ("known junkie", "junkie", "junkie"),
        ("Are you clean now?", "clean-phrase", "Are you clean"),
        ("She has been clean from heroin for 3 months", "clean-phrase", "been clean"),
        ("Her tox screen came back clean", "clean-near-drugs", "clean"),
        ("Her urine test was dirty", "dirty", "dirty"),
        ("She relapsed again, her own fault", "relapse-blame", "relapsed again"),
        ("Client refusing to engage", "refusing-to-engage", "refusing to engage"),
        ("non-compliant with her script", "non-compliant", "non-compliant"),
        ("she is noncompliant", "non-compliant", "noncompliant"),
        ("You must come on Tuesday", "must", "must"),
        ("You should have called the police", "should-have", "You should have"),
        ("why didn't you leave him?", "why-stay", "why didn't you leave"),
        ("an abuser of substances", "substance-abuser", "abuser of substances"),
        ("you’ve got to stop", "must", "you’ve got to"),
    ],
)
def test_stigmatising_or_ordering_words_get_a_suggestion(text: str, rule: str, phrase: str) -> None:
    assert rules_hit(text) == [(rule, phrase)]


@pytest.mark.parametrize(
    "text",
    [
        "Did you clean the kitchen?",
        "I need to clean the kitchen today",
        "Always use clean needles when using",
        "my hands are dirty",
        "You must be exhausted",
        "You must've been so scared",
        "We can look at a relapse prevention plan together",
        "It's not your fault. What would help right now?",
    ],
)
def test_kind_or_ordinary_sentences_are_left_alone(text: str) -> None:
    assert rules_hit(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "She is an addict. Are you clean now? non-compliant, noncompliant, NON COMPLIANT",
        "You should have left; why didn't you leave him? you’ve got to stop",
        "She relapsed again – refusing to engage, a junkie, hard-to-reach",
        "Did you clean the kitchen? You must be exhausted",
    ],
)
def test_a_draft_beyond_plain_ascii_gets_the_same_suggestions(text: str) -> None:
    """A plain ASCII draft is searched only where its words could begin a phrase; any other
    is searched everywhere. Both find the same."""
    plain = check_wording(text)
    assert check_wording(text + " café") == plain
    assert check_wording("é " + text) == tuple(
        replace(item, start=item.start + 2, end=item.end + 2) for item in plain
    )


def test_each_suggestion_says_what_to_use_and_why() -> None:
    (item,) = check_wording("She is an addict.")
    assert item.suggestion and item.why
    assert "She is an addict."[item.start : item.end] == "addict"


def test_offsets_index_the_draft_as_typed() -> None:
    text = "\u200bNote: she was non-compliant and refusing to engage."
    items = check_wording(text)
    assert [text[item.start : item.end] for item in items] == [
        "non-compliant",
        "refusing to engage",
    ]


@pytest.mark.parametrize("text", ["", "\x00", "\ud800 addict", "must " * 5000])
def test_odd_input_never_raises(text: str) -> None:
    check_wording(text)


def test_custom_rules_can_be_given() -> None:
    rule = WordingRule(id="client", phrases=["client*"], suggestion="her name", why="people")
    assert [item.phrase for item in check_wording("The clients said", [rule])] == ["clients"]


def test_shipped_guide_loads_with_unique_ids() -> None:
    rules = default_wording_rules()
    assert len({rule.id for rule in rules}) == len(rules) >= 10


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wording.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_RULE = "  - {id: a, phrases: [x], suggestion: y, why: z}\n"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("rules: [\n", "not valid YAML"),
        ("rules: []\n", "rules: List should have at least 1 item"),
        ("rules:\n  - {id: a, suggestion: y, why: z}\n", "rules.0.phrases: Field required"),
        ("rules:\n  - {id: a, phrases: [], suggestion: y, why: z}\n", "rules.0.phrases"),
        ("rules:\n  - {id: A B, phrases: [x], suggestion: y, why: z}\n", "rules.0.id"),
        ("rules:\n  - {id: a, phrases: [x], suggestion: y, why: z, colour: red}\n", "colour"),
        ("rules:\n  - {id: a, phrases: [x], suggestion: y, why: z, window: 0}\n", "window"),
        ("rules:\n" + GOOD_RULE + GOOD_RULE, "rules.1: id 'a' is used twice"),
    ],
)
def test_bad_guide_names_file_and_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DataFileError) as caught:
        load_wording_rules(path)
    assert caught.value.path == str(path)
    assert problem in str(caught.value)


def test_missing_guide_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="file not found"):
        load_wording_rules(tmp_path / "absent.yaml")

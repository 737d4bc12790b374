"""The held-out set stays as it was frozen, and the rules keep the figures measured on it.

The floors below sit just under what `python -m moderation evaluate
tests/moderation/heldout/heldout.jsonl` measured; they catch a change that loses ground on
wording the rules were never tuned to. The set itself must not be edited (see its README).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from moderation.evaluate import Example, grade, load_examples
from moderation.risk import default_detector
from moderation.scorecard import score
from moderation.types import RiskLevel

HELD_OUT = Path(__file__).with_name("heldout") / "heldout.jsonl"
FROZEN_SHA256 = "8bbcc72823af5c002bb0b5979c0f1e8944b4bb113426c1c844096c5cd18be7f1"


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return load_examples(HELD_OUT)


def test_the_held_out_set_is_unchanged() -> None:
    digest = hashlib.sha256(HELD_OUT.read_bytes()).hexdigest()
    assert digest == FROZEN_SHA256, "the held-out set was edited: write a new one instead"


def test_it_covers_every_language_and_script_with_danger_and_safe_messages(
    examples: list[Example],
) -> None:
    variants = Counter(e.variant for e in examples)
    expected = {"en", "pl", "ar", "ar-Latn", "ur", "ur-Latn", "bn", "bn-Latn", "pa"}
    assert expected | {"pa-Arab", "pa-Latn"} == set(variants)
    danger = [e for e in examples if e.level.rank >= RiskLevel.HIGH.rank]
    assert len(danger) >= 80
    assert len(examples) - len(danger) >= 50


def test_danger_found_and_safe_messages_alerting(examples: list[Example]) -> None:
    # Measured 80/85 found (94%) and 0/52 safe alerting; the bar is 80% and 5%.
    card = score(examples)
    assert (card.total.recall or 0) >= 0.90
    assert (card.total.false_alert_rate or 0) <= 0.05


@pytest.mark.parametrize("language", ["en", "pl", "ar", "ur", "bn", "pa"])
def test_every_language_finds_most_danger(examples: list[Example], language: str) -> None:
    # Each language (all its scripts together) measured 88% or more.
    card = score(e for e in examples if e.language == language)
    assert (card.total.recall or 0) >= 0.80, language
    assert card.total.false_alerts == 0, language


def test_mentions_are_still_noted_for_staff(examples: list[Example]) -> None:
    # A mention does not alert but staff still see it: 24 of the 36 labelled low were
    # flagged (the rest read as nothing at all).
    detector = default_detector()
    mentions = [e for e in examples if e.level is RiskLevel.LOW]
    noted = [e for e in mentions if grade(detector, e).flagged]
    assert len(noted) >= 0.6 * len(mentions)


def test_the_tuning_set_is_separate_and_scores_what_was_measured() -> None:
    # The rules were tuned on this set: 70/70 danger found and 1/38 safe alerting.
    tuning = load_examples(HELD_OUT.parent.parent / "tuning.jsonl")
    held_out_texts = {e.text for e in load_examples(HELD_OUT)}
    assert not held_out_texts & {e.text for e in tuning}
    card = score(tuning)
    assert (card.total.recall or 0) >= 0.97
    assert (card.total.false_alert_rate or 0) <= 0.05

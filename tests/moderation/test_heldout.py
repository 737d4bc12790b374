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

from moderation.evaluate import Example, load_examples
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

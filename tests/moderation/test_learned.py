"""The learned risk layer's pure part and its data: the head file, the combined verdict, the
training and calibration sets kept apart from the held-out set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from moderation.evaluate import load_examples
from moderation.learned import (
    CATEGORIES,
    HEAD_FILE,
    HeadError,
    LearnedHead,
    LearnedVerdict,
    combine,
    judge,
    load_head,
    model_input,
)
from moderation.risk import assess
from moderation.training import (
    CALIBRATION_SETS,
    TRAIN_SETS,
    fit_head,
    fit_logistic,
    held_out_texts,
)
from moderation.types import NO_RISK, RiskCategory, RiskLevel, Stance

DANGER = LearnedVerdict(0.97, RiskCategory.SUICIDE_SELF_HARM, True)
UNSURE = LearnedVerdict(0.40, RiskCategory.SUICIDE_SELF_HARM, False)


def test_the_committed_head_loads_and_its_threshold_is_strict() -> None:
    head = load_head()
    assert head.dim == 384
    assert head.category_weights.shape == (len(CATEGORIES), 384)
    # Calibrated for specificity: never below an even chance.
    assert 0.5 <= head.threshold < 1.0


def test_a_learned_flag_raises_what_the_rules_missed_to_current_danger() -> None:
    missed = NO_RISK
    both = combine(missed, DANGER)
    assert both.level is RiskLevel.HIGH and both.alert
    assert both.categories == (RiskCategory.SUICIDE_SELF_HARM,)
    assert both.stance is Stance.CURRENT
    # Below its threshold it changes nothing.
    assert combine(missed, UNSURE) is missed


def test_the_learned_layer_never_lowers_the_rules_or_overrules_a_mention() -> None:
    danger = assess("I've taken all my pills, I want to die tonight", "en")
    assert danger.alert
    assert combine(danger, UNSURE) is danger
    assert combine(danger, DANGER) is danger
    negated = assess("I would never hurt myself, I have my girls", "en")
    assert negated.stance is Stance.NEGATED
    assert combine(negated, DANGER) is negated and not combine(negated, DANGER).alert


def test_her_earlier_messages_are_read_with_this_one() -> None:
    text = model_input("tonight", ("hello", "i've saved them up", "all of them"))
    assert text == "i've saved them up\nall of them\ntonight"
    assert len(model_input("x" * 5000)) == 1000


def test_judge_refuses_an_embedding_of_the_wrong_size() -> None:
    with pytest.raises(HeadError, match="shape"):
        judge(load_head(), np.zeros(10, dtype=np.float32))


def _head(dim: int = 4) -> LearnedHead:
    return LearnedHead(
        danger_weights=np.ones(dim, dtype=np.float32),
        danger_bias=0.0,
        category_weights=np.zeros((len(CATEGORIES), dim), dtype=np.float32),
        category_bias=np.arange(len(CATEGORIES), dtype=np.float32),
        threshold=0.9,
    )


def test_a_head_file_round_trips_and_bad_ones_are_named(tmp_path: Path) -> None:
    good = tmp_path / "head.npz"
    _head().save(good)
    loaded = load_head(good)
    assert loaded.threshold == 0.9 and loaded.dim == 4
    verdict = judge(loaded, np.full(4, 1.0, dtype=np.float32))
    assert verdict.flagged and verdict.category is CATEGORIES[-1]

    with pytest.raises(HeadError, match="cannot read"):
        load_head(tmp_path / "missing.npz")
    text = tmp_path / "text.npz"
    text.write_text("not an archive")
    with pytest.raises(HeadError, match="cannot read"):
        load_head(text)
    partial = tmp_path / "partial.npz"
    np.savez(partial, danger_weights=np.ones(4))
    with pytest.raises(HeadError, match="missing"):
        load_head(partial)
    # A pickled object inside is refused, never unpickled.
    pickled = tmp_path / "pickled.npz"
    np.savez(
        pickled,
        danger_weights=np.array([{"x": 1}], dtype=object),
        danger_bias=np.zeros(1),
        category_weights=np.zeros((6, 1)),
        category_bias=np.zeros(6),
        threshold=np.ones(1),
        categories=np.array([c.value for c in CATEGORIES]),
    )
    with pytest.raises(HeadError, match="cannot read"):
        load_head(pickled)
    shapes = tmp_path / "shapes.npz"
    np.savez(
        shapes,
        danger_weights=np.ones(4),
        danger_bias=np.zeros(1),
        category_weights=np.zeros((6, 3)),
        category_bias=np.zeros(6),
        threshold=np.ones(1),
        categories=np.array([c.value for c in CATEGORIES]),
    )
    with pytest.raises(HeadError, match="wrong shape"):
        load_head(shapes)


def test_logistic_regression_separates_what_is_separable() -> None:
    x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    weights, bias = fit_logistic(x, y, penalty=0.1)
    scores = x @ weights + bias
    assert (scores[:2] > 0).all() and (scores[2:] < 0).all()
    with pytest.raises(ValueError, match="both classes"):
        fit_logistic(x, np.ones(4))


def test_training_and_calibration_sets_are_valid_and_apart_from_the_held_out_set() -> None:
    held_out = held_out_texts()
    seen: set[str] = set()
    # The sets written for the learned layer; both held-out sets (heldout, blind) are apart.
    for path in (*TRAIN_SETS[:2], *CALIBRATION_SETS[:2]):
        examples = load_examples(path)
        assert examples, path
        texts = {" ".join(e.text.lower().split()) for e in examples}
        assert not texts & held_out, f"{path} repeats held-out messages"
        assert not texts & seen, f"{path} repeats another set's messages"
        seen |= texts
    written = load_examples(TRAIN_SETS[0])
    variants = {e.variant for e in written}
    assert {"en", "pl", "ar", "ar-Latn", "ur", "ur-Latn", "bn", "bn-Latn"} <= variants
    assert {"pa", "pa-Arab", "pa-Latn"} <= variants
    # Safe mentions are there to learn from, not only plain danger and plain chat.
    assert sum(e.level is RiskLevel.LOW for e in written) >= 30


def test_the_head_file_holds_no_pickles() -> None:
    with np.load(HEAD_FILE, allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)
    assert json.dumps([c.value for c in CATEGORIES])


def test_fitting_the_head_twice_on_the_same_data_gives_the_same_head() -> None:
    examples = load_examples(TRAIN_SETS[0])
    # Fixed vectors (not the model: this is about the fitting being deterministic).
    x = np.random.default_rng(7).normal(size=(len(examples), 16))
    first, second = fit_head(x, examples), fit_head(x.copy(), examples)
    assert np.array_equal(first.danger_weights, second.danger_weights)
    assert first.danger_bias == second.danger_bias
    assert np.array_equal(first.category_weights, second.category_weights)

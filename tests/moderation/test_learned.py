"""The learned risk layer's pure part and its data: the head file, the combined verdict, the
training and calibration sets kept apart from the held-out set."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from moderation.evaluate import Example, load_examples
from moderation.learned import (
    CATEGORIES,
    HEAD_FILE,
    HeadError,
    LearnedHead,
    LearnedVerdict,
    Matrix,
    combine,
    judge,
    load_head,
    model_input,
)
from moderation.risk import assess
from moderation.training import (
    ADDED_FALSE_ALERTS,
    CALIBRATION_SETS,
    FALSE_ALERT_BUDGET,
    HELDOUT_SETS,
    LOWEST_THRESHOLD,
    RETIRED_BLIND_SET,
    TRAIN_SETS,
    CachedEncoder,
    blind_part,
    choose_threshold,
    fit_head,
    fit_logistic,
    held_out_texts,
    training_and_calibration,
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


WRITTEN_SETS = (*TRAIN_SETS[:3], *CALIBRATION_SETS[:2])


def test_training_and_calibration_sets_are_valid_and_apart_from_the_held_out_set() -> None:
    held_out = held_out_texts()
    seen: set[str] = set()
    # The sets written for the learned layer are apart from the held-out sets and each other.
    assert all("learned/" in str(path) for path in WRITTEN_SETS)
    for path in WRITTEN_SETS:
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


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def test_the_retired_blind_set_is_split_between_training_and_calibration() -> None:
    blind = load_examples(RETIRED_BLIND_SET)
    training, calibration = training_and_calibration()
    trained = {_key(e.text) for e in training}
    calibrated = {_key(e.text) for e in calibration}
    assert not trained & calibrated
    to_calibration = [e for e in blind if blind_part(e.text) == "calibration"]
    # About a third, danger and safe alike, each line in exactly one of the two.
    assert 0.25 * len(blind) < len(to_calibration) < 0.42 * len(blind)
    assert any(e.level.rank >= RiskLevel.HIGH.rank for e in to_calibration)
    assert any(e.level.rank < RiskLevel.HIGH.rank for e in to_calibration)
    for example in blind:
        where = calibrated if blind_part(example.text) == "calibration" else trained
        assert _key(example.text) in where, example.line
    # The split follows the text, not its place in the file or its case and spacing.
    first = blind[0].text
    assert blind_part(first) == blind_part("  " + first.upper() + " ")
    # It is no longer held out; heldout.jsonl still is.
    assert RETIRED_BLIND_SET not in HELDOUT_SETS
    assert any(path.name == "heldout.jsonl" for path in HELDOUT_SETS)


def test_a_held_out_set_is_never_trained_on_and_a_missing_one_is_skipped(tmp_path: Path) -> None:
    written = load_examples(TRAIN_SETS[2])[0]
    blind = next(e for e in load_examples(RETIRED_BLIND_SET) if blind_part(e.text) == "calibration")
    newer = tmp_path / "blind2.jsonl"
    rows = [{"text": t.upper(), "language": "en", "level": "none", "categories": []}
            for t in (written.text, blind.text)]  # fmt: skip
    newer.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    missing = tmp_path / "not-yet.jsonl"

    assert held_out_texts([missing]) == frozenset()
    training, calibration = training_and_calibration([*HELDOUT_SETS, missing])
    assert written.text in {e.text for e in training}
    assert blind.text in {e.text for e in calibration}

    training, calibration = training_and_calibration([*HELDOUT_SETS, newer, missing])
    kept = {e.text for e in [*training, *calibration]}
    assert written.text not in kept and blind.text not in kept


def _safe(n: int) -> list[Example]:
    return [Example(f"safe {i}", "en", RiskLevel.NONE, frozenset(), i) for i in range(n)]


def test_the_threshold_keeps_the_server_within_its_false_alert_budget() -> None:
    examples = _safe(100)
    rules = [NO_RISK] * 100
    scores = [0.99, 0.97, 0.95, 0.93, 0.91] + [0.2] * 95
    verdicts = [LearnedVerdict(s, RiskCategory.SUICIDE_SELF_HARM, False) for s in scores]
    threshold = choose_threshold(examples, rules, verdicts)
    # The layer may add ADDED_FALSE_ALERTS of its own when the rules leave room ...
    allowed = min(ADDED_FALSE_ALERTS, int(FALSE_ALERT_BUDGET * 100))
    assert sum(s >= threshold for s in scores) == allowed
    # ... none when the rules already use the whole budget ...
    alerting = assess("I've taken all my pills, I want to die tonight", "en")
    assert alerting.alert
    budget = int(FALSE_ALERT_BUDGET * 100)
    used = [NO_RISK] * 5 + [alerting] * budget + [NO_RISK] * (95 - budget)
    threshold = choose_threshold(examples, used, verdicts)
    assert all(s < threshold for s, r in zip(scores, used, strict=True) if r is NO_RISK)
    # ... and a message the rules already alert on, or read as a mention, costs nothing.
    negated = assess("I would never hurt myself, I have my girls", "en")
    shielded = [negated] * 5 + [NO_RISK] * 95
    assert choose_threshold(examples, shielded, verdicts) == LOWEST_THRESHOLD


def test_cached_embeddings_are_the_encoders_own_and_survive_a_restart(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def encoder(texts: Sequence[str]) -> Matrix:
        calls.append(list(texts))
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)

    cache = tmp_path / "cache" / "embeddings.npz"
    first = CachedEncoder(encoder, cache)
    rows = first(["tonight", "all of them", "tonight"])
    assert calls == [["tonight", "all of them"]]  # each text embedded once
    assert np.array_equal(rows, encoder(["tonight", "all of them", "tonight"]))
    first.save()
    calls.clear()

    again = CachedEncoder(encoder, cache)
    assert np.array_equal(again(["all of them", "tonight"]), rows[[1, 0]])
    assert calls == []  # read from the file, not the encoder
    assert again(["new"]).shape == (1, 3) and calls == [["new"]]
    # Without a file nothing is written.
    CachedEncoder(encoder, None).save()


def test_evaluate_reports_the_held_out_sets_by_default_and_no_longer_the_retired_one() -> None:
    from moderation.__main__ import BLIND2_SET, build_parser

    paths = build_parser().parse_args(["evaluate"]).paths
    names = [Path(p).name for p in paths]
    assert "heldout.jsonl" in names and "tuning.jsonl" in names
    assert "blind.jsonl" not in names
    # blind2 is named once it is there, and a missing one does not stop the command.
    assert ("blind2.jsonl" in names) == BLIND2_SET.exists()

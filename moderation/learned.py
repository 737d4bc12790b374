"""The learned risk layer's pure part: from a sentence embedding to a verdict, and the
combined verdict the server acts on.

A small head (logistic regression) reads the embedding of her message (with her last
messages before it, as the rules read them) and says whether it shows current danger, and
which category it is most like. `python -m moderation train` fits it on the labelled sets
(moderation/training.py names them) and sets its threshold on the calibration set so that the
rules and the layer together stay within the server's false-alert budget there; the result is
committed as moderation/data/learned_head.npz.

The rules stay the floor. `combine` lets the learned layer raise a message the rules graded
below danger to high, but never lower what the rules found, and never contradict a stance
the rules read (negated, asked about, past, fiction, a joke): those stay staff notes.

No I/O here beyond reading the head's file (numpy arrays, never pickles); the encoder that
turns text into embeddings is given by the caller (moderation/safeguarding/encoder.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from moderation.risk import Classifier
from moderation.types import NO_RISK, RiskAssessment, RiskCategory, RiskLevel, Stance

HEAD_FILE = Path(__file__).parent / "data" / "learned_head.npz"
# The order of the category head's rows.
CATEGORIES: tuple[RiskCategory, ...] = tuple(RiskCategory)
# How many of her earlier messages are read with this one (the rules read as many).
CONTEXT_MESSAGES = 2
# Longer messages are cut to this many characters before they are embedded.
MAX_CHARS = 1000
# Stances the rules read that the learned layer does not overrule.
_MENTIONS = frozenset({Stance.NEGATED, Stance.QUESTION, Stance.PAST, Stance.FICTION, Stance.JOKE})

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]
# Texts in, one L2-normalised embedding per row out.
Encoder = Callable[[Sequence[str]], Matrix]


class HeadError(ValueError):
    """The head's file is missing a part or has the wrong shapes."""


@dataclass(frozen=True)
class LearnedHead:
    danger_weights: Vector  # (dim,)
    danger_bias: float
    category_weights: Matrix  # (categories, dim)
    category_bias: Vector  # (categories,)
    threshold: float

    @property
    def dim(self) -> int:
        return int(self.danger_weights.shape[0])

    def save(self, path: Path) -> None:
        np.savez(
            path,
            danger_weights=self.danger_weights.astype(np.float32),
            danger_bias=np.array([self.danger_bias], dtype=np.float64),
            category_weights=self.category_weights.astype(np.float32),
            category_bias=self.category_bias.astype(np.float32),
            threshold=np.array([self.threshold], dtype=np.float64),
            categories=np.array([c.value for c in CATEGORIES]),
        )


def load_head(path: Path | None = None) -> LearnedHead:
    """Read the committed head (plain arrays: pickles are refused)."""
    path = path or HEAD_FILE
    try:
        with np.load(path, allow_pickle=False) as data:
            parts = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise HeadError(f"{path}: cannot read the learned head ({exc})") from exc
    needed = ("danger_weights", "danger_bias", "category_weights", "category_bias", "threshold")
    missing = [name for name in needed if name not in parts]
    if missing:
        raise HeadError(f"{path}: missing {', '.join(missing)}")
    names = tuple(str(c) for c in parts.get("categories", ()))
    if names != tuple(c.value for c in CATEGORIES):
        raise HeadError(f"{path}: its categories {names} are not Willow's")
    weights = parts["danger_weights"].astype(np.float32)
    rows = parts["category_weights"].astype(np.float32)
    if weights.ndim != 1 or rows.shape != (len(CATEGORIES), weights.shape[0]):
        raise HeadError(f"{path}: weights of the wrong shape")
    return LearnedHead(
        danger_weights=weights,
        danger_bias=float(parts["danger_bias"][0]),
        category_weights=rows,
        category_bias=parts["category_bias"].astype(np.float32),
        threshold=float(parts["threshold"][0]),
    )


@dataclass(frozen=True)
class LearnedVerdict:
    """How likely current danger is (0..1), the category it is most like, and whether the
    likelihood passed the head's calibrated threshold."""

    danger: float
    category: RiskCategory
    flagged: bool

    def assessment(self) -> RiskAssessment:
        """The learned layer alone, as a risk assessment (for evaluation)."""
        if not self.flagged:
            return NO_RISK
        return RiskAssessment(RiskLevel.HIGH, (self.category,), stance=Stance.CURRENT)


def model_input(text: str, previous: Sequence[str] = ()) -> str:
    """What is embedded (as an e5 query): her last messages and this one, one per line."""
    parts = [*previous[-CONTEXT_MESSAGES:], text]
    joined = "\n".join(p.strip() for p in parts if p.strip())
    return joined[-MAX_CHARS:]


def model_inputs(text: str, previous: Sequence[str] = ()) -> list[str]:
    """The message alone, and with her last messages when there are any: danger in the
    message itself is not watered down by an earlier "thanks", and danger spread over her
    messages ("I've saved them up" ... "tonight") is read as one."""
    alone = model_input(text)
    together = model_input(text, previous)
    return [alone] if together == alone else [alone, together]


def judge_most(head: LearnedHead, embeddings: Matrix) -> LearnedVerdict:
    """The most worrying of the verdicts on each reading (`model_inputs`)."""
    verdicts = [judge(head, row) for row in embeddings]
    return max(verdicts, key=lambda v: v.danger)


def judge_many(
    head: LearnedHead, encoder: Encoder, messages: Sequence[tuple[str, Sequence[str]]]
) -> list[LearnedVerdict]:
    """The verdicts on several messages (each with her last messages before it), their
    readings embedded in one call to the encoder: the model's fixed cost per call (reading
    its weights) is paid once for the lot. Each reading is embedded as it would be alone."""
    readings = [model_inputs(text, previous) for text, previous in messages]
    rows = encoder([reading for each in readings for reading in each])
    verdicts, start = [], 0
    for each in readings:
        verdicts.append(judge_most(head, rows[start : start + len(each)]))
        start += len(each)
    return verdicts


def _sigmoid(value: float) -> float:
    return float(1.0 / (1.0 + np.exp(-value)))


def judge(head: LearnedHead, embedding: Vector) -> LearnedVerdict:
    """The head's verdict on one embedding."""
    if embedding.shape != (head.dim,):
        raise HeadError(f"embedding of shape {embedding.shape}, the head reads ({head.dim},)")
    danger = _sigmoid(float(embedding @ head.danger_weights) + head.danger_bias)
    scores = head.category_weights @ embedding + head.category_bias
    category = CATEGORIES[int(np.argmax(scores))]
    return LearnedVerdict(danger, category, danger >= head.threshold)


def can_add_to(rules: RiskAssessment) -> bool:
    """Whether any learned verdict could change the rules' (they do not already alert, and
    did not read a mention): the server reads only such messages with the model."""
    return not rules.alert and rules.stance not in _MENTIONS


def combine(rules: RiskAssessment, learned: LearnedVerdict | None) -> RiskAssessment:
    """The verdict the server acts on: the rules', raised to high when the learned layer
    finds current danger the rules graded lower, unless the rules read a mention."""
    if learned is None or not learned.flagged or not can_add_to(rules):
        return rules
    categories = (learned.category, *(c for c in rules.categories if c is not learned.category))
    return RiskAssessment(
        level=RiskLevel.HIGH,
        categories=categories,
        matches=rules.matches,
        stance=Stance.CURRENT,
        languages=rules.languages,
    )


def adds_to(rules: RiskAssessment, learned: LearnedVerdict | None) -> bool:
    """Whether the learned verdict changes what the server does with the rules' verdict."""
    return combine(rules, learned) is not rules


class LearnedClassifier:
    """The learned layer as a `Classifier` (for `evaluate` and `assess`): embeddings are
    cached, so scoring it alone and with the rules embeds each message once."""

    def __init__(self, encoder: Encoder, head: LearnedHead) -> None:
        self.encoder = encoder
        self.head = head
        self._seen: dict[str, LearnedVerdict] = {}

    def verdict(self, text: str, previous: Sequence[str] = ()) -> LearnedVerdict:
        key = "\0".join(model_inputs(text, previous))
        if key not in self._seen:
            rows = self.encoder(model_inputs(text, previous))
            self._seen[key] = judge_most(self.head, rows)
        return self._seen[key]

    def assess(
        self, text: str, language: str | None, previous: Sequence[str] = ()
    ) -> RiskAssessment:
        return self.verdict(text, previous).assessment()


class CombinedClassifier:
    """The rules and the learned layer together, as the server acts on them."""

    def __init__(self, rules: Classifier, learned: LearnedClassifier) -> None:
        self.rules = rules
        self.learned = learned

    def assess(
        self, text: str, language: str | None, previous: Sequence[str] = ()
    ) -> RiskAssessment:
        rules = self.rules.assess(text, language, previous)
        return combine(rules, self.learned.verdict(text, previous))

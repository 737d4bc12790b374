"""Measure the risk detector against a labelled set of messages.

The set is JSON lines: ``{"text", "language", "level", "categories"}``. Labels follow the
detector's documented policy (see `moderation.risk`): ``categories`` lists every kind of
concern present, including low-level ones; a message with level ``none`` has none. Sexual
abuse of a child carries both ``child_safeguarding`` and ``sexual_violence``.

Missing imminent danger is the worst error, so the report leads with recall of "high or
above" and lists every such message the detector graded lower.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from moderation.risk import Classifier, default_detector
from moderation.types import RiskAssessment, RiskCategory, RiskLevel


class EvalSetError(ValueError):
    """A line of the evaluation set that is not a valid labelled message."""


@dataclass(frozen=True)
class Example:
    text: str
    language: str | None
    level: RiskLevel
    categories: frozenset[RiskCategory]
    line: int
    # Her earlier messages in the same chat, oldest first: read with this one as a situation.
    previous: tuple[str, ...] = ()
    # The script when it is not the language's usual one ("Latn" for romanised Urdu).
    script: str | None = None
    # The first category labelled: the main concern, which an alert must name.
    main_category: RiskCategory | None = None

    @property
    def variant(self) -> str:
        base = self.language or "-"
        return f"{base}-{self.script}" if self.script else base


@dataclass
class Score:
    """Counts for one label treated as a yes/no question."""

    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float | None:
        predicted = self.true_positive + self.false_positive
        return self.true_positive / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else None

    def add(self, expected: bool, predicted: bool) -> None:
        if expected and predicted:
            self.true_positive += 1
        elif predicted:
            self.false_positive += 1
        elif expected:
            self.false_negative += 1


@dataclass(frozen=True)
class Outcome:
    example: Example
    assessment: RiskAssessment


@dataclass
class Report:
    total: int = 0
    exact_level: int = 0
    by_category: dict[RiskCategory, Score] = field(default_factory=dict)
    by_level: dict[RiskLevel, Score] = field(default_factory=dict)
    high_or_above: Score = field(default_factory=Score)
    # Danger (high or imminent) graded lower than high: the errors that matter most.
    missed: list[Outcome] = field(default_factory=list)
    # Imminent danger graded only high: still alerted, but not as urgent as it should be.
    under_graded: list[Outcome] = field(default_factory=list)
    # Nothing or low graded high or above: a needless alert.
    false_alarms: list[Outcome] = field(default_factory=list)


def load_examples(path: str | Path) -> list[Example]:
    """Read and validate a labelled set; a bad line raises `EvalSetError` naming it."""
    examples: list[Example] = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, raw in enumerate(lines, start=1):
            if raw.strip():
                examples.append(parse_example(raw, number))
    return examples


def parse_example(raw: str, line: int) -> Example:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EvalSetError(f"line {line}: not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise EvalSetError(f"line {line}: must be a JSON object")
    text, language = data.get("text"), data.get("language")
    if not isinstance(text, str) or not text:
        raise EvalSetError(f"line {line}: 'text' must be a non-empty string")
    if language is not None and not isinstance(language, str):
        raise EvalSetError(f"line {line}: 'language' must be a string or null")
    try:
        level = RiskLevel(str(data.get("level")))
        listed = [RiskCategory(c) for c in data.get("categories", [])]
        categories = frozenset(listed)
    except (ValueError, TypeError) as exc:
        raise EvalSetError(f"line {line}: bad level or category ({exc})") from exc
    if level is RiskLevel.NONE and categories:
        # A safe message labelled with the topic it is about (the blind set's way of writing
        # it) is what the other sets call a mention: graded low, about those topics.
        level = RiskLevel.LOW
    if level is not RiskLevel.NONE and not categories:
        raise EvalSetError(f"line {line}: level {level.value} needs at least one category")
    previous, script = data.get("previous", []), data.get("script")
    if not isinstance(previous, list) or not all(isinstance(p, str) for p in previous):
        raise EvalSetError(f"line {line}: 'previous' must be a list of strings")
    if script is not None and not isinstance(script, str):
        raise EvalSetError(f"line {line}: 'script' must be a string or null")
    main = listed[0] if listed else None
    return Example(text, language, level, categories, line, tuple(previous), script, main)


def evaluate(examples: Iterable[Example], classifier: Classifier | None = None) -> Report:
    """Grade every example and count agreements."""
    grader = classifier or default_detector()
    report = Report(
        by_category={c: Score() for c in RiskCategory},
        by_level={lv: Score() for lv in RiskLevel},
    )
    for example in examples:
        _count(report, Outcome(example, grade(grader, example)))
    return report


def grade(grader: Classifier, example: Example) -> RiskAssessment:
    """One example graded as the server would: with her previous messages when known."""
    if example.previous:
        return grader.assess(example.text, example.language, example.previous)
    return grader.assess(example.text, example.language)


def _count(report: Report, outcome: Outcome) -> None:
    expected, got = outcome.example, outcome.assessment
    report.total += 1
    report.exact_level += expected.level is got.level
    for category, score in report.by_category.items():
        score.add(category in expected.categories, category in got.categories)
    for level, score in report.by_level.items():
        score.add(expected.level is level, got.level is level)
    danger_expected = expected.level.rank >= RiskLevel.HIGH.rank
    danger_found = got.level.rank >= RiskLevel.HIGH.rank
    report.high_or_above.add(danger_expected, danger_found)
    if danger_expected and not danger_found:
        report.missed.append(outcome)
    elif expected.level is RiskLevel.IMMINENT and got.level is RiskLevel.HIGH:
        report.under_graded.append(outcome)
    elif danger_found and not danger_expected:
        report.false_alarms.append(outcome)


def format_report(report: Report, verbose: bool = False) -> str:
    """The report as plain text for a terminal."""
    lines = [
        f"messages: {report.total}   exact level: {_ratio(report.exact_level, report.total)}",
        f"high or above: recall {_pct(report.high_or_above.recall)}"
        f"  precision {_pct(report.high_or_above.precision)}",
        "",
        f"{'category':24} {'precision':>9} {'recall':>7} {'n':>4}",
    ]
    lines += [_score_line(c.value, s) for c, s in report.by_category.items()]
    lines += ["", f"{'level':24} {'precision':>9} {'recall':>7} {'n':>4}"]
    lines += [_score_line(lv.value, s) for lv, s in report.by_level.items()]
    lines += ["", f"missed high/imminent ({len(report.missed)}):"]
    lines += [_outcome_line(o) for o in report.missed] or ["  (none)"]
    lines += ["", f"imminent graded only high ({len(report.under_graded)}):"]
    lines += [_outcome_line(o) for o in report.under_graded] or ["  (none)"]
    if verbose:
        lines += ["", f"false alarms ({len(report.false_alarms)}):"]
        lines += [_outcome_line(o) for o in report.false_alarms] or ["  (none)"]
    else:
        lines += ["", f"false alarms: {len(report.false_alarms)} (--verbose lists them)"]
    return "\n".join(lines)


def _score_line(name: str, score: Score) -> str:
    count = score.true_positive + score.false_negative
    return f"{name:24} {_pct(score.precision):>9} {_pct(score.recall):>7} {count:>4}"


def _outcome_line(outcome: Outcome) -> str:
    example, got = outcome.example, outcome.assessment
    categories = ",".join(sorted(c.value for c in got.categories)) or "-"
    text = example.text if len(example.text) <= 90 else example.text[:87] + "..."
    return (
        f"  line {example.line} [{example.language}] expected {example.level.value},"
        f" got {got.level.value} ({categories}): {text}"
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "0/0"


def summary_numbers(report: Report) -> dict[str, float | None]:
    """The headline figures, for tests and dashboards."""
    return {
        "high_or_above_recall": report.high_or_above.recall,
        "high_or_above_precision": report.high_or_above.precision,
        "imminent_recall": report.by_level[RiskLevel.IMMINENT].recall,
        "exact_level": report.exact_level / report.total if report.total else None,
    }


def languages(examples: Sequence[Example]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for example in examples:
        key = example.language or "-"
        counts[key] = counts.get(key, 0) + 1
    return counts

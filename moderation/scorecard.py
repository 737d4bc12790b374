"""The figures that decide whether risk detection is good enough to trust with alerts.

Two questions, asked per language (and script) and per category of a labelled set:

* of the messages showing danger (high or imminent), how many raise an alert with the right
  category (the first one labelled, the main concern)?
* of the safe messages (none, or a mention graded low), how many raise an alert anyway?

`alert_when` decides what counts as an alert, so the rule the server used before (any flag)
can be scored on the same set as the rule it uses now (`RiskAssessment.alert`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from moderation.evaluate import Example, grade
from moderation.risk import Classifier, default_detector
from moderation.types import RiskAssessment, RiskLevel

AlertRule = Callable[[RiskAssessment], bool]


def alerts_now(assessment: RiskAssessment) -> bool:
    return assessment.alert


def alerts_on_any_flag(assessment: RiskAssessment) -> bool:
    """How the server decided before stance: every flag, even low, alerted."""
    return assessment.flagged


@dataclass
class Tally:
    danger: int = 0
    found: int = 0
    safe: int = 0
    false_alerts: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.danger if self.danger else None

    @property
    def false_alert_rate(self) -> float | None:
        return self.false_alerts / self.safe if self.safe else None

    def add(self, example: Example, got: RiskAssessment, alert_when: AlertRule) -> None:
        alerted = alert_when(got)
        if example.level.rank >= RiskLevel.HIGH.rank:
            self.danger += 1
            self.found += alerted and example.main_category in got.categories
        else:
            self.safe += 1
            self.false_alerts += alerted


@dataclass
class Scorecard:
    total: Tally = field(default_factory=Tally)
    by_variant: dict[str, Tally] = field(default_factory=dict)
    by_category: dict[str, Tally] = field(default_factory=dict)
    missed: list[tuple[Example, RiskAssessment]] = field(default_factory=list)
    false_alerts: list[tuple[Example, RiskAssessment]] = field(default_factory=list)


def score(
    examples: Iterable[Example],
    classifier: Classifier | None = None,
    alert_when: AlertRule = alerts_now,
) -> Scorecard:
    grader = classifier or default_detector()
    card = Scorecard()
    for example in examples:
        got = grade(grader, example)
        tallies = [
            card.total,
            card.by_variant.setdefault(example.variant, Tally()),
        ]
        if example.main_category is not None:
            tallies.append(card.by_category.setdefault(example.main_category.value, Tally()))
        for tally in tallies:
            tally.add(example, got, alert_when)
        danger = example.level.rank >= RiskLevel.HIGH.rank
        alerted = alert_when(got)
        if danger and not (alerted and example.main_category in got.categories):
            card.missed.append((example, got))
        elif not danger and alerted:
            card.false_alerts.append((example, got))
    return card


def format_scorecard(card: Scorecard, verbose: bool = False) -> str:
    lines = [f"{'':18} {'danger found':>16} {'safe alerting':>16}"]
    lines.append(_row("all", card.total))
    lines += [_row(name, tally) for name, tally in sorted(card.by_variant.items())]
    lines.append("")
    lines += [_row(name, tally) for name, tally in sorted(card.by_category.items())]
    if verbose:
        lines += ["", f"danger missed or wrong category ({len(card.missed)}):"]
        lines += [_example_line(e, g) for e, g in card.missed] or ["  (none)"]
        lines += ["", f"safe messages alerting ({len(card.false_alerts)}):"]
        lines += [_example_line(e, g) for e, g in card.false_alerts] or ["  (none)"]
    return "\n".join(lines)


def _row(name: str, tally: Tally) -> str:
    found = _fraction(tally.found, tally.danger)
    false = _fraction(tally.false_alerts, tally.safe)
    return f"{name:18} {found:>16} {false:>16}"


def _fraction(part: int, whole: int) -> str:
    return f"{part}/{whole} {part / whole:4.0%}" if whole else "-"


def _example_line(example: Example, got: RiskAssessment) -> str:
    categories = ",".join(c.value for c in got.categories) or "-"
    return (
        f"  line {example.line} [{example.variant}] {example.level.value}->{got.level.value}"
        f" ({categories}): {example.text[:80]}"
    )

"""The labelled evaluation set, and floors the risk rules must keep on it.

The floors sit a little under what the rules score today (`python -m moderation evaluate`),
so a lexicon change that loses danger fails here. Read them with care: the set was written
alongside the lexicons, so it measures regressions, not how well the rules will do on new
wording. Ten batches written later (486 messages, 370 of them high or above), each graded
before the lexicons were tuned to it, scored 36% recall on high-or-above (133 of 370; 24% to
49% per batch) at 98% precision (3 false alarms). Those batches are now part of the set.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from moderation.evaluate import (
    EvalSetError,
    Example,
    Report,
    evaluate,
    format_report,
    load_examples,
    parse_example,
)
from moderation.types import RiskCategory, RiskLevel

EVAL_SET = Path(__file__).with_name("eval_set.jsonl")


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return load_examples(EVAL_SET)


@pytest.fixture(scope="module")
def report(examples: list[Example]) -> Report:
    return evaluate(examples)


class TestTheSet:
    def test_size_and_languages(self, examples: list[Example]) -> None:
        counts = Counter(e.language for e in examples)
        assert len(examples) >= 320
        assert set(counts) == {"en", "pl", "ar", "ur", "bn", "pa"}
        for language in ("pl", "ar", "ur", "bn", "pa"):
            assert counts[language] >= 30, language
            assert counts["en"] > counts[language]

    def test_every_level_and_category_is_represented(self, examples: list[Example]) -> None:
        levels = Counter(e.level for e in examples)
        assert all(levels[level] >= 30 for level in RiskLevel)
        categories = Counter(c for e in examples for c in e.categories)
        assert all(categories[c] >= 30 for c in RiskCategory)

    def test_everyday_talk_is_a_real_share(self, examples: list[Example]) -> None:
        calm = [e for e in examples if e.level in (RiskLevel.NONE, RiskLevel.LOW)]
        assert len(calm) >= 0.25 * len(examples)

    def test_no_duplicates(self, examples: list[Example]) -> None:
        texts = Counter(e.text for e in examples)
        assert [t for t, n in texts.items() if n > 1] == []


class TestFloors:
    def test_high_or_above(self, report: Report) -> None:
        assert (report.high_or_above.recall or 0) >= 0.97
        assert (report.high_or_above.precision or 0) >= 0.97

    def test_imminent_danger_is_never_graded_below_high(self, report: Report) -> None:
        missed = [o for o in report.missed if o.example.level is RiskLevel.IMMINENT]
        assert missed == []

    def test_imminent_recall_and_precision(self, report: Report) -> None:
        assert (report.by_level[RiskLevel.IMMINENT].recall or 0) >= 0.93
        assert (report.by_level[RiskLevel.IMMINENT].precision or 0) >= 0.86

    def test_everyday_talk_stays_unflagged(self, report: Report) -> None:
        assert (report.by_level[RiskLevel.NONE].recall or 0) >= 0.96
        assert len(report.false_alarms) <= 3

    def test_exact_level(self, report: Report) -> None:
        assert report.exact_level / report.total >= 0.92

    @pytest.mark.parametrize(
        ("category", "recall", "precision"),
        [
            (RiskCategory.SUICIDE_SELF_HARM, 0.93, 0.96),
            (RiskCategory.DOMESTIC_ABUSE_DANGER, 0.89, 0.90),
            (RiskCategory.CHILD_SAFEGUARDING, 0.88, 0.95),
            (RiskCategory.OVERDOSE_MEDICAL, 0.96, 0.90),
            (RiskCategory.SEXUAL_VIOLENCE, 0.94, 0.95),
            (RiskCategory.FORCED_MARRIAGE_HONOUR, 0.91, 0.95),
        ],
    )
    def test_per_category(
        self, report: Report, category: RiskCategory, recall: float, precision: float
    ) -> None:
        score = report.by_category[category]
        assert (score.recall or 0) >= recall
        assert (score.precision or 0) >= precision

    @pytest.mark.parametrize("language", ["en", "pl", "ar", "ur", "bn", "pa"])
    def test_high_or_above_recall_per_language(
        self, examples: list[Example], language: str
    ) -> None:
        subset = evaluate(e for e in examples if e.language == language)
        assert (subset.high_or_above.recall or 0) >= 0.95, language


class TestReport:
    def test_the_report_lists_what_was_missed(self) -> None:
        examples = [
            parse_example('{"text": "I want to die", "level": "high", '
                          '"categories": ["suicide_self_harm"]}', 1),
            parse_example('{"text": "a quiet sadness", "language": "en", "level": "imminent", '
                          '"categories": ["suicide_self_harm"]}', 2),
            parse_example('{"text": "nice day", "level": "none", "categories": []}', 3),
        ]  # fmt: skip
        report = evaluate(examples)
        assert report.high_or_above.recall == 0.5
        assert [o.example.line for o in report.missed] == [2]
        text = format_report(report)
        assert "line 2 [en] expected imminent, got none (-): a quiet sadness" in text
        assert "suicide_self_harm" in text

    @pytest.mark.parametrize(
        ("line", "problem"),
        [
            ("{", "not JSON"),
            ("[]", "must be a JSON object"),
            ('{"level": "none", "categories": []}', "'text' must be a non-empty string"),
            ('{"text": "x", "language": 3, "level": "none"}', "'language' must be"),
            ('{"text": "x", "level": "awful", "categories": []}', "bad level or category"),
            ('{"text": "x", "level": "high", "categories": ["sad"]}', "bad level or category"),
            ('{"text": "x", "level": "high", "categories": []}', "level high needs at least one"),
            ('{"text": "x", "level": "low", "categories": []}', "level low needs at least one"),
        ],
    )
    def test_bad_lines_are_refused_with_their_number(self, line: str, problem: str) -> None:
        with pytest.raises(EvalSetError, match=f"line 7: .*{problem}"):
            parse_example(line, 7)

    def test_a_safe_line_about_a_topic_is_a_mention(self) -> None:
        """The blind set labels a safe message with the topic it is about and level none: it
        is scored as a mention (low), safe, whose alert would be a false one."""
        example = parse_example(
            '{"text": "x", "level": "none", "categories": ["sexual_violence"]}', 7
        )
        assert example.level is RiskLevel.LOW
        assert example.main_category is RiskCategory.SEXUAL_VIOLENCE

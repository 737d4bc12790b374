"""The helpline card and the staff alert carry what each person needs, and no more."""

from __future__ import annotations

from moderation.alerts import helplines_event, risk_summary
from moderation.directory import load_default_directory
from moderation.pipeline import MessageContext, check
from moderation.risk import assess


def test_imminent_danger_puts_999_and_the_silent_solution_first() -> None:
    risk = assess("he is outside the door with a knife right now", "en")
    card = helplines_event(load_default_directory(), risk, "england", "en")
    assert card["level"] == "imminent"
    names = [h["name"] for h in card["helplines"]]
    assert card["helplines"][0]["emergency"] is True
    assert any("Domestic Abuse" in n for n in names)
    assert any(
        "55" in c["value"] or "55" in (c.get("note") or "")
        for h in card["helplines"]
        for c in h["contacts"]
    )


def test_the_staff_summary_names_the_words_that_raised_it() -> None:
    verdict = check(
        "i want to kill myself tonight", MessageContext("conversation", "visitor", "en", now=0.0)
    )
    summary = risk_summary(verdict)
    assert summary["level"] in ("high", "imminent")
    assert "suicide_self_harm" in summary["categories"]
    assert summary["phrases"]

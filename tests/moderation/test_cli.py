"""`python -m moderation` run as a real process, as an operator would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def output_lines(result: subprocess.CompletedProcess[bytes]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


class TestAssess:
    def test_one_json_line_out_for_each_line_in(self) -> None:
        stdin = "\n".join(
            [
                json.dumps({"text": "I want to kill myself tonight"}),
                json.dumps({"text": "Chcę się zabić", "language": "pl"}),
                json.dumps({"text": "dying to see the film", "language": None}),
                json.dumps({"text": "my husband hits me", "language": "en", "extra": 1}),
            ]
        ).encode("utf-8")
        result = run("assess", stdin=stdin)
        assert result.returncode == 0, result.stderr
        suicide, abuse = ["suicide_self_harm"], ["domestic_abuse_danger"]
        assert output_lines(result) == [
            {"level": "imminent", "categories": suicide, "alert": True, "stance": "current"},
            {"level": "high", "categories": suicide, "alert": True, "stance": "current"},
            {"level": "none", "categories": [], "alert": False, "stance": "none"},
            {"level": "high", "categories": abuse, "alert": True, "stance": "current"},
        ]

    def test_a_mention_is_a_note_and_earlier_messages_make_one_situation(self) -> None:
        stdin = "\n".join(
            [
                json.dumps({"text": "i would never hurt myself, just need to vent"}),
                json.dumps({"text": "zabije mnie ta nuda haha", "language": "pl"}),
                json.dumps({"text": "doing it tonight"}),
                json.dumps({"text": "doing it tonight", "previous": ["been saving my tablets up"]}),
                json.dumps({"text": "hi", "previous": "not a list"}),
            ]
        ).encode("utf-8")
        result = run("assess", stdin=stdin)
        assert result.returncode == 1
        never, joke, alone, together, bad = output_lines(result)
        assert (never["level"], never["alert"], never["stance"]) == ("low", False, "negated")
        assert (joke["alert"], joke["stance"]) == (False, "joke")
        assert (alone["level"], alone["alert"]) == ("none", False)
        assert (together["level"], together["alert"]) == ("imminent", True)
        assert together["categories"] == ["suicide_self_harm", "overdose_medical"]
        assert bad == {"error": '"previous" must be an array of strings', "line": 5}

    def test_bad_lines_are_reported_and_the_rest_still_graded(self) -> None:
        lines = [
            b"{not json",
            b"[1, 2]",
            b'{"language": "en"}',
            b'{"text": 42}',
            b'{"text": "he hit me", "language": 5}',
            b"",
            "caf\u00e9".encode("latin-1"),
            json.dumps({"text": "he hit me"}).encode("utf-8"),
        ]
        result = run("assess", stdin=b"\n".join(lines) + b"\n")
        assert result.returncode == 1
        out = output_lines(result)
        assert len(out) == len(lines)
        assert [o.get("line") for o in out[:-1]] == [1, 2, 3, 4, 5, 6, 7]
        assert all("error" in o for o in out[:-1])
        assert "not valid JSON" in str(out[0]["error"])
        assert "expected a JSON object, got an array" in str(out[1]["error"])
        assert 'missing "text"' in str(out[2]["error"])
        assert '"text" must be a string, got a number' in str(out[3]["error"])
        assert '"language" must be a string or null' in str(out[4]["error"])
        assert "empty line" in str(out[5]["error"])
        assert "not UTF-8" in str(out[6]["error"])
        assert out[7]["level"] == "high"
        assert out[7]["categories"] == ["domestic_abuse_danger"]

    def test_odd_text_inside_valid_json(self) -> None:
        lines = [
            json.dumps({"text": "a\ud800b\x00c"}),  # lone surrogate, NUL
            json.dumps({"text": ""}),
            json.dumps({"text": "x" * 200_000}),
        ]
        result = run("assess", stdin="\n".join(lines).encode("utf-8"))
        assert result.returncode == 0, result.stderr
        none = {"level": "none", "categories": [], "alert": False, "stance": "none"}
        assert output_lines(result) == [none] * 3

    def test_empty_input_is_fine(self) -> None:
        result = run("assess")
        assert result.returncode == 0
        assert result.stdout == b""

    def test_a_broken_lexicon_directory_stops_with_a_clear_message(self, tmp_path: Path) -> None:
        (tmp_path / "bad.yaml").write_text("language: en\nentries: [{level: high}]\n")
        result = run(
            "assess",
            stdin=b'{"text": "hi"}\n',
            env={"WILLOW_LEXICON_DIR": str(tmp_path)},
        )
        assert result.returncode == 2
        assert b"bad.yaml: entry 1" in result.stderr


class TestEvaluate:
    def test_prints_precision_recall_and_missed_danger(self, tmp_path: Path) -> None:
        examples = [
            {"text": "I want to die", "language": "en", "level": "high",
             "categories": ["suicide_self_harm"]},
            {"text": "he has been so nice", "language": "en", "level": "none", "categories": []},
            {"text": "the quiet sadness of it", "language": "en", "level": "high",
             "categories": ["suicide_self_harm"]},
        ]  # fmt: skip
        path = tmp_path / "set.jsonl"
        path.write_text("\n".join(json.dumps(e) for e in examples) + "\n", encoding="utf-8")
        result = run("evaluate", str(path))
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode("utf-8")
        assert "high or above: recall 50.0%  precision 100.0%" in text
        assert "suicide_self_harm" in text
        assert "missed high/imminent (1):" in text
        assert "line 3 [en] expected high, got none (-): the quiet sadness of it" in text

    def test_the_default_set_runs(self) -> None:
        result = run("evaluate")
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode("utf-8")
        assert "heldout.jsonl" in text and "tuning.jsonl" in text
        assert "danger found" in text and "safe alerting" in text
        assert "ur-Latn" in text and "pa-Arab" in text
        assert "high or above: recall" in text

    def test_a_bad_set_is_refused_with_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "set.jsonl"
        path.write_text('{"text": "x", "level": "severe", "categories": []}\n')
        result = run("evaluate", str(path))
        assert result.returncode == 2
        assert b"line 1: bad level or category" in result.stderr

    def test_a_missing_set(self, tmp_path: Path) -> None:
        result = run("evaluate", str(tmp_path / "nope.jsonl"))
        assert result.returncode == 2
        assert b"cannot read" in result.stderr


def test_no_command_shows_usage() -> None:
    result = run()
    assert result.returncode == 2
    assert b"assess" in result.stderr
    assert b"evaluate" in result.stderr


class TestLearnedLayer:
    """With WILLOW_LEARNED_RISK=on (the server's default) the commands read as the server
    acts: the rules and the learned layer together."""

    ON: ClassVar[dict[str, str]] = {"WILLOW_LEARNED_RISK": "on"}

    def test_assess_one_message_gives_the_combined_verdict_and_the_learned_one(self) -> None:
        missed = "he said next time he'll make sure i never wake up"
        rules_only = run("assess", missed, "--language", "en")
        (alone,) = output_lines(rules_only)
        assert alone["alert"] is False and "learned" not in alone
        result = run("assess", missed, "--language", "en", env=self.ON)
        assert result.returncode == 0, result.stderr
        (both,) = output_lines(result)
        assert both["alert"] is True and both["level"] == "high"
        assert both["categories"] == ["domestic_abuse_danger"]
        learned = both["learned"]
        assert isinstance(learned, dict)
        assert learned["flagged"] is True and learned["added"] is True

    def test_a_negated_mention_stays_a_note_whatever_the_model_says(self) -> None:
        result = run("assess", "I would never hurt myself, I have my girls", env=self.ON)
        (verdict,) = output_lines(result)
        assert verdict["alert"] is False and verdict["stance"] == "negated"
        learned = verdict["learned"]
        assert isinstance(learned, dict) and learned["added"] is False

    def test_evaluate_reports_the_rules_the_learned_layer_and_both(self, tmp_path: Path) -> None:
        path = tmp_path / "set.jsonl"
        lines = [
            {"text": "he said next time he'll make sure i never wake up", "language": "en",
             "level": "high", "categories": ["domestic_abuse_danger"]},
            {"text": "thanks, see you tomorrow", "language": "en", "level": "none",
             "categories": []},
        ]  # fmt: skip
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        result = run("evaluate", str(path), env=self.ON)
        assert result.returncode == 0, result.stderr
        text = result.stdout.decode("utf-8")
        rules, learned_part = text.split("the learned layer alone")
        learned, both = learned_part.split("the rules and the learned layer together")
        assert _all_row(rules) == ["0/1", "0%", "0/1", "0%"]
        assert _all_row(learned) == ["1/1", "100%", "0/1", "0%"]
        assert _all_row(both) == ["1/1", "100%", "0/1", "0%"]

    def test_a_broken_head_file_is_named(self, tmp_path: Path) -> None:
        broken = tmp_path / "head.npz"
        broken.write_text("not a head")
        code = (
            "import sys, moderation.learned as m, pathlib;"
            f"m.HEAD_FILE = pathlib.Path({str(broken)!r});"
            "from moderation.__main__ import main; sys.exit(main(['assess', 'hello']))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            cwd=ROOT,
            env={**os.environ, **self.ON},
            timeout=120,
            check=False,
        )
        assert result.returncode == 2
        assert (
            b"learned layer:" in result.stderr and b"cannot read the learned head" in result.stderr
        )


def _all_row(report: str) -> list[str]:
    """The figures of the scorecard's first "all" row: found, share, false alerts, share."""
    row = next(line for line in report.splitlines() if line.startswith("all "))
    return row.split()[1:]

"""The situations' search and the speller read what they read before they were made faster:
a rule needs every part present in a language read, parts may come from two languages, and
the speller changes only the words it respells."""

from __future__ import annotations

from pathlib import Path

from moderation.lexicon import Lexicon
from moderation.situations import Situations, load_situations
from moderation.variants import Speller

_FILE = """\
parts:
  who:
    en: ["(baby|child)"]
    ur: ["bacha"]
  leave:
    en: ["left"]
    ur: ["chhor"]
  alone:
    en: ["alone"]
  score:
    en: ["to score"]
rules:
  - {name: left alone, category: child_safeguarding, level: low, window: 6,
     parts: [who, leave, alone]}
  - {name: left to score, category: child_safeguarding, level: high, window: 8,
     parts: [who, leave, score]}
"""


def _situations(tmp_path: Path) -> Situations:
    path = tmp_path / "situations.yaml"
    path.write_text(_FILE, encoding="utf-8")
    return load_situations(path)


def _names(situations: Situations, text: str, languages: tuple[str, ...]) -> list[str]:
    return [found.rule.name for found in situations.find(text, languages)]


def test_every_rule_found_in_file_order(tmp_path: Path) -> None:
    situations = _situations(tmp_path)
    text = "i left the baby alone to score"
    assert _names(situations, text, ("en",)) == ["left alone", "left to score"]


def test_a_part_in_a_language_not_read_does_not_count(tmp_path: Path) -> None:
    situations = _situations(tmp_path)
    text = "bacha ko chhor ke alone"
    assert _names(situations, text, ("en",)) == []
    assert _names(situations, text, ("ur", "en")) == ["left alone"]
    # The same situations asked again with other languages: nothing kept from the last ask.
    assert _names(situations, text, ("en",)) == []


def test_parts_from_two_languages_and_a_missing_part(tmp_path: Path) -> None:
    situations = _situations(tmp_path)
    assert _names(situations, "bacha left alone", ("ur", "en")) == ["left alone"]
    assert _names(situations, "the baby was left with her gran", ("en",)) == []
    # Every part present but too far apart for the window.
    far = "the baby " + "and then " * 5 + "i left her alone"
    assert _names(situations, far, ("en",)) == []


def test_the_speller_changes_only_the_words_it_respells() -> None:
    speller = Speller({"en": Lexicon("en")}, extra_words={"tonight", "pills"})
    assert speller.spell("going out 2nite, ok? 2nite!") == "going out tonight, ok? tonight!"
    assert speller.spell("  pilss,,  and  more ") == "  pills,,  and  more "
    unchanged = "nothing here to change, really."
    assert speller.spell(unchanged) == unchanged
    assert speller.spell("") == ""

"""The rules-based risk detector: levels, categories, context, evasions, lexicon files."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from moderation.lexicon import LexiconError, load_lexicons, parse_pattern
from moderation.risk import (
    Classifier,
    RuleDetector,
    assess,
    combine,
    default_detector,
    stacked,
)
from moderation.types import NO_RISK, RiskAssessment, RiskCategory, RiskLevel, RiskMatch

S = RiskCategory.SUICIDE_SELF_HARM
D = RiskCategory.DOMESTIC_ABUSE_DANGER
C = RiskCategory.CHILD_SAFEGUARDING
OD = RiskCategory.OVERDOSE_MEDICAL
X = RiskCategory.SEXUAL_VIOLENCE
F = RiskCategory.FORCED_MARRIAGE_HONOUR
NONE, LOW, HIGH, IMMINENT = RiskLevel.NONE, RiskLevel.LOW, RiskLevel.HIGH, RiskLevel.IMMINENT


def grade(text: str, language: str | None = None) -> tuple[RiskLevel, set[RiskCategory]]:
    result = assess(text, language)
    return result.level, set(result.categories)


class TestPlainDanger:
    @pytest.mark.parametrize(
        ("text", "category"),
        [
            ("I want to kill myself", S),
            ("my husband hits me when he's drunk", D),
            ("my stepdad touches my daughter", C),
            ("I mixed my methadone with vodka and diazepam", OD),
            ("he raped me", X),
            ("my parents are forcing me to marry my cousin", F),
        ],
    )
    def test_each_category_is_high(self, text: str, category: RiskCategory) -> None:
        level, categories = grade(text)
        assert level is HIGH
        assert category in categories

    def test_matches_show_the_phrase_to_staff(self) -> None:
        result = assess("honestly I want to kill myself")
        assert RiskMatch(S, HIGH, "kill myself") in result.matches
        assert result.flagged

    @pytest.mark.parametrize(
        "text",
        [
            "I've taken 30 paracetamol",
            "he's outside the door banging on it",
            "he has a knife",
            "I've got the pills in front of me",
            "she's not breathing and her lips are going blue",
        ],
    )
    def test_happening_now_is_imminent(self, text: str) -> None:
        assert assess(text).level is IMMINENT

    def test_an_imminence_marker_raises_high_to_imminent(self) -> None:
        assert assess("I want to die").level is HIGH
        assert assess("I want to die tonight").level is IMMINENT
        assert assess("he said he'll kill me").level is HIGH
        assert assess("he said he'll kill me right now").level is IMMINENT

    def test_an_imminence_marker_alone_is_nothing(self) -> None:
        assert assess("I'm going out tonight, see you tomorrow").level is NONE


class TestContext:
    @pytest.mark.parametrize(
        "text",
        [
            "I'm not going to kill myself",
            "I would never kill myself, I have my kids",
            "I don't want to die, I want things to get better",
        ],
    )
    def test_negated_first_person_drops_to_low(self, text: str) -> None:
        assert grade(text) == (LOW, {S})

    def test_negation_in_another_clause_does_not_count(self) -> None:
        assert assess("im not ok i want to die").level is HIGH
        assert assess("I'm not sure why, but I want to die").level is HIGH

    def test_negated_imminent_is_low(self) -> None:
        assert assess("I'm not going to kill myself tonight").level is LOW

    def test_polish_negation(self) -> None:
        assert grade("Nie chcę się zabić", "pl") == (LOW, {S})
        assert grade("Chcę się zabić", "pl") == (HIGH, {S})

    def test_negation_after_the_verb_in_bengali_and_urdu(self) -> None:
        assert assess("আমি মরতে চাই না", "bn").level is LOW
        assert assess("আমি মরতে চাই", "bn").level is HIGH
        assert assess("main marna nahi chahti", "ur").level is LOW
        assert assess("main marna chahti hoon", "ur").level is HIGH

    def test_someone_elses_suicidal_feelings_are_one_level_lower(self) -> None:
        assert grade("my friend said she wants to die") == (LOW, {S})
        assert grade("my sister keeps talking about killing herself") == (LOW, {S})
        assert assess("my friend says she'll kill herself tonight").level is HIGH

    def test_reported_danger_to_a_child_keeps_its_level(self) -> None:
        level, categories = grade("my daughter says her dad hits her")
        assert level is HIGH
        assert C in categories
        assert categories <= {C, D}

    def test_a_reported_threat_against_her_keeps_its_level(self) -> None:
        assert grade("he said he will kill me") == (HIGH, {D})

    def test_a_friends_overdose_is_still_an_emergency(self) -> None:
        level, categories = grade("my friend has taken loads of pills and won't wake up")
        assert level is IMMINENT
        assert OD in categories

    def test_the_past_is_low(self) -> None:
        assert grade("I tried to kill myself when I was 19") == (LOW, {S})
        assert grade("my ex used to beat me") == (LOW, {D})

    @pytest.mark.parametrize(
        "text",
        [
            "I used to drink a lot",
            "dying to see the film",
            "this traffic is killing me",
            "harm reduction tips for using safely",
            "I took 2 paracetamol for my headache",
            "my back is killing me",
            "Does Rape Crisis do phone counselling?",
            "I cut myself shaving lol",
            "I'm dying for a cuppa",
            "bhook se mar rahi hoon",
            "بموت فيك",
            "",
        ],
    )
    def test_everyday_talk_is_not_flagged(self, text: str) -> None:
        assert assess(text) == NO_RISK

    def test_a_bare_mention_is_low(self) -> None:
        assert grade("how do I avoid an overdose at a festival?") == (LOW, {OD})


class TestEvasionsAndTypos:
    @pytest.mark.parametrize(
        "text",
        [
            "I want to k\u200bi\u200bll myself",  # zero-width spaces
            "I want to kіll mysеlf",  # Cyrillic і and е
            "I want to k1ll mys3lf",  # leetspeak
            "I want to k i l l myself",  # spaced letters
            "I want to k.i.l.l myself",  # dotted letters
            "\u202eI want to kill myself\u202c",  # right-to-left override
            "I W A N T T O K I L L M Y S E L F",  # everything spaced out
            "I want to 𝐤𝐢𝐥𝐥 myself",  # mathematical bold letters
        ],
    )
    def test_evasions_grade_like_the_plain_text(self, text: str) -> None:
        assert grade(text) == (HIGH, {S})

    @pytest.mark.parametrize(
        ("text", "category"),
        [
            ("I want to commit sucide", S),
            ("i feel suisidal", S),
            ("my husbnad hits me", D),
            ("he strangeled me last night", D),
        ],
    )
    def test_one_typo_in_a_longer_word_is_tolerated(
        self, text: str, category: RiskCategory
    ) -> None:
        level, categories = grade(text)
        assert level is HIGH
        assert category in categories

    def test_typos_are_not_imagined_in_real_words(self) -> None:
        assert assess("my husband slapped me").level is HIGH  # not read as "slipped"
        assert assess("he looked me in the eye and lied").level is NONE

    def test_i_think_i_overdoes(self) -> None:
        level, categories = grade("i think i overdoes on my meds")
        assert level is IMMINENT
        assert categories == {OD}


class TestLanguages:
    def test_each_language_has_its_own_lexicon(self) -> None:
        cases = {
            "pl": "Mąż mnie bije",
            "ar": "زوجي يضربني كل يوم",
            "ur": "میرا شوہر مجھے مارتا ہے",
            "pa": "ਮੇਰਾ ਘਰਵਾਲਾ ਮੈਨੂੰ ਮਾਰਦਾ ਹੈ",
            "bn": "আমার স্বামী আমাকে মারে",
        }
        for language, text in cases.items():
            assert grade(text, language) == (HIGH, {D}), language

    def test_romanised_urdu_and_punjabi(self) -> None:
        assert grade("mera shohar mujhe maarta hai", "ur") == (HIGH, {D})
        assert grade("mera pati menu roz kutda aa", "pa") == (HIGH, {D})

    def test_without_a_language_every_lexicon_is_read(self) -> None:
        assert grade("Chcę się zabić") == (HIGH, {S})
        assert grade("آج رات میں خودکشی کر لوں گی")[0] is IMMINENT

    def test_english_is_read_alongside_the_chosen_language(self) -> None:
        assert grade("mera husband says he will kill me", "ur") == (HIGH, {D})

    def test_danger_in_another_language_than_her_page_is_still_read(self) -> None:
        # She may choose one language and write in another, or in romanised Urdu.
        assert assess("Chcę się zabić", "ar").level is HIGH
        assert assess("أريد أن أموت الليلة", "en").level is IMMINENT
        assert assess("main khud ko khatam karna chahti hoon aaj raat", "en").level is IMMINENT

    def test_language_codes_are_tolerant(self) -> None:
        assert assess("Chcę się zabić", "PL").level is HIGH
        assert assess("I want to die", "en-GB").level is HIGH
        assert assess("Chcę się zabić", "xx").level is HIGH  # unknown: read everything


class TestBadInput:
    @pytest.mark.parametrize(
        "text",
        [
            "",
            "   \n\t ",
            "\x00\x01\x02\x1b[31m",
            "a\ud800b\udfffc",
            "\ufeff\u200b\u202e\u2066",
            "mixed 漢字 Ελληνικά русский עברית हिन्दी 😀 text",
        ],
    )
    def test_odd_text_gives_no_risk_and_never_raises(self, text: str) -> None:
        assert assess(text) == NO_RISK

    def test_danger_is_still_found_among_nuls_and_control_characters(self) -> None:
        assert assess("I want to\x00 kill\x07 myself\x1b").level is HIGH

    def test_danger_with_a_lone_surrogate_nearby(self) -> None:
        assert assess("\ud800 I want to kill myself").level is HIGH

    def test_a_megabyte_message_is_handled_quickly(self) -> None:
        text = "I am fine, just chatting. " * 40_000 + "I want to kill myself"
        assert len(text) > 1_000_000
        started = time.perf_counter()
        result = assess(text)
        assert time.perf_counter() - started < 10
        assert result.level is HIGH

    def test_a_megabyte_of_one_repeated_phrase_is_bounded(self) -> None:
        text = "he hit me " * 100_000
        started = time.perf_counter()
        result = assess(text)
        assert time.perf_counter() - started < 10
        assert result.level is HIGH
        assert len(result.matches) <= 20

    def test_a_megabyte_without_spaces(self) -> None:
        assert assess("kill" * 250_000).level is NONE


class TestPatternSyntax:
    def test_word_gaps(self) -> None:
        pattern = parse_pattern("kill {0,2} me")
        assert pattern.search("kill me")
        assert pattern.search("kill you and me")
        assert not pattern.search("kill a b c me")

    def test_alternatives_optional_words_and_prefixes(self) -> None:
        pattern = parse_pattern("(end|take) [my own] life*")
        for text in ("end life", "take my own life", "end lifes"):
            assert pattern.search(text), text
        assert not pattern.search("spend life")

    def test_whole_words_only(self) -> None:
        pattern = parse_pattern("rape")
        assert pattern.search("rape")
        assert not pattern.search("grape")
        assert not pattern.search("rapeseed")

    def test_numbers(self) -> None:
        pattern = parse_pattern("took ## pills")
        assert pattern.search("took 30 pills")
        assert not pattern.search("took 2 pills")

    def test_patterns_are_normalised_like_messages(self) -> None:
        assert parse_pattern("don't want to live").search("dont want to live")
        assert parse_pattern("zabić się").search("zabic sie")

    @pytest.mark.parametrize(
        ("source", "problem"),
        [
            ("(kill|end myself", "missing ')'"),
            ("kill) myself", "unexpected ')'"),
            ("kill {2,1} me", "bad word gap"),
            ("kill {x} me", "bad word gap"),
            ("(|kill) me", "empty alternative"),
            ("[maybe]", "no required word"),
            ("kill ? me", "bad word"),
            ("", "empty"),
        ],
    )
    def test_bad_syntax_is_explained(self, source: str, problem: str) -> None:
        with pytest.raises(ValueError, match=re.escape(problem)):
            parse_pattern(source)


GOOD_FILE = """
language: en
entries:
  - category: sexual_violence
    level: high
    patterns: ["purple elephant"]
"""


class TestLexiconFiles:
    def test_extra_directory_adds_entries(self, tmp_path: Path) -> None:
        (tmp_path / "local.yaml").write_text(GOOD_FILE, encoding="utf-8")
        assert assess("the purple elephant again") == NO_RISK
        detector = default_detector(tmp_path)
        found = detector.assess("the purple elephant again")
        assert (found.level, set(found.categories)) == (HIGH, {X})
        assert detector.assess("I want to kill myself").level is HIGH  # built-ins still there

    def test_extra_directory_can_add_a_new_language(self, tmp_path: Path) -> None:
        (tmp_path / "fr.yaml").write_text(
            "language: fr\nentries:\n  - category: suicide_self_harm\n    level: high\n"
            "    patterns: ['je veux mourir']\n",
            encoding="utf-8",
        )
        detector = RuleDetector(load_lexicons(tmp_path))
        assert detector.assess("je veux mourir", "fr").level is HIGH
        assert "fr" in detector.languages

    def test_missing_extra_directory_is_an_error(self, tmp_path: Path) -> None:
        with pytest.raises(LexiconError, match=r"nope.*not found"):
            default_detector(tmp_path / "nope")

    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            ("language: en\nentries: [\n", "not valid YAML"),
            ("- just\n- a list\n", "must be a mapping"),
            ("entries: []\n", "'language' must be a language code"),
            ("language: en\nentrys: []\n", "unknown key.*entrys"),
            ("language: en\nentries: {}\n", "'entries' must be a list"),
            (
                "language: en\nentries:\n  - category: sadness\n    level: high\n"
                "    patterns: ['x y']\n",
                r"entry 1 \('x y'\): category 'sadness' is not one of",
            ),
            (
                "language: en\nentries:\n  - category: suicide_self_harm\n    level: severe\n"
                "    patterns: ['x y']\n",
                r"entry 1 \('x y'\): level 'severe' is not one of low, high, imminent",
            ),
            (
                "language: en\nentries:\n  - category: suicide_self_harm\n    level: high\n"
                "    patterns: []\n",
                "entry 1: 'patterns' must be a non-empty list",
            ),
            (
                "language: en\nentries:\n  - category: suicide_self_harm\n    level: high\n"
                "    patterns: ['ok words', '(broken']\n",
                r"entry 1 \('ok words'\): pattern '\(broken': missing '\)'",
            ),
            (
                "language: en\nentries:\n  - category: suicide_self_harm\n    level: high\n"
                "    pattern: ['x']\n",
                "unknown key.*pattern",
            ),
            (
                "language: en\nentries:\n  - category: suicide_self_harm\n    level: high\n"
                "    about: them\n    patterns: ['x y']\n",
                "about 'them' must be 'self' or 'other'",
            ),
            ("language: en\nnegation: not\n", "'negation' must be a list of words"),
            ("language: en\nnegation_window: many\n", "'negation_window' must be a whole"),
            ("language: en\nimminent: ['now (']\n", r"imminent: pattern 'now \(': missing"),
        ],
    )
    def test_malformed_file_names_file_entry_and_problem(
        self, tmp_path: Path, content: str, expected: str
    ) -> None:
        path = tmp_path / "broken.yaml"
        path.write_text(content, encoding="utf-8")
        with pytest.raises(LexiconError, match=expected) as caught:
            load_lexicons(tmp_path)
        assert "broken.yaml" in str(caught.value)

    def test_a_file_that_is_not_utf8(self, tmp_path: Path) -> None:
        (tmp_path / "latin1.yaml").write_bytes("language: pl\nnegation: [ża]\n".encode("cp1250"))
        with pytest.raises(LexiconError, match=r"latin1\.yaml: not UTF-8"):
            load_lexicons(tmp_path)

    def test_the_built_in_files_load(self) -> None:
        lexicons = load_lexicons()
        assert set(lexicons) == {"en", "pl", "ar", "ur", "bn", "pa"}
        assert all(lexicon.entries for lexicon in lexicons.values())


class _Fixed:
    """A stand-in for a classifier trained offline: always gives the same opinion."""

    def __init__(self, result: RiskAssessment) -> None:
        self.result = result
        self.seen: list[tuple[str, str | None]] = []

    def assess(
        self, text: str, language: str | None, previous: Sequence[str] = ()
    ) -> RiskAssessment:
        self.seen.append((text, language))
        return self.result


class TestClassifierInterface:
    def test_combine_keeps_the_higher_level_and_every_category(self) -> None:
        rules = RiskAssessment(HIGH, (S,), (RiskMatch(S, HIGH, "want to die"),))
        extra = RiskAssessment(IMMINENT, (OD,), (RiskMatch(OD, IMMINENT, "model"),))
        combined = combine(rules, extra)
        assert combined.level is IMMINENT
        assert combined.categories == (OD, S)
        assert set(combined.matches) == set(rules.matches) | set(extra.matches)

    def test_combine_with_no_risk_changes_nothing(self) -> None:
        rules = assess("I want to die")
        assert combine(rules, NO_RISK) == rules
        assert combine(NO_RISK, NO_RISK) == NO_RISK

    def test_stacked_asks_the_rules_then_the_extra_classifier(self) -> None:
        extra = _Fixed(RiskAssessment(LOW, (D,), (RiskMatch(D, LOW, "model"),)))
        classifier: Classifier = stacked(extra)
        result = classifier.assess("I want to die", "en")
        assert extra.seen == [("I want to die", "en")]
        assert result.level is HIGH
        assert set(result.categories) == {S, D}

    def test_the_rules_are_a_classifier(self) -> None:
        rules: Classifier = RuleDetector(load_lexicons())
        assert rules.assess("he hit me", None).level is HIGH

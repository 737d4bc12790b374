"""The filter form (`normalise`) and the stored form (`strip_invisible`) of a message."""

from __future__ import annotations

import pytest

from moderation.normalize import normalise, strip_invisible


class TestStripInvisible:
    def test_removes_zero_width_characters_inside_a_word(self) -> None:
        assert strip_invisible("k\u200bi\u200cl\u200dl\u2060\ufeff") == "kill"

    def test_removes_direction_overrides_and_isolates(self) -> None:
        text = (
            "\u202eevil\u202c \u2066a\u2069 \u202ab\u202c \u202bc\u202c \u202dd\u202c \u2067e\u2068"
        )
        assert strip_invisible(text) == "evil a b c d e"

    def test_removes_control_characters_but_keeps_line_breaks_and_tabs(self) -> None:
        assert strip_invisible("a\x00b\x07c\x1bd\x7fe\x85\tf\ng") == "abcde\tf\ng"

    def test_carriage_returns_become_line_breaks(self) -> None:
        assert strip_invisible("one\r\ntwo\rthree") == "one\ntwo\nthree"

    def test_keeps_case_spelling_leet_and_punctuation(self) -> None:
        text = "I'm NOT ok... k1ll 3am sooooo"
        assert strip_invisible(text) == text

    def test_applies_nfkc(self) -> None:
        assert strip_invisible("ｆｕｌｌ𝐰𝐢𝐝𝐭𝐡 ﬁne") == "fullwidth fine"

    def test_lone_surrogates_become_replacement_characters(self) -> None:
        out = strip_invisible("a\ud800b\udfffc")
        assert out == "a\ufffdb\ufffdc"
        out.encode("utf-8")  # would raise if a surrogate survived

    def test_keeps_subdivision_flag_emoji_and_genuine_scripts(self) -> None:
        scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
        for text in (scotland, "আমি ভালো আছি", "ਮੈਂ ਠੀਕ ਹਾਂ", "میں ٹھیک ہوں", "zażółć"):
            assert strip_invisible(text) == text


class TestNormalise:
    def test_casefolds_and_collapses_whitespace(self) -> None:
        assert normalise("  I   Want\tTO\n\nDIE  ") == "i want to die"

    def test_zero_width_characters_cannot_split_a_word(self) -> None:
        assert normalise("k\u200bi\u200dl\u200cl my\ufeffself") == "kill myself"

    def test_rtl_override_is_removed(self) -> None:
        assert normalise("\u202ekill\u202c myself") == "kill myself"

    def test_cyrillic_and_greek_look_alikes_in_a_latin_word_become_latin(self) -> None:
        assert normalise("kіll mysеlf") == "kill myself"  # Cyrillic і and е
        assert normalise("ΚΙLL") == "kill"  # Greek capitals
        assert normalise("ѕuicide") == "suicide"  # Cyrillic dze

    def test_genuine_cyrillic_is_left_alone(self) -> None:
        assert normalise("Привет, как дела") == "привет, как дела"
        # a mixed word that has a Cyrillic letter with no Latin twin is not rewritten
        assert normalise("приветhello") == "приветhello"

    def test_genuine_arabic_bengali_and_gurmukhi_keep_their_letters(self) -> None:
        assert normalise("আমি মরতে চাই") == "আমি মরতে চাই"
        assert normalise("ਮੈਂ ਮਰਨਾ ਚਾਹੁੰਦੀ ਹਾਂ") == "ਮੈਂ ਮਰਨਾ ਚਾਹੁੰਦੀ ਹਾਂ"
        assert normalise("میں مرنا چاہتی ہوں") == normalise("ميں مرنا چاہتی ہوں")

    def test_arabic_vowel_marks_and_tatweel_are_dropped(self) -> None:
        assert normalise("أُرِيدُ") == normalise("اريد")
        assert normalise("مـــوت") == normalise("موت")

    def test_leetspeak_inside_latin_words(self) -> None:
        assert normalise("k1ll mys3lf") == "kill myself"
        assert normalise("0verd0se") == "overdose"
        assert normalise("$uicide @buse 5elf h4rm 7ablets") == "suicide abuse self harm tablets"

    def test_numbers_and_times_are_not_leetspeak(self) -> None:
        assert normalise("took 30 at 3am, 10mg each, 2nd time") == (
            "took 30 at 3am, 10mg each, 2nd time"
        )

    def test_spaced_out_letters_are_joined(self) -> None:
        assert normalise("i want to k i l l myself") == "i want to kill myself"
        assert normalise("d i e.") == "die."

    def test_dotted_and_hyphenated_letters_are_joined(self) -> None:
        assert normalise("k.i.l.l me") == "kill me"
        assert normalise("k-i-l-l") == "kill"
        assert normalise("s*u*i*c*i*d*e") == "suicide"

    def test_short_abbreviations_are_not_joined(self) -> None:
        assert normalise("e.g. r u ok") == "e.g. r u ok"

    def test_long_letter_runs_are_shortened(self) -> None:
        assert normalise("sooooo tiiiired") == "soo tiired"
        assert normalise("1000 pills") == "1000 pills"

    def test_apostrophes_vanish(self) -> None:
        assert normalise("I don\u2019t") == normalise("i dont") == "i dont"

    def test_latin_diacritics_are_folded(self) -> None:
        assert normalise("Chcę się zabić, źle") == "chce sie zabic, zle"
        assert normalise("k̸̢i̴l̷l̶") == "kill"  # stacked combining marks

    def test_lone_surrogates_do_not_raise(self) -> None:
        assert normalise("kill\ud800 me") == "kill\ufffd me"

    def test_nul_and_control_characters_are_removed(self) -> None:
        assert normalise("ki\x00ll\x07 me\x1b") == "kill me"

    @pytest.mark.parametrize("text", ["", " ", "\u200b\u200b", "\x00", "\n\n"])
    def test_empty_or_blank_input_gives_empty_string(self, text: str) -> None:
        assert normalise(text) == ""

    def test_a_megabyte_of_text_is_handled(self) -> None:
        text = ("k i l l " + "a" * 50 + " \u200b\x00 ") * 16_200
        assert len(text) > 1_000_000
        out = normalise(text)
        assert out.startswith("kill aa ")

    def test_is_idempotent_on_typical_messages(self) -> None:
        for text in ("I'm sooooo tired of it all", "k.i.l.l m3", "Nie chcę żyć", "আমি"):
            once = normalise(text)
            assert normalise(once) == once

"""Text normalisation for moderation.

Two forms of a message exist:

* `strip_invisible` gives the body that is stored and shown: characters a reader cannot see
  (zero-width, direction overrides, controls) are removed and Unicode is NFKC-normalised, but
  case, spelling and punctuation are left as she wrote them.
* `normalise` gives the form every filter checks. On top of the above it casefolds, folds
  Latin diacritics and Arabic-script letter variants, maps Cyrillic/Greek look-alikes and
  leetspeak inside Latin words, joins spaced-out or dotted letters, drops apostrophes
  ("don't" -> "dont") and shortens letter runs. Word lists must be passed through the same
  function so both sides agree.

Both are pure, total functions: any `str` (empty, huge, lone surrogates, NULs) gives a result.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_REPLACEMENT = "\ufffd"
# Lone surrogates cannot be encoded as UTF-8, so they would break storage and JSON later.
_SURROGATES = re.compile("[\ud800-\udfff]")

_INVISIBLE = [
    0x00AD,  # soft hyphen
    0x034F,  # combining grapheme joiner
    0x061C,  # Arabic letter mark
    0x180E,  # Mongolian vowel separator
    *range(0x200B, 0x2010),  # zero-width space/non-joiner/joiner, LRM, RLM
    *range(0x202A, 0x202F),  # embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x206A),  # isolates
    0xFEFF,  # byte-order mark / zero-width no-break space
]
_CONTROLS = [c for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A)]

_STRIP_TABLE: dict[int, str | None] = dict.fromkeys([*_INVISIBLE, *_CONTROLS])
_STRIP_TABLE[0x2028] = "\n"  # line separator
_STRIP_TABLE[0x2029] = "\n"  # paragraph separator


def _ascii_keys(table: dict[int, str | None]) -> re.Pattern[str]:
    """Finds the ASCII characters a translation table changes (a plain ASCII text without
    any of them would come out of `str.translate` as it went in)."""
    return re.compile("[" + re.escape("".join(chr(c) for c in table if c < 0x80)) + "]")


_STRIP_ASCII = _ascii_keys(_STRIP_TABLE)


def strip_invisible(text: str) -> str:
    """Remove invisible, control and direction-override characters; NFKC. Case is kept."""
    if text.isascii():
        # Most messages: no surrogate, nothing NFKC changes; only controls can go.
        if _STRIP_ASCII.search(text) is None:
            return text
    else:
        text = _SURROGATES.sub(_REPLACEMENT, text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_STRIP_TABLE)
    return unicodedata.normalize("NFKC", text)


# --- the filter form ---------------------------------------------------------------------

# Invisible in a filter's eyes though kept in the stored body (they matter for emoji).
_FILTER_DROP: list[int] = [
    *range(0xFE00, 0xFE10),  # variation selectors
    *range(0xE0000, 0xE0080),  # tag characters (subdivision flags)
    *range(0xE0100, 0xE01F0),  # variation selectors supplement
    0x115F,
    0x1160,
    0x3164,
    0xFFA0,  # Hangul fillers, blank "letters" used to pad words
    0x0640,  # Arabic tatweel (kashida), stretches a word without changing it
    *range(0x0610, 0x061B),
    *range(0x064B, 0x0660),
    0x0670,
    *range(0x06D6, 0x06DD),
    *range(0x06DF, 0x06E9),
    *range(0x06EA, 0x06EE),  # Arabic vowel marks and Quranic signs
]

_FILTER_MAP: dict[int, str | None] = dict.fromkeys(_FILTER_DROP)
_FILTER_MAP.update(
    {
        # Apostrophes vanish so "don't" and "dont" are one word.
        ord("'"): None,
        0x2018: None,
        0x2019: None,
        0x02BC: None,
        0x0060: None,
        0x00B4: None,
        # Latin letters that carry no decomposable accent.
        ord("ł"): "l",
        ord("Ł"): "l",
        ord("đ"): "d",
        ord("Đ"): "d",
        ord("ø"): "o",
        ord("Ø"): "o",
        ord("æ"): "ae",
        ord("Æ"): "ae",
        ord("œ"): "oe",
        ord("Œ"): "oe",
        ord("ı"): "i",
        # Arabic-script variants typed interchangeably on Arabic, Urdu and Persian keyboards.
        0x0622: "\u0627",
        0x0623: "\u0627",
        0x0625: "\u0627",
        0x0671: "\u0627",  # alef forms -> alef
        0x0649: "\u06cc",
        0x064A: "\u06cc",
        0x06D2: "\u06cc",
        0x06D3: "\u06cc",  # yeh forms -> Farsi/Urdu yeh
        0x0643: "\u06a9",  # Arabic kaf -> keheh
        0x0629: "\u0647",
        0x06C1: "\u0647",
        0x06C2: "\u0647",
        0x06C3: "\u0647",
        0x06C0: "\u0647",  # heh forms, ta marbuta -> heh
    }
)
_FILTER_ASCII = _ascii_keys(_FILTER_MAP)

# Cyrillic and Greek letters that look like Latin ones, both cases (applied before casefold).
_CONFUSABLE_PAIRS = (
    "аa АA вb ВB еe ЕE ёe Ёe кk КK мm МM нh НH оo ОO рp РP сc СC тt ТT уy УY хx ХX "
    "іi Іi їi Їi јj Јj ѕs Ѕs ԁd ӏl Ӏl ԛq ԝw һh Һh ьb үy Үy ɡg "
    "αa Αa βb Βb εe Εe ζz Ζz ηn Ηh ιi Ιi κk Κk μu Μm νv Νn οo Οo ρp Ρp τt Τt υu Υy χx Χx "
    "γy ωw"
)
_CONFUSABLES: dict[int, str] = {ord(pair[0]): pair[1] for pair in _CONFUSABLE_PAIRS.split()}
_CONFUSABLE_CLASS = "".join(chr(c) for c in _CONFUSABLES)

_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# A Cyrillic or Greek letter with no Latin twin shows the word is genuinely in that script.
_NON_CONFUSABLE_CYRILLIC_GREEK = re.compile(rf"[^\W\d_{_CONFUSABLE_CLASS}]")
_LATIN_MARKS = re.compile(rf"([A-Za-z{_CONFUSABLE_CLASS}])[\u0300-\u036f]+")

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_LEET_RUN = re.compile(r"[\w@$]+")
_LEET_BANG = re.compile(r"(?<=[a-z])!(?=[a-z])")
# Numbers with a unit ("3am", "10mg", "2nd") are not leetspeak.
_NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:[.,:]\d+)?(?:am|pm|mg|mcg|ml|g|kg|lb|lbs|st|nd|rd|th|s|x|k|m|h|hr|hrs|min|mins"
    r"|yo|yr|yrs|wk|wks|p|ish|ft|cm|mm|km|mph)?"
)

_SINGLE = r"(?:[^\W_]|[@$])"
_DOT_SEPARATORS = r"[.\-_*·•~+]"
_DOTTED = re.compile(rf"([^\w@$]*)({_SINGLE}(?:{_DOT_SEPARATORS}{_SINGLE}){{2,}})([^\w@$]*)")
_DOT_SEPARATOR = re.compile(_DOT_SEPARATORS)
_SPACED_CHAR = r"[a-zA-Z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff0-9@$]"
_SPACED_RUN = re.compile(rf"(?<!\S){_SPACED_CHAR}(?:\s+{_SPACED_CHAR}){{2,}}(?=[.,!?]*(?!\S))")
_WHITESPACE = re.compile(r"\s+")
# Most words need nothing beyond lower-casing; they skip the per-word work.
_PLAIN_WORD = re.compile(r"[A-Za-z]+[.,;:!?]?")
_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")


def normalise(text: str) -> str:
    """The form every filter checks: see the module docstring for each step."""
    # Limits, abuse and risk all read the same message: normalise it once, not three
    # times. Only chat-sized texts are remembered, so a flood of huge ones cannot pin
    # memory.
    if len(text) <= _CACHE_MAX_CHARS:
        return _normalise_cached(text)
    return _normalise(text)


def _normalise(text: str) -> str:
    text = strip_invisible(text)
    if not text.isascii() or _FILTER_ASCII.search(text) is not None:
        text = text.translate(_FILTER_MAP)
    text = _fold_latin_marks(text)
    words = text.split()
    if _two_single_letters(words):
        text = _SPACED_RUN.sub(_join_spaced_letters, text)
        words = text.split()
    out = " ".join([_WORDS.get(word) or _normalised_word(word) for word in words])
    if _has_a_run(out):
        out = _LETTER_RUN.sub(r"\1\1", out)
    return out


def _two_single_letters(words: list[str]) -> bool:
    """Whether two one-character words stand side by side: a spaced-out run ("k i l l")
    starts so, and most messages have none, so the run's pattern need not be searched."""
    single = False
    for word in words:
        if len(word) == 1:
            if single:
                return True
            single = True
        else:
            single = False
    return False


def _has_a_run(text: str) -> bool:
    """Whether any character appears three times in a row (a letter run needs that)."""
    return _THREE_IN_A_ROW.search(text) is not None


# Any character three times: one scan, far cheaper than `_LETTER_RUN`'s letter class.
_THREE_IN_A_ROW = re.compile(r"(.)\1\1", re.DOTALL)


# Words repeat from message to message: each one's filter form is remembered (bounded).
_WORDS: dict[str, str] = {}
_WORDS_KEPT = 50_000
_WORD_MAX_CHARS = 64


def _normalised_word(word: str) -> str:
    form = _normalise_word(word)
    if len(word) <= _WORD_MAX_CHARS:
        if len(_WORDS) >= _WORDS_KEPT:
            _WORDS.clear()
        _WORDS[word] = form
    return form


_CACHE_MAX_CHARS = 8_192
_normalise_cached = functools.lru_cache(maxsize=256)(_normalise)


def word_runs(text: str) -> frozenset[str]:
    """The runs of word characters (`\\w+`) in `text`: risk and abuse both read them from
    the same filter form, so they are found once (remembered for chat-sized texts)."""
    if len(text) <= _CACHE_MAX_CHARS:
        return _word_runs_cached(text)
    return frozenset(_WORD_RUN.findall(text))


_WORD_RUN = re.compile(r"\w+")


def ascii_words(text: str) -> tuple[str, ...]:
    """The runs of letters and digits of an ASCII text, lower-cased, in order: what language
    detection and the personal-details finders both read from a message as she wrote it
    (remembered for chat-sized texts). Only for ASCII text, where lower-casing keeps every
    letter a letter."""
    if len(text) <= _CACHE_MAX_CHARS:
        return _ascii_words_cached(text)
    return tuple(_ASCII_ALNUM_RUN.findall(text.lower()))


_ASCII_ALNUM_RUN = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=256)
def _ascii_words_cached(text: str) -> tuple[str, ...]:
    return tuple(_ASCII_ALNUM_RUN.findall(text.lower()))


@functools.lru_cache(maxsize=256)
def _word_runs_cached(text: str) -> frozenset[str]:
    return frozenset(_WORD_RUN.findall(text))


def fold_cue(expression: str) -> str:
    """A regular expression written in plain letters, folded as `normalise` folds a message.

    Case, Latin accents and Arabic-script letter variants are folded; regex syntax (all
    ASCII punctuation) is left alone, unlike `normalise`, which would read "$" as "s".
    """
    return _fold_latin_marks(expression.translate(_FILTER_MAP)).casefold()


def _fold_latin_marks(text: str) -> str:
    # Only marks on Latin (or look-alike) letters: Bengali and Gurmukhi vowel signs are
    # combining marks too and must stay.
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_MARKS.sub(r"\1", decomposed))


def _join_spaced_letters(match: re.Match[str]) -> str:
    """Join three or more one-letter words: "k i l l" -> "kill" (but not "1 2 3")."""
    run = match.group(0)
    if sum(1 for ch in run if ch.isalpha()) < 2:
        return run
    return _WHITESPACE.sub("", run)


def _normalise_word(word: str) -> str:
    if _PLAIN_WORD.fullmatch(word):
        return word.lower()
    dotted = _DOTTED.fullmatch(word)
    if dotted:
        word = dotted.group(1) + _DOT_SEPARATOR.sub("", dotted.group(2)) + dotted.group(3)
    latin = _LATIN.search(word) is not None
    if latin and not _has_foreign_letter(word):
        word = word.translate(_CONFUSABLES)
    word = word.casefold()
    if latin:
        word = _LEET_RUN.sub(_unleet, word)
        word = _LEET_BANG.sub("i", word)
    return word


def _has_foreign_letter(word: str) -> bool:
    return any(
        "\u0370" <= ch <= "\u04ff" and _NON_CONFUSABLE_CYRILLIC_GREEK.match(ch) for ch in word
    )


def _unleet(match: re.Match[str]) -> str:
    run = match.group(0)
    if _NUMBER_WITH_UNIT.fullmatch(run) or not _LATIN.search(run):
        return run
    return run.translate(_LEET)

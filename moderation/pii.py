"""Finding personal details in a message: phone numbers, e-mail, postcodes, addresses, handles
and, in rooms, people's full names.

Details are also found when written to slip past a filter or simply as people talk: a number
in words ("oh seven seven double oh nine..."), an e-mail spelled out ("fatima dot khan at
gmail dot com"), "insta is fatima.k92", an address in Urdu script ("مکان نمبر 12").

In a group room a woman may not realise that a number or street she types can identify
her (or be seen by someone who knows her), so the page asks before sending. The finders
lean towards catching real details, and each has guards against everyday phrases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import phonenumbers
from phonenumbers import Leniency, PhoneNumberType

from moderation.normalize import ascii_words
from moderation.types import PiiFinding, PiiKind

REDACTED = "[removed]"


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Numbers with fewer digits are years, prices and times far more often than phones.
_MIN_PHONE_DIGITS = 9
# Helplines and services are fine to share; only a person's own line is personal.
_SERVICE_NUMBER_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
        PhoneNumberType.PREMIUM_RATE,
    }
)
# "O7700 9OO123": letters standing in for digits inside a run that already has digits.
# Only runs with a digit can change (see `_letters_as_digits`); each is matched whole.
_DIGITISH_RUN = re.compile(r"[OoIl|]*[0-9][0-9OoIl|]*")
_FROM_A_DIGIT = re.compile(r"[0-9][0-9OoIl|]*")
_BEFORE_A_DIGIT = re.compile(r"[OoIl|]+(?=[0-9])")
_AS_DIGITS = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"})

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*\.[^\W\d_]{2,24}(?!\w)"
)
# "becky at gmail dot com": only with a common ending, so "at home dot" is left alone.
_AT = r"(?:\s*[(\[{]\s*at\s*[)\]}]\s*|\s+at\s+)"
_DOT = r"(?:\.|\s*[(\[{]\s*dot\s*[)\]}]\s*|\s+dot\s+)"
# Found wherever `_AT` can match (it needs "at" after a space or bracket and before one).
_AT_ALONE = re.compile(r"(?:\s|[(\[{])at(?:\s|[)\]}])", re.IGNORECASE)
_LOCAL_PART = rf"[\w+-][\w.+-]{{0,63}}(?:{_DOT}[\w+-]{{1,63}}){{0,3}}"
_EMAIL_SPELLED = re.compile(
    rf"(?<![\w.+-]){_LOCAL_PART}{_AT}[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}})*?"
    rf"{_DOT}(?:com|net|org|co{_DOT}uk|org{_DOT}uk|ac{_DOT}uk|uk|ie|pl|info|me)(?!\w)",
    re.IGNORECASE,
)
# "fatima.k92 at gmail": a well-known mail provider needs no ending to be an address.
_EMAIL_PROVIDER = re.compile(
    rf"(?<![\w.+-]){_LOCAL_PART}(?:{_AT}|@)"
    r"(?:gmail|googlemail|hotmail|outlook|yahoo|icloud|live|aol|protonmail|proton|btinternet"
    r"|sky|wp|onet|interia|o2)(?!\w)",
    re.IGNORECASE,
)

# Royal Mail formats A9 A99 AA9 AA99 A9A AA9A plus the inward code, with the letters each
# position may hold, which rules out most letter-digit jumbles such as "at10am".
_POSTCODE = re.compile(
    r"(?<![\w])(?:GIR\s?0AA|"
    r"[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRV-Y])"
    r"\s?[0-9][ABD-HJLNP-UW-Z]{2})(?!\w)",
    re.IGNORECASE,
)

_STREET_WORDS = (
    "street|st|road|rd|avenue|ave|lane|ln|close|drive|dr|way|crescent|cres|court|ct|place|"
    "gardens|gdns|grove|terrace|square|sq|mews|parade|row|hill|park|rise|vale|wharf|walk|green"
)
_ADDRESS = re.compile(
    r"(?<!\w)(?:(?:flat|apartment|apt|unit|room)\s*\d{1,4}[a-z]?\s*,?\s*)?"
    r"(\d{1,4}[a-z]?)\s*,?\s+"
    r"((?:[^\W\d_][\w'’.-]*\s+){1,3}?)"
    rf"(?:{_STREET_WORDS})\.?(?!\w)",
    re.IGNORECASE,
)
# Words that show "2 kids in the park" or "10 minute walk" are not an address.
_NOT_STREET_NAME = _word_set(
    """
    a an the my your his her our their its this that these those in on at to of for from by
    with and or but up down out off over near past into round around about times time
    minutes minute mins min hours hour hrs hr days day nights night weeks week weekends
    months month years year kids kid children child boys girls sons daughters babies people
    women men friends pills pill tablets drinks drink cans bottles lines bags grams units
    quid pounds miles mile metres meters yards steps step floors stops more less other
    different whole same long short big small little good bad safe last next first second
    third each every all some many few lots much very really just only also still walking
    driving away back home family magistrates crown county criminal youth bed bedroom
    is was are were be been being have has had do did go went get got i you he she we they
    """
)

_PLATFORM = (
    r"insta(?:gram)?|ig|snap(?:chat)?|sc|tik\s?tok|tt|twitter|fb|facebook|messenger|"
    r"telegram|discord|kik|threads|bluesky|signal|whatsapp|wa|skype|youtube|onlyfans|reddit"
)
# Where a handle pattern below could start: a platform's name, then what may follow it.
_PLATFORM_NAMED = re.compile(rf"\b(?:{_PLATFORM})(?=[\s:='’a])", re.IGNORECASE)
_HANDLE_NAME = r"(@?[^\W_][\w.]{1,29})"
_HANDLE_LABEL = r"(?:\s+(?:name|username|user\s?name|handle|id|account))?"
_HANDLE_PATTERNS = (
    re.compile(r"(?<![\w@.])(@[^\W\d][\w.]{1,29})"),
    re.compile(rf"\b(?:{_PLATFORM}){_HANDLE_LABEL}\s*[:=]\s*{_HANDLE_NAME}", re.IGNORECASE),
    re.compile(rf"\bmy\s+(?:{_PLATFORM}){_HANDLE_LABEL}\s+is\s+{_HANDLE_NAME}", re.IGNORECASE),
    # "insta is fatima.k92", "snap's fatimak": said without "my".
    re.compile(
        rf"\b(?:{_PLATFORM}){_HANDLE_LABEL}(?:\s+is|['’]s|\s+-)\s+{_HANDLE_NAME}", re.IGNORECASE
    ),
    re.compile(
        rf"\b(?:add|follow|find|message|dm)\s+me\s+on\s+(?:{_PLATFORM})\s*(?::|as)\s*"
        rf"{_HANDLE_NAME}",
        re.IGNORECASE,
    ),
)
# An address in Urdu script: "مکان نمبر 12", "گلی نمبر 4", "12 مین روڈ" (any digits).
_URDU_ADDRESS = re.compile(
    r"(?:(?:مکان|گھر|ہاؤس|ہاوس|فلیٹ|گلی|بلاک|سیکٹر|پلاٹ)\s*(?:نمبر|نمبر:|#)\s*\d{1,5}"
    r"|\d{1,5}\s*،?\s*(?:\S+\s+){0,2}?(?:روڈ|سڑک|اسٹریٹ|سٹریٹ|لین|ایونیو|کلوز|ڈرائیو|گارڈنز))"
)
_DIGIT = re.compile(r"\d")
# Every postcode ends with its inward code (GIR 0AA too): found fast, as it starts with a digit.
_POSTCODE_INWARD = re.compile(r"[0-9][ABD-HJLNP-UW-Z]{2}", re.IGNORECASE)
_STREET_WORD_SET = frozenset(_STREET_WORDS.split("|"))


def _platform_names(alternatives: str) -> frozenset[str]:
    """The whole words `_PLATFORM` can begin with: "insta(?:gram)?" gives insta and
    instagram, "tik\\s?tok" gives tiktok and tik (the word before the space)."""
    names: set[str] = set()
    for alternative in alternatives.split("|"):
        options = [alternative]
        if alternative.endswith(")?") and "(?:" in alternative:
            stem, _, rest = alternative.partition("(?:")
            options = [stem, stem + rest.removesuffix(")?")]
        for option in options:
            if "\\s?" in option:
                first, second = option.split("\\s?")
                names.update({first, first + second})
            else:
                names.add(option)
    if not all(name.isalpha() and name.islower() and name.isascii() for name in names):
        raise ValueError(f"_PLATFORM has a form the word test cannot read: {sorted(names)}")
    return frozenset(names)


_PLATFORM_WORDS = _platform_names(_PLATFORM)
# The look-ahead after the name is [\s:='’a]: inside a word only "a" can follow it.
_PLATFORM_STARTS = tuple(sorted(name + "a" for name in _PLATFORM_WORDS))
# Whether a word starts so, remembered: words repeat from message to message.
_PLATFORM_RUNS: dict[str, bool] = {}
_PLATFORM_RUNS_KEPT = 50_000


# Numbers said in words: a run of them as long as a phone number is one.
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "nil": "0", "one": "1", "two": "2",
    "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10",
}  # fmt: skip
_REPEATS = {"double": 2, "triple": 3, "treble": 3}
_NUMBER_TOKEN = re.compile(r"[^\W_]+|\d+", re.IGNORECASE)
# In ASCII text a number word is a whole run of letters and digits ("_" too ends one), so
# most messages show at once, by their words, that none is there.
_SPOKEN_WORD_SET = frozenset([*_DIGIT_WORDS, *_REPEATS])
# A person's full name after words that introduce one ("my husband is Imran Ali").
_NAME_WORD = r"[A-ZÀ-ÞŁŚŻŹĆŃÓ][\w'’-]{1,30}"
_NAME_CUES = (
    re.compile(
        r"\b(?:(?:my|his|her|their)\s+(?:full\s+|real\s+)?name\s+is|named|called|call\s+me)"
        r"\s+((?:[^\W\d_][\w'’-]{1,30})\s+(?:[^\W\d_][\w'’-]{1,30}))",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:i\s+am|i['’]m|im|this\s+is|husband|partner|ex|boyfriend|bf|girlfriend|dad|"
        r"father|mum|mother|brother|sister|son|daughter|uncle|aunt|cousin|stepdad|neighbour|"
        r"boss|abuser)(?:['’]s\s+name\s+is|\s+is|,)?\s+"
        rf"({_NAME_WORD}\s+{_NAME_WORD})",
        re.IGNORECASE,
    ),
)
_NOT_NAME = _word_set(
    """
    a an the my your his her our their not so very really just no yes ok okay fine good bad
    sorry scared afraid tired sad here there at in on and or but going gone safe home out
    monday tuesday wednesday thursday friday saturday sunday god allah english polish
    british muslim christian sikh hindu is was be been being it that this what who
    """
)

# After "my insta is ..." these describe the account rather than name it.
_NOT_HANDLE = _word_set(
    """
    is private public down broken blocked deleted gone new old hacked not the an my on off
    there here too also still and or but so it its that this dead banned closed locked full
    empty boring rubbish mess me you him her them if when because where what why how who
    same different deactivated disabled suspended reported
    """
)


def find_pii(
    text: str,
    region: str = "GB",
    *,
    allowed_handles: Iterable[str] = (),
    names: bool = False,
) -> tuple[PiiFinding, ...]:
    """Every personal detail found, in text order, overlapping finds merged to the first.

    `allowed_handles` are names everyone in the room already sees (pseudonyms), so
    "@Rose" addressed to another participant is not treated as a handle. `names` also
    looks for people's full names (in rooms, where others would read them).
    """
    allowed = {name.casefold().lstrip("@") for name in allowed_handles}
    words = _Words(text)
    found: list[PiiFinding] = []
    # Each finder runs only if what it needs is in the text (a digit, an "@", a word it
    # must find); the order of finders is kept, as overlapping finds go to the first.
    digit = _DIGIT.search(text) is not None
    if not words.ascii or (digit and _digitish_length(text) >= _MIN_PHONE_DIGITS):
        found += _phones(text, region)
    if not words.ascii or not words.runs.isdisjoint(_SPOKEN_WORD_SET):
        found += _spoken_numbers(text)
    if "@" in text:
        found += _regex_findings(text, _EMAIL, PiiKind.EMAIL)
    found += _spelled_emails(text, words)
    if digit:
        if _POSTCODE_INWARD.search(text) is not None:
            found += _regex_findings(text, _POSTCODE, PiiKind.POSTCODE)
        if words.may_hold(_STREET_WORD_SET):
            found += _addresses(text)
        if not words.ascii:
            found += _regex_findings(text, _URDU_ADDRESS, PiiKind.ADDRESS)
    found += _handles(text, allowed, words)
    if names:
        found += _names(text, allowed)
    return _without_overlaps(found)


class _Words:
    """The words of an ASCII text, lower-cased, for the finders' cheap tests.

    In ASCII text (most messages) a pattern's whole word, matched without regard to case,
    is one of these runs of letters and digits: when it is missing, the pattern cannot
    match. Each test answers "may hold" (then the pattern itself decides) for any other
    text, and for text with "_" where a word might run on past it.
    """

    def __init__(self, text: str) -> None:
        self.ascii = text.isascii()
        self._runs: frozenset[str] | None = None
        self._exact = self.ascii and "_" not in text
        self._text = text

    @property
    def runs(self) -> frozenset[str]:
        if self._runs is None:
            self._runs = frozenset(ascii_words(self._text))
        return self._runs

    def may_hold(self, words: frozenset[str]) -> bool:
        """False only when no run is one of `words` (and the runs are the text's words)."""
        return not self._exact or not self.runs.isdisjoint(words)

    def may_name_platform(self) -> bool:
        """False only when no word can begin `_PLATFORM_NAMED`: a platform's name that is
        the whole word, or is followed inside the word by "a" (the look-ahead's one letter)."""
        if not self._exact:
            return True
        runs = self.runs
        if not runs.isdisjoint(_PLATFORM_WORDS):
            return True
        known = _PLATFORM_RUNS
        for run in runs:
            starts = known.get(run)
            if starts is None:
                starts = run.startswith(_PLATFORM_STARTS)
                if len(known) >= _PLATFORM_RUNS_KEPT:
                    known.clear()
                known[run] = starts
            if starts:
                return True
        return False


def redact(text: str, findings: Iterable[PiiFinding]) -> str:
    """The text with each finding replaced by "[removed]"."""
    pieces: list[str] = []
    position = 0
    for finding in _without_overlaps(list(findings)):
        if finding.start < position or finding.end > len(text) or finding.start >= finding.end:
            continue
        pieces.append(text[position : finding.start])
        pieces.append(REDACTED)
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


def _phones(text: str, region: str) -> Iterator[PiiFinding]:
    searchable = _DIGITISH_RUN.sub(_letters_as_digits, text)
    if sum(map(str.isdigit, searchable)) < _MIN_PHONE_DIGITS:
        # Every number found is a run of this text, and one with fewer digits is skipped
        # below: too few digits in the whole message, and the matcher need not run.
        return
    try:
        matches = list(phonenumbers.PhoneNumberMatcher(searchable, region, Leniency.POSSIBLE))
    except Exception:
        # A fault inside the library must not stop the message; the other finders still run.
        return
    for match in matches:
        digits = sum(ch.isdigit() for ch in match.raw_string)
        if digits < _MIN_PHONE_DIGITS:
            continue
        if phonenumbers.number_type(match.number) in _SERVICE_NUMBER_TYPES:
            continue
        yield PiiFinding(PiiKind.PHONE, match.start, match.end, text[match.start : match.end])


def _spoken_numbers(text: str) -> Iterator[PiiFinding]:
    """Runs of numbers said in words (digits may be mixed in), as long as a phone number.

    Runs of digits alone are the phone finder's, which knows service numbers apart.
    """
    run: list[re.Match[str]] = []
    digits = 0
    repeat = 1
    for token in [*_NUMBER_TOKEN.finditer(text), None]:
        word = token.group(0).casefold() if token else ""
        if token and word in _REPEATS:
            repeat = _REPEATS[word]
            run.append(token)
            continue
        value = word if word.isdigit() else _DIGIT_WORDS.get(word)
        if token and value is not None:
            run.append(token)
            digits += len(value) * repeat
            repeat = 1
            continue
        spoken = any(not m.group(0).isdigit() for m in run)
        if run and spoken and digits >= _MIN_PHONE_DIGITS:
            start, end = run[0].start(), run[-1].end()
            yield PiiFinding(PiiKind.PHONE, start, end, text[start:end])
        run, digits, repeat = [], 0, 1


def _names(text: str, allowed: set[str]) -> Iterator[PiiFinding]:
    for pattern in _NAME_CUES:
        for match in pattern.finditer(text):
            name = match.group(1)
            words = [w.casefold().strip("'’") for w in name.split()]
            if any(w in _NOT_NAME for w in words) or name.casefold() in allowed:
                continue
            yield PiiFinding(PiiKind.NAME, match.start(1), match.end(1), name)


def _digitish_length(text: str) -> int:
    """At least as many characters as `_phones` can read as digits in an ASCII text: every
    digit, and every letter it reads as one, is inside a run of `_DIGITISH_RUN`, which is
    its letters before a digit and what follows from that digit on (both found by
    patterns the engine can skip to, unlike the run's own)."""
    after = sum(map(len, _FROM_A_DIGIT.findall(text)))
    return after + sum(map(len, _BEFORE_A_DIGIT.findall(text)))


def _letters_as_digits(match: re.Match[str]) -> str:
    run = match.group(0)
    if sum(ch.isdigit() for ch in run) < 2:
        return run
    return run.translate(_AS_DIGITS)


def _regex_findings(text: str, pattern: re.Pattern[str], kind: PiiKind) -> Iterator[PiiFinding]:
    for match in pattern.finditer(text):
        yield PiiFinding(kind, match.start(), match.end(), match.group(0))


def _spelled_emails(text: str, words: _Words | None = None) -> Iterator[PiiFinding]:
    # Both patterns try every word as the start of an address; an "at" on its own (or "@"
    # for a provider) must be somewhere first, and most messages have neither.
    # ("at" between spaces or brackets is a whole word of an ASCII text.)
    maybe_at = words is None or not words.ascii or "at" in words.runs
    has_at = maybe_at and _AT_ALONE.search(text) is not None
    if has_at:
        yield from _regex_findings(text, _EMAIL_SPELLED, PiiKind.EMAIL)
    if has_at or "@" in text:
        yield from _regex_findings(text, _EMAIL_PROVIDER, PiiKind.EMAIL)


def _addresses(text: str) -> Iterator[PiiFinding]:
    for match in _ADDRESS.finditer(text):
        names = match.group(2).split()
        if any(name.casefold().strip(".'’") in _NOT_STREET_NAME for name in names):
            continue
        yield PiiFinding(PiiKind.ADDRESS, match.start(), match.end(), match.group(0))


def _handles(text: str, allowed: set[str], words: _Words | None = None) -> Iterator[PiiFinding]:
    # Each pattern needs an "@" (the first) or a platform's name (the others) first.
    at = "@" in text
    maybe = words is None or words.may_name_platform()
    platform = maybe and _PLATFORM_NAMED.search(text) is not None
    if not at and not platform:
        return
    for index, pattern in enumerate(_HANDLE_PATTERNS):
        if not (at if index == 0 else platform):
            continue
        for match in pattern.finditer(text):
            # A full stop after a handle usually ends the sentence.
            handle = match.group(1).rstrip(".")
            name = handle.lstrip("@").casefold()
            if len(name) < 2 or name in allowed or name in _NOT_HANDLE:
                continue
            start = match.start(1)
            yield PiiFinding(PiiKind.HANDLE, start, start + len(handle), handle)


def _without_overlaps(findings: list[PiiFinding]) -> tuple[PiiFinding, ...]:
    ordered = sorted(findings, key=lambda item: (item.start, -(item.end - item.start)))
    kept: list[PiiFinding] = []
    for finding in ordered:
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    return tuple(kept)

"""The helpline directory: defaults, files that extend it, bad files, search, what she sees."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from moderation.directory import (
    DEFAULT_DIRECTORY_FILE,
    Directory,
    DirectoryError,
    Helpline,
    default_directory_paths,
    load_default_directory,
    load_directory,
)
from moderation.types import RiskCategory, RiskLevel

# The UK services every default deployment must list, by number.
DEFAULT_NUMBERS = [
    "999",
    "0808 2000 247",
    "0808 80 10 800",
    "0800 027 1234",
    "0808 802 1414",
    "0800 5999 247",
    "020 7008 0151",
    "0800 999 5428",
    "0808 500 2222",
    "0808 802 0300",
    "116 123",
    "85258",
    "111",
    "0300 123 6600",
    "0300 123 1110",
    "020 7324 2989",
    "0800 1111",
    "0808 800 5000",
    "08088 01 03 02",
]
PAGE_LANGUAGES = ("pl", "ar", "ur", "bn", "pa")


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_default_directory()


def ids(helplines: Sequence[Helpline]) -> list[str]:
    return [item.id for item in helplines]


def test_defaults_load_with_every_uk_helpline(directory: Directory) -> None:
    numbers = {contact.value for item in directory.helplines for contact in item.contacts}
    assert set(DEFAULT_NUMBERS) <= numbers


def test_emergency_routes_are_marked(directory: Directory) -> None:
    emergency = [item for item in directory.helplines if item.emergency]
    assert ids(emergency) == ["emergency-999", "silent-solution"]
    silent = directory.get("silent-solution")
    assert silent is not None and "55" in (silent.contacts[0].note or "")


def test_imminent_danger_shows_999_and_silent_solution_first(directory: Directory) -> None:
    shown = directory.for_visitor(
        [RiskCategory.DOMESTIC_ABUSE_DANGER], "england", "en", RiskLevel.IMMINENT
    )
    assert ids(shown)[:3] == [
        "emergency-999",
        "silent-solution",
        "national-domestic-abuse-helpline",
    ]


def test_high_risk_does_not_add_emergency_routes(directory: Directory) -> None:
    shown = directory.for_visitor(
        [RiskCategory.DOMESTIC_ABUSE_DANGER], "england", "en", RiskLevel.HIGH
    )
    assert ids(shown)[0] == "national-domestic-abuse-helpline"
    assert not any(item.emergency for item in shown)


@pytest.mark.parametrize(
    ("nation", "expected"),
    [
        ("wales", "live-fear-free"),
        ("scotland", "scotland-domestic-abuse-forced-marriage"),
        ("northern_ireland", "ni-domestic-sexual-abuse-helpline"),
    ],
)
def test_she_sees_the_helpline_for_her_nation(
    directory: Directory, nation: str, expected: str
) -> None:
    shown = ids(
        directory.for_visitor([RiskCategory.DOMESTIC_ABUSE_DANGER], nation, None, RiskLevel.HIGH)
    )
    assert shown[0] == expected
    assert "national-domestic-abuse-helpline" not in shown


def test_several_categories_each_get_their_services(directory: Directory) -> None:
    shown = ids(
        directory.for_visitor(
            [RiskCategory.SUICIDE_SELF_HARM, RiskCategory.OVERDOSE_MEDICAL],
            "england",
            None,
            RiskLevel.HIGH,
        )
    )
    assert shown[0] == "samaritans"
    assert "nhs-111" in shown and "frank" in shown
    assert len(shown) == len(set(shown))


def test_nothing_for_her_category_where_she_lives_falls_back_to_someone_to_talk_to(
    directory: Directory,
) -> None:
    # The defaults have no stalking line for Scotland.
    shown = ids(directory.for_visitor(["stalking"], "scotland", None, RiskLevel.HIGH))
    assert shown and shown[0] == "samaritans"


def test_rape_crisis_scotland_for_sexual_violence_in_scotland(directory: Directory) -> None:
    shown = directory.for_visitor([RiskCategory.SEXUAL_VIOLENCE], "scotland", None, RiskLevel.HIGH)
    assert ids(shown)[0] == "rape-crisis-scotland"
    assert shown[0].contacts[0].value == "08088 01 03 02"


def test_a_mother_worried_about_her_child_is_shown_the_adult_line_first(
    directory: Directory,
) -> None:
    shown = ids(
        directory.for_visitor([RiskCategory.CHILD_SAFEGUARDING], "wales", "en", RiskLevel.HIGH)
    )
    assert shown[0] == "nspcc-helpline"
    assert shown.index("childline") > 0
    nspcc = directory.get("nspcc-helpline")
    assert nspcc is not None and nspcc.contacts[0].value == "0808 800 5000"


def test_unknown_nation_lists_uk_wide_services_and_asks_where_she_lives(
    directory: Directory,
) -> None:
    abuse = [RiskCategory.DOMESTIC_ABUSE_DANGER]
    shown = directory.for_visitor(abuse, None, "en", RiskLevel.IMMINENT)
    assert all(not item.nation_specific() for item in shown)
    assert {"emergency-999", "karma-nirvana"} <= set(ids(shown))
    assert len(shown) < len(directory.for_visitor(abuse, "uk", "en", RiskLevel.IMMINENT))
    assert directory.asks_nation(abuse, None)
    assert not directory.asks_nation(abuse, "wales")
    # Every suicide service is UK-wide or has a UK-wide twin: nothing to ask.
    assert not directory.asks_nation([RiskCategory.OVERDOSE_MEDICAL, "drugs"], "england")


@pytest.mark.parametrize("language", PAGE_LANGUAGES)
def test_every_service_is_named_and_described_in_every_page_language(
    directory: Directory, language: str
) -> None:
    for item in directory.helplines:
        text = item.translations.get(language)
        assert text is not None, (item.id, language)
        assert text.name and text.description, (item.id, language)
        assert text.reviewed is False, "drafts stay marked until a native speaker checks them"
        if item.eligibility:
            assert text.eligibility, (item.id, language)


def test_she_sees_the_services_in_her_page_language(directory: Directory) -> None:
    shown = directory.for_visitor(
        [RiskCategory.FORCED_MARRIAGE_HONOUR], "england", "ur", RiskLevel.HIGH
    )
    unit = next(item for item in shown if item.id == "forced-marriage-unit")
    assert unit.name == "جبری شادی یونٹ"
    assert unit.text_language == "ur"
    english = directory.for_visitor(
        [RiskCategory.FORCED_MARRIAGE_HONOUR], "england", "en", RiskLevel.HIGH
    )
    assert next(i for i in english if i.id == "forced-marriage-unit").text_language == "en"


def test_languages_are_unknown_unless_the_service_says(directory: Directory) -> None:
    # No default entry's own material was checked for languages: none is claimed.
    assert all(item.languages is None for item in directory.helplines)


def test_no_risk_shows_nothing(directory: Directory) -> None:
    assert directory.for_visitor([], "england", "en", RiskLevel.NONE) == []


def test_services_in_her_language_come_first(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        """
helplines:
  - id: polish-line
    name: Polish women's line
    contacts: [{kind: phone, value: "0808 000 0000"}]
    nations: [uk]
    categories: [domestic_abuse_danger]
    languages: [pl, en]
""",
    )
    directory = load_directory([DEFAULT_DIRECTORY_FILE, extra])
    shown = directory.for_visitor(
        [RiskCategory.DOMESTIC_ABUSE_DANGER], "england", "pl", RiskLevel.HIGH
    )
    assert ids(shown)[0] == "polish-line"


def test_search_by_words_number_category_nation_language(directory: Directory) -> None:
    assert ids(directory.search("samaritans")) == ["samaritans"]
    assert ids(directory.search("08082000247")) == ["national-domestic-abuse-helpline"]
    forced = ids(directory.search("forced marriage", nation="scotland"))
    assert {"scotland-domestic-abuse-forced-marriage", "forced-marriage-unit"} <= set(forced)
    assert "live-fear-free" not in forced
    assert ids(directory.search(category="alcohol")) == ["drinkline"]
    assert "live-fear-free" not in ids(directory.search(nation="england"))
    assert directory.search(language="pl") == []
    assert len(directory.search()) == len(directory.helplines)


def test_search_with_an_unknown_filter_says_what_is_known(directory: Directory) -> None:
    with pytest.raises(ValueError, match=r"unknown category 'drgus'; known: .*drugs"):
        directory.search(category="drgus")
    with pytest.raises(ValueError, match="unknown nation 'france'"):
        directory.search(nation="france")


def write(tmp_path: Path, text: str, name: str = "extra.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_later_file_adds_replaces_and_removes_entries(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        """
remove: [drinkline]
helplines:
  - id: samaritans
    name: Samaritans (local branch)
    contacts: [{kind: phone, value: "116 123"}, {kind: web, value: "https://example.org/talk"}]
    nations: [uk]
    categories: [suicide_self_harm, emotional_support]
  - id: local-recovery
    name: Local recovery service
    contacts: [{kind: phone, value: "01632 960000"}]
    nations: [england]
    categories: [drugs, alcohol]
    eligibility: Accepts women who use drugs, no referral needed.
""",
    )
    directory = load_directory([DEFAULT_DIRECTORY_FILE, extra])
    samaritans = directory.get("samaritans")
    assert samaritans is not None and samaritans.name == "Samaritans (local branch)"
    assert directory.get("drinkline") is None
    assert ids(directory.search("women who use drugs")) == ["local-recovery"]


def test_replace_all_keeps_only_the_new_list(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        """
replace_all: true
helplines:
  - id: emergency
    name: Emergency
    contacts: [{kind: phone, value: "112"}]
    nations: [uk]
    categories: [emergency]
    emergency: true
""",
    )
    directory = load_directory([DEFAULT_DIRECTORY_FILE, extra])
    assert ids(directory.helplines) == ["emergency"]


def test_the_setting_adds_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "helplines: []\n")
    assert default_directory_paths(path) == [DEFAULT_DIRECTORY_FILE, path]
    assert default_directory_paths() == [DEFAULT_DIRECTORY_FILE]


ENTRY = """
helplines:
  - id: ok-line
    name: A line
    contacts: [{kind: phone, value: "0808 000 0000"}]
    nations: [uk]
    categories: [drugs]
  - id: broken
    name: Broken line
    contacts: [{kind: %(kind)s, value: "%(value)s"}]
    nations: [%(nation)s]
    categories: [%(category)s]
"""


def entry(
    kind: str = "phone", value: str = "0808 000 0001", nation: str = "uk", category: str = "drugs"
) -> str:
    return ENTRY % {"kind": kind, "value": value, "nation": nation, "category": category}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("helplines: [\n", "is not valid YAML"),
        ("", "is empty"),
        ("- just a list\n", "top level must be a mapping"),
        ("helpline: []\n", "helpline: Extra inputs are not permitted"),
        ("version: 2\nhelplines: []\n", "version: Input should be 1"),
        ("helplines: {a: b}\n", "helplines: Input should be a valid list"),
        (entry(kind="fax"), "helplines[1] (id 'broken'): contacts.0.kind: Input should be"),
        (entry(value="call us"), "helplines[1] (id 'broken'): contacts.0: Value error, a phone"),
        (entry(kind="web", value="example.org"), "contacts.0: Value error, a web contact"),
        (entry(nation="france"), "helplines[1] (id 'broken'): nations.0: Input should be"),
        (entry(category="drgus"), "helplines[1] (id 'broken'): categories.0: Input should be"),
        ("helplines:\n  - {name: x}\n", "helplines[0]: id: Field required"),
        ("helplines:\n  - {id: x, name: y}\n", "contacts: Field required"),
        ("helplines: [7]\n", "helplines[0]: Input should be a valid dictionary"),
        (
            "helplines:\n  - {id: 'Bad Id', name: y, contacts: [{kind: phone, value: '1'}]}\n",
            "helplines[0] (id 'Bad Id'): id: String should match pattern",
        ),
        (
            entry().replace("broken", "ok-line"),
            "helplines[1] (id 'ok-line'): id 'ok-line' is used twice",
        ),
        ("remove: [no-such-line]\n", "remove: there is no entry with id 'no-such-line'"),
        ("replace_all: true\nhelplines: []\n", "no entry has 'emergency: true'"),
    ],
)
def test_bad_file_is_reported_with_file_entry_and_field(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DirectoryError) as caught:
        load_directory([DEFAULT_DIRECTORY_FILE, path])
    assert caught.value.path == str(path)
    assert problem in str(caught.value)


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="file not found"):
        load_directory([DEFAULT_DIRECTORY_FILE, tmp_path / "absent.yaml"])


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"helplines:\n  - name: caf\xe9\n")
    with pytest.raises(DirectoryError, match="not UTF-8"):
        load_directory([path])


def test_no_files_is_an_error() -> None:
    with pytest.raises(DirectoryError, match="no directory file"):
        load_directory([])

"""The room catalogue: the shipped rooms, and a clear refusal of every kind of bad entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from peers.catalogue import (
    DEFAULT_CATALOGUE_PATH,
    CatalogueError,
    Focus,
    language_direction,
    load_catalogue,
)


def room(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "evening",
        "name": "Evening room",
        "description": "A calm room in the evening.",
        "languages": ["en"],
        "audience": "Any woman.",
        "ground_rules": ["Be kind."],
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "rooms.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, data: object) -> str:
    path = write(tmp_path, data)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    message = str(caught.value)
    assert str(path) in message
    return message


# --- the shipped catalogue ------------------------------------------------------------------


def test_default_catalogue_loads_with_the_promised_rooms() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_PATH)
    expected = {
        "newcomers",
        "south-asian-women",
        "polish-women",
        "arabic-women",
        "black-women",
        "lgbtq-women",
        "mothers",
        "separated-from-children",
        "pregnant",
        "older-women",
        "morning-check-in",
        "night-room",
        "recovery",
        "harm-reduction",
    }
    assert expected <= set(catalogue.ids)
    assert all(r.ground_rules and r.description and r.audience for r in catalogue)


def test_default_catalogue_keeps_recovery_and_harm_reduction_apart() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_PATH)
    focuses = {r.id: r.focus for r in catalogue}
    assert focuses["recovery"] is Focus.RECOVERY
    assert focuses["harm-reduction"] is Focus.HARM_REDUCTION
    assert Focus.RECOVERY in focuses.values() and Focus.HARM_REDUCTION in focuses.values()


def test_default_language_rooms_have_their_languages_and_direction() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE_PATH)
    assert {"ur", "pa", "bn"} <= set(catalogue["south-asian-women"].languages)
    assert catalogue["polish-women"].languages[0] == "pl"
    assert catalogue["polish-women"].direction == "ltr"
    assert catalogue["arabic-women"].languages[0] == "ar"
    assert catalogue["arabic-women"].direction == "rtl"
    assert catalogue["newcomers"].direction == "ltr"


# --- fields and derived values --------------------------------------------------------------


def test_capacity_defaults_to_30_and_focus_to_general(tmp_path: Path) -> None:
    loaded = load_catalogue(write(tmp_path, [room()]))["evening"]
    assert loaded.capacity == 30
    assert loaded.focus is Focus.GENERAL


def test_room_fields_are_trimmed_and_kept_in_file_order(tmp_path: Path) -> None:
    data = [room(id="b-room", name="  Second  "), room(id="a-room", capacity=500)]
    catalogue = load_catalogue(write(tmp_path, data))
    assert catalogue.ids == ("b-room", "a-room")
    assert catalogue["b-room"].name == "Second"
    assert catalogue["a-room"].capacity == 500
    assert "a-room" in catalogue and "missing" not in catalogue
    assert catalogue.get("missing") is None


@pytest.mark.parametrize(
    ("languages", "direction"),
    [
        (["ar"], "rtl"),
        (["ur", "en"], "rtl"),
        (["en", "ar"], "ltr"),
        (["pl"], "ltr"),
        (["pa-Arab"], "rtl"),
        (["pa-Guru"], "ltr"),
        (["bn"], "ltr"),
    ],
)
def test_direction_follows_the_first_language(
    tmp_path: Path, languages: list[str], direction: str
) -> None:
    loaded = load_catalogue(write(tmp_path, [room(languages=languages)]))["evening"]
    assert loaded.direction == direction
    assert loaded.model_dump()["direction"] == direction


def test_language_direction_of_a_region_tag() -> None:
    assert language_direction("ar-EG") == "rtl"
    assert language_direction("pt-BR") == "ltr"


def test_norwegian_code_is_not_read_as_false(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- id: norsk\n  name: Norsk\n  description: Hei.\n"
        "  languages: [no, en]\n  audience: Alle.\n  ground_rules: [Vær snill.]\n",
    )
    assert load_catalogue(path)["norsk"].languages == ("no", "en")


def test_capacity_written_as_a_plain_number_in_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- id: small\n  name: Small\n  description: Small room.\n"
        "  languages: [en]\n  audience: Anyone.\n  ground_rules: [Be kind.]\n"
        "  capacity: 8\n",
    )
    assert load_catalogue(path)["small"].capacity == 8


# --- bad data -------------------------------------------------------------------------------


def test_missing_field_names_the_room_and_the_field(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(id="first"), room(id="second", name=None)])
    assert "entry 2 (room 'second')" in message
    assert "name: this field is missing" in message


def test_missing_id_names_the_entry_number(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(), room(id=None)])
    assert "entry 2: id: this field is missing" in message


@pytest.mark.parametrize("code", ["xx", "english", "EN", "e", "en_GB", 7])
def test_unknown_language_code(tmp_path: Path, code: object) -> None:
    message = refusal(tmp_path, [room(languages=["en", code])])
    assert "entry 1 (room 'evening')" in message
    assert "languages item 2:" in message


def test_no_languages(tmp_path: Path) -> None:
    assert "languages:" in refusal(tmp_path, [room(languages=[])])


def test_language_listed_twice(tmp_path: Path) -> None:
    assert "en more than once" in refusal(tmp_path, [room(languages=["en", "pl", "en"])])


@pytest.mark.parametrize("capacity", [0, -5, 501, "30", 2.5, True, None])
def test_capacity_must_be_a_whole_number_from_1_to_500(tmp_path: Path, capacity: object) -> None:
    entry = room()
    entry["capacity"] = capacity
    message = refusal(tmp_path, [entry])
    assert "capacity: must be a whole number from 1 to 500" in message


def test_duplicate_id(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(id="mums"), room(id="other"), room(id="mums")])
    assert "entry 3 (room 'mums'): id 'mums' is already used by entry 1" in message


def test_duplicate_id_is_found_even_when_the_first_entry_is_bad(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(id="mums", capacity=0), room(id="mums")])
    assert "entry 1 (room 'mums'): capacity:" in message
    assert "entry 2 (room 'mums'): id 'mums' is already used by entry 1" in message


def test_room_cannot_be_both_recovery_and_harm_reduction(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(focus=["recovery", "harm_reduction"])])
    assert "cannot be both recovery and harm reduction" in message


def test_unknown_focus(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(focus="sobriety")])
    assert "focus: must be recovery, harm_reduction or general, not 'sobriety'" in message


@pytest.mark.parametrize("room_id", ["Polish Women", "polish_women", "-x", "a--b", "", "é"])
def test_bad_room_id(tmp_path: Path, room_id: str) -> None:
    assert "is not a valid room id" in refusal(tmp_path, [room(id=room_id)])


def test_misspelt_field_is_not_ignored(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(capacty=12)])
    assert "capacty: this field is not known" in message


def test_direction_cannot_be_set_by_hand(tmp_path: Path) -> None:
    assert "direction: this field is not known" in refusal(tmp_path, [room(direction="rtl")])


def test_empty_text_fields_and_rules(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(description="   ", ground_rules=[])])
    assert "description:" in message
    assert "ground_rules:" in message


def test_text_with_direction_override_characters(tmp_path: Path) -> None:
    assert "control or direction-override" in refusal(tmp_path, [room(name="Safe \u202e room")])


def test_name_too_long(tmp_path: Path) -> None:
    assert "name:" in refusal(tmp_path, [room(name="x" * 61)])


def test_number_where_text_is_expected(tmp_path: Path) -> None:
    assert "name: must be text" in refusal(tmp_path, [room(name=12)])


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    message = refusal(tmp_path, [room(id="one", capacity=0), room(id="two", languages=["zz"])])
    assert "2 problem(s)" in message
    assert "entry 1 (room 'one')" in message and "entry 2 (room 'two')" in message


def test_entry_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert "entry 2: must be a mapping" in refusal(tmp_path, [room(), "just a line"])


def test_file_that_is_not_a_list(tmp_path: Path) -> None:
    assert "must be a list of rooms" in refusal(tmp_path, {"rooms": [room()]})


def test_empty_file(tmp_path: Path) -> None:
    assert "must be a list of rooms" in refusal(tmp_path, "")


def test_empty_list(tmp_path: Path) -> None:
    assert "lists no rooms" in refusal(tmp_path, "[]\n")


def test_bad_yaml_gives_the_line(tmp_path: Path) -> None:
    message = refusal(tmp_path, "- id: a\n  name: [unclosed\n  audience: x\n")
    assert "not valid YAML" in message
    assert "line " in message


def test_repeated_key_is_refused(tmp_path: Path) -> None:
    text = "- id: a\n  name: One\n  name: Two\n"
    assert "line 3: the key 'name' appears twice" in refusal(tmp_path, text)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(CatalogueError, match="cannot read the file"):
        load_catalogue(path)


def test_the_default_catalogue_has_the_rooms_the_research_asks_for() -> None:
    """Report 004: women who sell sex (at night) and women without a home are under-served."""
    catalogue = load_catalogue(DEFAULT_CATALOGUE_PATH)
    after_dark, no_home = catalogue.get("after-dark"), catalogue.get("without-a-home")
    assert after_dark is not None and no_home is not None
    assert "sell" in after_dark.name.lower() and "home" in no_home.name.lower()
    # Each has rules of its own, beyond the ones every room shares.
    shared = set.intersection(*(set(room.ground_rules) for room in catalogue))
    for room in (after_dark, no_home):
        assert len(set(room.ground_rules) - shared) >= 2
        assert room.languages == ("en", "pl") and room.direction == "ltr"
    assert any("Never post a name, number" in rule for rule in after_dark.ground_rules)
    assert any("where you or anyone else sleeps" in rule for rule in no_home.ground_rules)


def test_the_late_night_room_is_scheduled_late() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from peers.schedule import DEFAULT_SCHEDULE_PATH, load_schedule, next_session

    london = ZoneInfo("Europe/London")
    schedule = load_schedule(DEFAULT_SCHEDULE_PATH, load_catalogue(DEFAULT_CATALOGUE_PATH))
    found = next_session(schedule, "after-dark", datetime(2026, 11, 21, 12, tzinfo=UTC))
    assert found is not None
    assert found.starts_at.astimezone(london).hour == 23
    assert found.ends_at.astimezone(london).hour == 1
    assert next_session(schedule, "without-a-home", datetime(2026, 11, 21, 12, tzinfo=UTC))

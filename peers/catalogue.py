"""The room catalogue: which peer-support rooms exist, who each is for and its ground rules.

The catalogue is a YAML list edited by the people who run the service (see
``data/rooms.yaml``). It is validated once at start; any fault stops the start with a
message naming the file, the entry and the field, so a typo cannot quietly drop a room.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    computed_field,
    field_validator,
)

from peers.datafiles import DataFileProblem, describe_validation_error, read_yaml

DEFAULT_CATALOGUE_PATH = Path(__file__).parent / "data" / "rooms.yaml"

DEFAULT_CAPACITY = 30
MAX_CAPACITY = 500

# ISO 639-1: every two-letter language code.
_ISO_639_1 = """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr
    ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw
    ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv
    ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr
    ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu"""
LANGUAGE_CODES = frozenset(_ISO_639_1.split())

# Languages written right to left unless a script subtag says otherwise (``pa-Arab`` is
# Shahmukhi Punjabi, right to left; ``sd-Deva`` is Sindhi in Devanagari, left to right).
_RTL_LANGUAGES = frozenset({"ar", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})
_RTL_SCRIPTS = frozenset({"Adlm", "Arab", "Hebr", "Nkoo", "Rohg", "Syrc", "Thaa"})

# A language code, optionally with a script (``pa-Arab``) and/or a region (``pt-BR``).
_LANGUAGE_TAG = re.compile(r"^([a-z]{2})(?:-([A-Z][a-z]{3}))?(?:-([A-Z]{2}|[0-9]{3}))?$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class Focus(StrEnum):
    """What a room is for. One value per room, so recovery and harm reduction never mix."""

    RECOVERY = "recovery"
    HARM_REDUCTION = "harm_reduction"
    GENERAL = "general"


Direction = Literal["ltr", "rtl"]


def _check_slug(value: str) -> str:
    if len(value) > 40 or not _SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a valid room id: use 1 to 40 lower-case letters, digits and "
            "single hyphens, such as 'polish-women'"
        )
    return value


def _check_language(value: str) -> str:
    match = _LANGUAGE_TAG.match(value)
    if not match or match.group(1) not in LANGUAGE_CODES:
        raise ValueError(
            f"{value!r} is not a known language code: use a two-letter ISO 639-1 code such "
            "as en, pl, ar, ur, pa or bn (optionally with a script or region, like pa-Arab)"
        )
    return value


def _check_text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("contains control or direction-override characters; use plain text")
    return value


def _one_to(most: int) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    # Checked after the items, so one bad item is not also reported as an empty list.
    def check(items: tuple[str, ...]) -> tuple[str, ...]:
        if not 1 <= len(items) <= most:
            raise ValueError(f"must list from 1 to {most} items, not {len(items)}")
        return items

    return check


def language_direction(tag: str) -> Direction:
    """Writing direction of a language tag such as ``ar``, ``ur`` or ``pa-Arab``."""
    match = _LANGUAGE_TAG.match(tag)
    if match is None:
        return "ltr"
    language, script = match.group(1), match.group(2)
    if script is not None:
        return "rtl" if script in _RTL_SCRIPTS else "ltr"
    return "rtl" if language in _RTL_LANGUAGES else "ltr"


RoomId = Annotated[StrictStr, AfterValidator(_check_slug)]
LanguageTag = Annotated[StrictStr, AfterValidator(_check_language)]
Line = Annotated[StrictStr, Field(min_length=1, max_length=160), AfterValidator(_check_text)]
Paragraph = Annotated[StrictStr, Field(min_length=1, max_length=600), AfterValidator(_check_text)]


class Room(BaseModel):
    """One peer-support room as the catalogue describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: RoomId
    name: Annotated[Line, Field(max_length=60)]
    description: Paragraph
    languages: Annotated[tuple[LanguageTag, ...], AfterValidator(_one_to(8))]
    audience: Paragraph
    ground_rules: Annotated[tuple[Line, ...], AfterValidator(_one_to(15))]
    capacity: StrictInt = DEFAULT_CAPACITY
    focus: Focus = Focus.GENERAL

    @computed_field  # type: ignore[prop-decorator]
    @property
    def direction(self) -> Direction:
        """The room's writing direction follows its first (main) language."""
        return language_direction(self.languages[0])

    @field_validator("languages")
    @classmethod
    def _no_repeated_language(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({tag for tag in value if value.count(tag) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once")
        return value

    @field_validator("capacity", mode="before")
    @classmethod
    def _capacity_in_range(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAPACITY:
            raise ValueError(f"must be a whole number from 1 to {MAX_CAPACITY}, not {value!r}")
        return value

    @field_validator("focus", mode="before")
    @classmethod
    def _one_focus(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            raise ValueError(
                "a room has exactly one focus (recovery, harm_reduction or general); "
                "a room cannot be both recovery and harm reduction: make two rooms"
            )
        if value not in [focus.value for focus in Focus]:
            raise ValueError(f"must be recovery, harm_reduction or general, not {value!r}")
        return value


class CatalogueError(ValueError):
    """The room catalogue file is unusable; `problems` lists every fault found."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"room catalogue {path}: {len(problems)} problem(s):\n{listed}")


@dataclass(frozen=True)
class Catalogue:
    """The validated rooms, in the order the file lists them."""

    rooms: tuple[Room, ...]
    _by_id: dict[str, Room] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {room.id: room for room in self.rooms})

    def get(self, room_id: str) -> Room | None:
        return self._by_id.get(room_id)

    def __getitem__(self, room_id: str) -> Room:
        return self._by_id[room_id]

    def __contains__(self, room_id: object) -> bool:
        return room_id in self._by_id

    def __iter__(self) -> Iterator[Room]:
        return iter(self.rooms)

    def __len__(self) -> int:
        return len(self.rooms)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(room.id for room in self.rooms)


def load_catalogue(path: Path = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    """Read and validate the room catalogue, raising CatalogueError listing every fault."""
    try:
        data = read_yaml(path)
    except DataFileProblem as exc:
        raise CatalogueError(path, [str(exc)]) from exc
    return parse_catalogue(data, path)


def parse_catalogue(data: object, path: Path) -> Catalogue:
    """Validate already-parsed YAML data; `path` is only used in messages."""
    if not isinstance(data, list):
        raise CatalogueError(
            path, ["the file must be a list of rooms, each entry starting with '- id: ...'"]
        )
    if not data:
        raise CatalogueError(path, ["the file lists no rooms"])
    rooms: list[Room] = []
    problems: list[str] = []
    first_entry: dict[str, int] = {}
    for number, entry in enumerate(data, start=1):
        room_id = _raw_id(entry)
        label = f"entry {number} (room {room_id!r})" if room_id else f"entry {number}"
        if room_id in first_entry:
            problems.append(
                f"{label}: id {room_id!r} is already used by entry {first_entry[room_id]}"
            )
        elif room_id:
            first_entry[room_id] = number
        room = _parse_room(entry, label, problems)
        if room is not None:
            rooms.append(room)
    if problems:
        raise CatalogueError(path, problems)
    return Catalogue(tuple(rooms))


def _raw_id(entry: object) -> str:
    room_id: Any = entry.get("id") if isinstance(entry, dict) else None
    return room_id.strip() if isinstance(room_id, str) else ""


def _parse_room(entry: object, label: str, problems: list[str]) -> Room | None:
    if not isinstance(entry, dict):
        problems.append(f"{label}: must be a mapping of field: value, not {entry!r}")
        return None
    try:
        return Room.model_validate(entry)
    except ValidationError as exc:
        problems.extend(f"{label}: {line}" for line in describe_validation_error(exc))
        return None

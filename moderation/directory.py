"""The helpline and referral directory: which services to show, to whom.

Entries are data (`moderation/data/directory.yaml`, format described at its top). A
deployment adds a file of its own; later files add entries, replace them by id, remove
them or replace the whole list. Every problem is reported with the file, the entry and the
field, because the person fixing it is an operator, not a developer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from moderation.datafiles import DATA_DIR, DataFileError, describe_validation_error, load_mapping
from moderation.types import RiskCategory, RiskLevel

_E = TypeVar("_E", bound=StrEnum)

DEFAULT_DIRECTORY_FILE = DATA_DIR / "directory.yaml"


class DirectoryError(DataFileError):
    """A directory file is unusable; the message names the file, the entry and the field."""


class ContactKind(StrEnum):
    PHONE = "phone"
    TEXT = "text"
    WEB = "web"


class Nation(StrEnum):
    ENGLAND = "england"
    WALES = "wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern_ireland"
    UK = "uk"


class DirectoryCategory(StrEnum):
    """The six risk categories, then the other needs a service can be found by."""

    SUICIDE_SELF_HARM = RiskCategory.SUICIDE_SELF_HARM.value
    DOMESTIC_ABUSE_DANGER = RiskCategory.DOMESTIC_ABUSE_DANGER.value
    CHILD_SAFEGUARDING = RiskCategory.CHILD_SAFEGUARDING.value
    OVERDOSE_MEDICAL = RiskCategory.OVERDOSE_MEDICAL.value
    SEXUAL_VIOLENCE = RiskCategory.SEXUAL_VIOLENCE.value
    FORCED_MARRIAGE_HONOUR = RiskCategory.FORCED_MARRIAGE_HONOUR.value
    DRUGS = "drugs"
    ALCOHOL = "alcohol"
    STALKING = "stalking"
    LGBT = "lgbt"
    UNDER_18 = "under_18"
    LEGAL = "legal"
    EMOTIONAL_SUPPORT = "emotional_support"
    EMERGENCY = "emergency"
    MENTAL_HEALTH = "mental_health"
    MEDICAL = "medical"
    SEX_WORK = "sex_work"
    HOMELESSNESS = "homelessness"
    PARENTING = "parenting"


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LanguageCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$"
    ),
]
_NUMBER = re.compile(r"\+?[0-9][0-9 ]{1,24}")
_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+\S*", re.IGNORECASE)
# The console's search treats these as one word: "0808 2000 247" is found by "08082000247".
_SPACES = re.compile(r"\s+")


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ContactKind
    value: Line
    note: Line | None = None

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Contact:
        if self.kind is ContactKind.WEB:
            if not _URL.fullmatch(self.value):
                raise ValueError("a web contact's value must be a full http(s):// address")
        elif not _NUMBER.fullmatch(self.value):
            raise ValueError(
                f"a {self.kind.value} contact's value must be a number such as '0808 2000 247'"
            )
        return self


class HelplineText(BaseModel):
    """A service's words in one page language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Line
    description: Line | None = None
    eligibility: Line | None = None
    # False until a native speaker has checked it: machine-made or second-language drafts.
    reviewed: bool = False


class Helpline(BaseModel):
    """One service in the directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    name: Line
    contacts: tuple[Contact, ...] = Field(min_length=1)
    hours: Line | None = None
    nations: tuple[Nation, ...] = Field(min_length=1)
    categories: tuple[DirectoryCategory, ...] = Field(min_length=1)
    # Only what the service's own material says; None when that is not known.
    languages: tuple[LanguageCode, ...] | None = Field(default=None, min_length=1)
    eligibility: Line | None = None
    description: Line | None = None
    emergency: bool = False
    translations: dict[LanguageCode, HelplineText] = Field(default_factory=dict)
    # The language name, description and eligibility are written in (set by `in_language`).
    text_language: LanguageCode = "en"

    @field_validator("nations", "categories", "languages")
    @classmethod
    def _no_repeats(cls, values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(dict.fromkeys(values))

    def in_language(self, language: str | None) -> Helpline:
        """This entry with its words in `language` when translated, else as written."""
        text = self.translations.get(_language_code(language or ""))
        if text is None:
            return self
        return self.model_copy(
            update={
                "name": text.name,
                "description": text.description or self.description,
                "eligibility": text.eligibility or self.eligibility,
                "text_language": _language_code(language or ""),
            }
        )

    def nation_specific(self) -> bool:
        return Nation.UK not in self.nations

    def covers(self, nation: Nation | None) -> bool:
        """Whether she can use it where she lives (unknown or 'uk' means anywhere)."""
        if nation is None or nation is Nation.UK or Nation.UK in self.nations:
            return True
        return nation in self.nations

    def speaks(self, language: str) -> bool:
        code = _language_code(language)
        return any(_language_code(own) == code for own in self.languages or ())

    def search_text(self) -> str:
        parts = [
            self.id,
            self.name,
            self.hours or "",
            self.eligibility or "",
            self.description or "",
            *self.categories,
            *self.nations,
        ]
        for contact in self.contacts:
            parts += [contact.value, _SPACES.sub("", contact.value), contact.note or ""]
        for text in self.translations.values():
            parts += [text.name, text.description or "", text.eligibility or ""]
        return " ".join(parts).casefold()


class _DirectoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    replace_all: bool = False
    remove: list[str] = []
    helplines: list[object] = []


@dataclass(frozen=True)
class Directory:
    helplines: tuple[Helpline, ...]

    def get(self, helpline_id: str) -> Helpline | None:
        return next((item for item in self.helplines if item.id == helpline_id), None)

    def search(
        self,
        query: str = "",
        category: DirectoryCategory | str | None = None,
        nation: Nation | str | None = None,
        language: str | None = None,
    ) -> list[Helpline]:
        """Entries matching every word of the query and each filter given, in file order."""
        wanted_category = _parse(DirectoryCategory, category, "category")
        wanted_nation = _parse(Nation, nation, "nation")
        words = query.casefold().split()
        return [
            item
            for item in self.helplines
            if (wanted_category is None or wanted_category in item.categories)
            and (wanted_nation is None or item.covers(wanted_nation))
            and (not language or item.speaks(language))
            and all(word in item.search_text() for word in words)
        ]

    def for_visitor(
        self,
        categories: Iterable[RiskCategory | DirectoryCategory | str],
        nation: Nation | str | None,
        language: str | None,
        level: RiskLevel,
    ) -> list[Helpline]:
        """What to show her, in her language: emergency routes first when she is in
        immediate danger, then the services for each category in her nation, the most
        specific first. When her nation is not known only services for the whole UK are
        listed (see `asks_nation`), not every nation's own."""
        where = _parse(Nation, nation, "nation")
        chosen = self._chosen(categories, where, language, level)
        return [item.in_language(language) for item in chosen]

    def asks_nation(
        self,
        categories: Iterable[RiskCategory | DirectoryCategory | str],
        nation: Nation | str | None,
    ) -> bool:
        """True when her nation is unknown and it would change what she is shown."""
        if _parse(Nation, nation, "nation") is not None:
            return False
        wanted = {_parse(DirectoryCategory, category, "category") for category in categories}
        return any(
            item.nation_specific() and not item.emergency and wanted & set(item.categories)
            for item in self.helplines
        )

    def _chosen(
        self,
        categories: Iterable[RiskCategory | DirectoryCategory | str],
        where: Nation | None,
        language: str | None,
        level: RiskLevel,
    ) -> list[Helpline]:
        chosen: dict[str, Helpline] = {}
        if level is RiskLevel.IMMINENT:
            chosen.update((item.id, item) for item in self.helplines if item.emergency)
        wanted = [_parse(DirectoryCategory, category, "category") for category in categories]
        for category in wanted:
            for item in self._services_for(category, where, language):
                chosen.setdefault(item.id, item)
        if wanted and len(chosen) == sum(item.emergency for item in chosen.values()):
            # Nothing for her needs where she lives: someone to talk to is still better than
            # an empty list.
            fallback = DirectoryCategory.EMOTIONAL_SUPPORT
            for item in self._services_for(fallback, where, language):
                chosen.setdefault(item.id, item)
        return list(chosen.values())

    def _services_for(
        self, category: DirectoryCategory | None, nation: Nation | None, language: str | None
    ) -> list[Helpline]:
        if category is None:
            return []
        found = [
            item
            for item in self.helplines
            if category in item.categories
            and not item.emergency
            and (item.covers(nation) if nation is not None else not item.nation_specific())
        ]

        def rank(item: Helpline) -> tuple[bool, bool, int, bool]:
            return (
                bool(language) and not item.speaks(language or ""),
                item.eligibility is not None,
                item.categories.index(category),
                Nation.UK in item.nations,
            )

        return sorted(found, key=rank)


def load_directory(paths: Sequence[Path]) -> Directory:
    """Load the files in order; a later file adds, replaces (by id) or removes entries."""
    if not paths:
        raise DirectoryError("(no file)", "no directory file was given")
    entries: dict[str, Helpline] = {}
    for path in paths:
        _apply_file(entries, path)
    if not any(item.emergency for item in entries.values()):
        raise DirectoryError(
            paths[-1],
            "after loading, no entry has 'emergency: true'; someone in immediate danger "
            "must always be shown an emergency number such as 999",
        )
    return Directory(tuple(entries.values()))


def parse_directory(data: object, label: str) -> Directory:
    """Check an edited directory (already-read data in the file's format) as a file is
    checked: the same entries, the same errors; it replaces every entry (an admin's list)."""
    try:
        parsed = _DirectoryFile.model_validate(data)
    except ValidationError as exc:
        raise DirectoryError(label, describe_validation_error(exc)) from None
    if parsed.remove:
        raise DirectoryError(label, "remove: an edited directory lists its entries instead")
    entries = _read_entries(Path(label), parsed.helplines)
    if not any(item.emergency for item in entries.values()):
        raise DirectoryError(
            label,
            "no entry has 'emergency: true'; someone in immediate danger "
            "must always be shown an emergency number such as 999",
        )
    return Directory(tuple(entries.values()))


def directory_body(directory: Directory) -> dict[str, object]:
    """A directory in its file's format (what `parse_directory` reads back)."""
    return {
        "helplines": [
            item.model_dump(mode="json", exclude_defaults=True, exclude={"text_language"})
            for item in directory.helplines
        ]
    }


def default_directory_paths(extra: Path | None = None) -> list[Path]:
    """The shipped directory, then `extra` (the server passes WILLOW_DIRECTORY_FILE)."""
    return [DEFAULT_DIRECTORY_FILE] if extra is None else [DEFAULT_DIRECTORY_FILE, extra]


def load_default_directory(extra: Path | None = None) -> Directory:
    return load_directory(default_directory_paths(extra))


def _apply_file(entries: dict[str, Helpline], path: Path) -> None:
    try:
        data = load_mapping(path)
        parsed = _DirectoryFile.model_validate(data)
    except DataFileError as exc:
        raise DirectoryError(exc.path, exc.problem) from None
    except ValidationError as exc:
        raise DirectoryError(path, describe_validation_error(exc)) from None
    loaded = _read_entries(path, parsed.helplines)
    if parsed.replace_all:
        entries.clear()
    for helpline_id in parsed.remove:
        if entries.pop(helpline_id, None) is None and helpline_id not in loaded:
            raise DirectoryError(path, f"remove: there is no entry with id {helpline_id!r}")
    entries.update(loaded)


def _read_entries(path: Path, raw_entries: list[object]) -> dict[str, Helpline]:
    loaded: dict[str, Helpline] = {}
    for index, raw in enumerate(raw_entries):
        where = _entry_name(index, raw)
        try:
            item = Helpline.model_validate(raw)
        except ValidationError as exc:
            raise DirectoryError(path, f"{where}: {describe_validation_error(exc)}") from None
        if item.id in loaded:
            raise DirectoryError(path, f"{where}: id {item.id!r} is used twice in this file")
        loaded[item.id] = item
    return loaded


def _entry_name(index: int, raw: object) -> str:
    entry_id = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(entry_id, str) and entry_id:
        return f"helplines[{index}] (id {entry_id!r})"
    return f"helplines[{index}]"


def _parse(kind: type[_E], value: _E | str | None, what: str) -> _E | None:
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(member.value for member in kind)
        raise ValueError(f"unknown {what} {value!r}; known: {known}") from None


def _language_code(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]

"""The admin editors name each field in words (issue 14 "admin pages"): every field a kind's
schema can produce has a label in en.json, `staff.admin.doc.field.<kind>.<name>` or
`staff.admin.doc.field.<name>` (frontend/admin/document.js shows the data key only when neither
exists), and every such label or hint names a field that exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from chat.helpline.canned import CannedGroup
from chat.helpline.hours import HoursFile
from chat.helpline.retention import RETENTION_FIELDS
from chat.helpline.wrapup import Code, Outcomes
from chat.pageconfig import Branding
from moderation.directory import Helpline
from peers.catalogue import Room
from peers.schedule import _TOP_LEVEL_KEYS, Cancellation, OneOffSession, WeeklySession
from tests.wsclient import Server

EN = Path(__file__).resolve().parents[2] / "frontend" / "i18n" / "en.json"
FIELD = "staff.admin.doc.field."
HINT = "staff.admin.doc.hint."
# The lists each editor draws as entries under their own heading (LISTS in document.js):
# their entries' fields are labelled, the list itself has its legend.
LISTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "rooms": (
        ("rooms",),
        ("schedule", "weekly"),
        ("schedule", "one_off"),
        ("schedule", "cancelled"),
    ),
    "directory": (("helplines",),),
    "outcomes": (("outcomes",), ("categories",)),
    "canned": (("groups",),),
}


def names(model: type[BaseModel], *leave_out: str) -> set[str]:
    """A model's fields as the data file spells them (an alias where it has one)."""
    return {
        info.alias or name for name, info in model.model_fields.items() if name not in leave_out
    }


def produced() -> dict[str, set[str]]:
    """Per kind, every field its editor can draw as a labelled control."""
    schedule_settings = set(_TOP_LEVEL_KEYS) - {"weekly", "one_off", "cancelled"}
    return {
        "hours": names(HoursFile),
        "retention": set(RETENTION_FIELDS),
        "branding": names(Branding),
        "rooms": schedule_settings
        | names(Room)
        | names(WeeklySession)
        | names(OneOffSession)
        | names(Cancellation),
        # text_language is set on reading and never written back (directory_body leaves it out).
        "directory": names(Helpline, "text_language"),
        "outcomes": names(Outcomes, "outcomes", "categories") | names(Code),
        "canned": names(CannedGroup),
    }


def words() -> dict[str, str]:
    data: dict[str, str] = json.loads(EN.read_text(encoding="utf-8"))
    return data


def unnamed(have: dict[str, str], fields: dict[str, set[str]]) -> list[str]:
    """Each `kind.field` with neither its kind's label nor the shared one."""
    return sorted(
        f"{kind}.{name}"
        for kind, found in fields.items()
        for name in found
        if f"{FIELD}{kind}.{name}" not in have and f"{FIELD}{name}" not in have
    )


def test_every_field_a_schema_can_produce_has_a_label() -> None:
    have = words()
    missing = unnamed(have, produced())
    assert missing == [], f"en.json has no staff.admin.doc.field.… label for {missing}"
    assert all(have[key].strip() for key in have if key.startswith(FIELD)), "an empty label"


def test_the_check_sees_a_field_without_words() -> None:
    class Probe(BaseModel):
        id: str
        shelf_life_weeks: int

    have = words()
    assert unnamed(have, {"rooms": names(Probe)}) == ["rooms.shelf_life_weeks"]
    # Take one label away: the check names exactly that field.
    del have[f"{FIELD}default_start"]
    assert unnamed(have, {"rooms": {"default_start"}}) == ["rooms.default_start"]
    assert unnamed(have, produced()) == ["rooms.default_start"]


def test_every_label_and_hint_names_a_real_field() -> None:
    fields = produced()
    every = set().union(*fields.values())
    real = every | {f"{kind}.{name}" for kind, found in fields.items() for name in found}
    stale = sorted(
        key
        for key in words()
        if key.startswith((FIELD, HINT))
        and key.removeprefix(FIELD if key.startswith(FIELD) else HINT) not in real
    )
    assert stale == [], f"en.json names fields no kind has: {stale}"


def _drawn(kind: str, body: Any) -> set[str]:
    """The fields an editor draws for a body as the server sends it."""
    if body is None:  # hours, always open: the form's own fields
        return set()
    if kind not in LISTS:
        return set(body)
    found = {key for key, value in body.items() if not isinstance(value, dict | list)}
    if kind == "rooms":
        found |= {k for k, v in body["schedule"].items() if not isinstance(v, dict | list)}
    for path in LISTS[kind]:
        entries: Any = body
        for key in path:
            entries = entries.get(key, {}) if isinstance(entries, dict) else []
        for entry in entries or []:
            found |= set(entry)
    return found


async def test_every_kind_is_covered_and_its_shipped_fields_are_known(server: Server) -> None:
    admin = await server.staff_session("admin")
    fields = produced()
    async with server.http(cookies={"willow_staff": admin.cookie}) as http:
        kinds = [
            item["kind"] for item in (await http.get("/api/admin/documents")).json()["documents"]
        ]
        assert sorted(kinds) == sorted(fields), "a new kind needs its fields listed here"
        for kind in kinds:
            body = (await http.get(f"/api/admin/documents/{kind}")).json()["body"]
            unknown = sorted(_drawn(kind, body) - fields[kind])
            assert unknown == [], f"{kind}: the shipped data has fields the check misses"

"""Canned replies: a library grouped by purpose, in every language the visitor page offers.

The defaults are a data file (data/canned.yaml, or WILLOW_CANNED_FILE) checked at start; an
admin's edit is checked by the same schema, saved as a new version and written to the audit
log. The console inserts a reply into the draft, where the adviser may change it and where the
kinder-wording checker reads it like anything else she types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chat.core import documents
from chat.core.documents import DocumentKind
from chat.core.models import Staff
from chat.core.services import Services
from chat.helpline.choices import LANGUAGES
from chat.helpline.staff import require_role, services_of
from moderation.datafiles import DataFileError, describe_validation_error, load_mapping
from moderation.wording import check_wording

KIND = "canned"
CANNED_FILE = Path(__file__).resolve().parent / "data" / "canned.yaml"
SLUG = r"^[a-z][a-z0-9_]{0,39}$"
Title = Annotated[str, Field(min_length=1, max_length=80)]
ReplyText = Annotated[str, Field(min_length=1, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CannedReply(_Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    title: Title
    # language code -> the reply in that language; English is required, the others optional.
    text: dict[str, ReplyText]

    @model_validator(mode="after")
    def _languages(self) -> CannedReply:
        unknown = sorted(set(self.text) - set(LANGUAGES))
        if unknown:
            raise ValueError(
                f"unknown language(s) {', '.join(unknown)}; offered: {', '.join(LANGUAGES)}"
            )
        if "en" not in self.text:
            raise ValueError("every reply needs an English text (en)")
        return self


class CannedGroup(_Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    title: Title
    replies: list[CannedReply] = Field(min_length=1, max_length=60)


class Library(_Strict):
    groups: list[CannedGroup] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _unique(self) -> Library:
        for kind, ids in (
            ("group", [g.id for g in self.groups]),
            ("reply", [r.id for g in self.groups for r in g.replies]),
        ):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"{kind} id(s) used twice: {', '.join(repeated)}")
        return self


def load_library(path: Path | None = None) -> Library:
    """Read and check the canned-reply file; a bad file raises DataFileError naming it."""
    path = path or CANNED_FILE
    return library_from_data(load_mapping(path), path)


def library_from_data(data: object, label: Path | str) -> Library:
    """Check already-read data as the file is checked (an admin's edit); `label` names it."""
    try:
        return Library.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(label, describe_validation_error(exc)) from None


def _summary(library: Library) -> str:
    replies = sum(len(g.replies) for g in library.groups)
    return f"{len(library.groups)} groups, {replies} replies"


def install(services: Services) -> None:
    """The library is an edited document (chat/core/documents.py): the data file is its default."""
    path = services.settings.canned_file
    services.documents.register(
        DocumentKind(
            name=KIND,
            default=lambda: load_library(path),
            parse=lambda body: library_from_data(body, KIND),
            body=lambda library: library.model_dump(mode="json"),
            summary=_summary,
        )
    )


async def current_library(services: Services) -> tuple[Library, bool]:
    """The library in use: the newest admin-saved version, else the data file's defaults."""
    current = services.documents.current(KIND)
    return current.value, current.edited


async def save_library(services: Services, staff: Staff, library: Library) -> None:
    """An admin's new version, kept with who saved it; the audit log says so too."""
    await documents.save(services, KIND, library.model_dump(mode="json"), staff.id)


async def reset_library(services: Services, staff: Staff) -> None:
    """Back to the data file's defaults, audited."""
    await documents.reset(services, KIND, staff.id)


def wording_notes(library: Library) -> list[dict[str, Any]]:
    """Replies the kinder-wording checker has something to say about (it never blocks)."""
    found = []
    for group in library.groups:
        for reply in group.replies:
            for language, text in reply.text.items():
                suggestions = check_wording(text)
                if suggestions:
                    found.append(
                        {
                            "reply": reply.id,
                            "language": language,
                            "phrases": [s.phrase for s in suggestions],
                        }
                    )
    return found


def _view(library: Library, edited: bool) -> dict[str, Any]:
    return {**library.model_dump(mode="json"), "languages": list(LANGUAGES), "edited": edited}


router = APIRouter(prefix="/api", tags=["canned"])
Advising = Annotated[Staff, Depends(require_role("adviser", "supervisor", "admin"))]
Admin = Annotated[Staff, Depends(require_role("admin"))]


@router.get("/staff/canned")
async def canned_for_staff(request: Request, _staff: Advising) -> dict[str, Any]:
    """The library the console searches, in every language it has."""
    library, edited = await current_library(services_of(request))
    return _view(library, edited)


@router.put("/admin/canned")
async def replace_canned(request: Request, admin: Admin) -> dict[str, Any]:
    """An admin saves the whole library; it is checked as the data file is, or nothing changes."""
    services = services_of(request)
    try:
        library = Library.model_validate(await request.json())
    except ValidationError as exc:
        raise HTTPException(422, describe_validation_error(exc)) from None
    except ValueError:
        raise HTTPException(400, "send the library as JSON") from None
    await save_library(services, admin, library)
    return {**_view(library, True), "wording": wording_notes(library)}


@router.post("/admin/canned/reset")
async def reset_canned(request: Request, admin: Admin) -> dict[str, Any]:
    services = services_of(request)
    await reset_library(services, admin)
    library, edited = await current_library(services)
    return _view(library, edited)

"""What the visitor pages ask for first, in one answer: where the quick exit goes, the
deployment's look (name, title, favicon, colours, confidentiality text) and the words of the
page in her language.

One request instead of two in a row (config, then the catalogue) saves a round trip, which on
a slow phone line is most of a second. The catalogues and the branding file are read and
checked once at start; a bad branding file stops Willow with a message naming the problem.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from chat.core.documents import DocumentKind
from chat.core.services import Services
from chat.core.settings import SettingsError

FALLBACK = "en"
# The staff console's words are never sent to a visitor page.
STAFF_PREFIXES = ("staff.", "mentor.")
BUNDLES = ("rooms",)
# The word she can send when it stops being safe to talk (see docs/PROTOCOL.md).
QUIET_WORD = "quiet.word"
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
# A favicon is an inline image, so the page asks no other host and no extra file.
FAVICON = re.compile(r"^data:image/(png|svg\+xml|x-icon|gif);base64,[A-Za-z0-9+/=]+$")
MAX_FAVICON_CHARS = 8_000


class Colours(BaseModel):
    """Page colours; each a #rrggbb value. Unset ones keep the calm default theme."""

    model_config = ConfigDict(extra="forbid")

    accent: str | None = None
    exit: str | None = None
    page: str | None = None
    text: str | None = None

    @field_validator("*")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not COLOUR.match(value):
            raise ValueError("a colour must be written #rrggbb, e.g. #2f5d62")
        return value


class Branding(BaseModel):
    """A deployment's look. Every field is optional; unset ones keep Willow's defaults."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    # Per language: what the browser tab says. Neutral by default ("Chat").
    title: dict[str, Annotated[str, Field(min_length=1, max_length=60)]] = {}
    favicon: Annotated[str, Field(max_length=MAX_FAVICON_CHARS)] | None = None
    colours: Colours = Colours()
    exit_url: str | None = None
    # Per language: the confidentiality statement, short (first screen) and in full.
    confidential_short: dict[str, Annotated[str, Field(min_length=1, max_length=300)]] = {}
    confidential: dict[str, Annotated[str, Field(min_length=1, max_length=2000)]] = {}

    @field_validator("favicon")
    @classmethod
    def _inline_image(cls, value: str | None) -> str | None:
        if value is not None and not FAVICON.match(value):
            raise ValueError("favicon must be a data:image/…;base64,… address")
        return value

    @field_validator("exit_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("exit_url must be an http(s) address of a neutral site")
        return value

    @field_validator("title", "confidential_short", "confidential")
    @classmethod
    def _language_keys(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [code for code in value if not LANGUAGE_CODE.match(code)]
        if bad:
            raise ValueError(f"keys must be language codes like 'en' or 'so', not {bad}")
        return value

    def words(self, lang: str) -> dict[str, str]:
        """Catalogue entries this deployment replaces, in `lang` (or English)."""
        chosen: dict[str, str] = {}
        for key, texts in (
            ("page.title", self.title),
            ("intro.private_short", self.confidential_short),
            ("intro.confidential", self.confidential),
        ):
            text = texts.get(lang) or texts.get(FALLBACK)
            if text:
                chosen[key] = text
        if self.name:
            chosen["page.heading"] = self.name
        return chosen


def load_branding(path: Path | None) -> Branding:
    if path is None:
        return Branding()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        message = f"WILLOW_BRANDING_FILE {path}: cannot be read as JSON ({error})"
        raise SettingsError(message) from None
    return branding_from_data(data, f"WILLOW_BRANDING_FILE {path}")


def branding_from_data(data: object, label: str) -> Branding:
    """Check already-read data as the file is checked (an admin's edit); `label` names it."""
    try:
        return Branding.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'file'}: {item['msg']}"
            for item in error.errors()
        )
        raise SettingsError(f"{label}: {problems}") from None


def register_branding(services: Services) -> Branding:
    """Branding is an edited document (chat/core/documents.py); the file is its default."""
    path = services.settings.branding_file
    branding = services.documents.register(
        DocumentKind[Branding](
            name="branding",
            default=lambda: load_branding(path),
            parse=lambda body: branding_from_data(body, "branding"),
            body=lambda look: look.model_dump(mode="json", exclude_defaults=True),
            summary=lambda look: look.name or "",
            appliers=[services.features.replace],
        )
    )
    services.features.add(branding)
    return branding


class Catalogues:
    """The visitor pages' words, per language, with English under every missing key."""

    def __init__(self, folder: Path, languages: tuple[str, ...]) -> None:
        self.languages = languages
        self._main = {lang: _read(folder / f"{lang}.json") for lang in languages}
        self._bundles = {
            name: {lang: _read(folder / f"{name}.{lang}.json") for lang in languages}
            for name in BUNDLES
        }
        self._merged: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}

    def quiet_words(self) -> list[str]:
        """Every language's agreed word: the staff console knows it whatever her language."""
        words = {main.get(QUIET_WORD, "").strip().casefold() for main in self._main.values()}
        return sorted(word for word in words if word)

    def choose(self, wanted: str | None) -> str:
        return wanted if wanted in self.languages else FALLBACK

    def words(self, lang: str, bundles: tuple[str, ...]) -> dict[str, str]:
        key = (lang, bundles)
        if key not in self._merged:
            merged: dict[str, str] = {}
            for layer in dict.fromkeys((FALLBACK, lang)):
                merged |= self._main.get(layer, {})
                for name in bundles:
                    merged |= self._bundles[name].get(layer, {})
            self._merged[key] = merged
        return self._merged[key]


def _read(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        key: value
        for key, value in data.items()
        if isinstance(value, str) and not key.startswith(("_", *STAFF_PREFIXES))
    }


def add_config_route(app: FastAPI, services: Services, languages: tuple[str, ...]) -> None:
    settings = services.settings
    catalogues = Catalogues(settings.frontend_dir / "i18n", languages)
    quiet_words = catalogues.quiet_words()

    @app.get("/api/config")
    async def page_config(
        lang: Annotated[str | None, Query(max_length=8)] = None,
        bundle: Annotated[list[str], Query(max_length=len(BUNDLES))] = [],  # noqa: B006
    ) -> dict[str, object]:
        """Where the quick exit goes, the deployment's look, and the page's words."""
        chosen = catalogues.choose(lang)
        wanted = tuple(name for name in BUNDLES if name in bundle)
        # Read per request: an admin's edit of the branding or retention is used at once.
        branding = services.features.get(Branding)
        look = {
            "name": branding.name,
            "favicon": branding.favicon,
            "colours": branding.colours.model_dump(exclude_none=True),
        }
        return {
            "exit_url": branding.exit_url or settings.exit_url,
            "languages": list(languages),
            "retention_days": services.settings.transcript_retention_days,
            "brand": look,
            "quiet_words": quiet_words,
            "language": chosen,
            "messages": catalogues.words(chosen, wanted) | branding.words(chosen),
        }

"""/api/config: the page's config and words in one answer, and a deployment's branding file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat.app import create_app
from chat.core.settings import Settings, SettingsError
from tests.conftest import running_server
from tests.wsclient import Server

FRONTEND = Path(__file__).resolve().parents[2] / "frontend" / "i18n"
TINY_PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"


def words(name: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((FRONTEND / f"{name}.json").read_text(encoding="utf-8"))
    return data


async def test_config_brings_the_words_in_her_language_with_english_beneath(
    server: Server,
) -> None:
    async with server.http() as http:
        config = (await http.get("/api/config", params={"lang": "ur"})).json()
        rooms = (await http.get("/api/config", params={"lang": "pl", "bundle": "rooms"})).json()
        unknown = (await http.get("/api/config", params={"lang": "xx"})).json()
    assert config["exit_url"] == "https://www.bbc.co.uk/weather"
    assert config["language"] == "ur"
    assert config["messages"]["intro.start"] == words("ur")["intro.start"]
    assert "staff.heading" not in config["messages"], "no staff words on a visitor page"
    assert not any(key.startswith("_") for key in config["messages"]), "no translator notes"
    assert rooms["messages"]["rooms.list.title"] == words("rooms.pl")["rooms.list.title"]
    assert "rooms.list.title" not in config["messages"], "bundles only when asked for"
    assert {"umbrella", words("ur")["quiet.word"]} <= set(config["quiet_words"])
    assert unknown["language"] == "en"
    assert unknown["messages"]["intro.start"] == words("en")["intro.start"]


def brand_file(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "branding.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


async def test_a_deployment_sets_its_name_title_colours_exit_and_promise(
    settings: Settings, tmp_path: Path
) -> None:
    branding = {
        "name": "Harbour Chat",
        "title": {"en": "Notes", "ur": "نوٹس"},
        "favicon": TINY_PNG,
        "colours": {"accent": "#2f5d62"},
        "exit_url": "https://www.example.org/recipes",
        "confidential_short": {"en": "Between you and us."},
        "confidential": {"en": "Nothing you say leaves this service unless a life is at risk."},
    }
    branded = settings.model_copy(update={"branding_file": brand_file(tmp_path, branding)})
    async with running_server(branded) as server, server.http() as http:
        config = (await http.get("/api/config", params={"lang": "ur"})).json()
        english = (await http.get("/api/config", params={"lang": "en"})).json()
        page = (await http.get("/")).text
    assert config["exit_url"] == "https://www.example.org/recipes"
    assert 'href="https://www.example.org/recipes"' in page, "Leave works before any script"
    assert "bbc.co.uk" not in page
    assert config["brand"] == {
        "name": "Harbour Chat",
        "favicon": TINY_PNG,
        "colours": {"accent": "#2f5d62"},
    }
    assert config["messages"]["page.title"] == "نوٹس"
    assert config["messages"]["page.heading"] == "Harbour Chat"
    # Texts not given in Urdu fall back to the deployment's English, not Willow's default.
    assert config["messages"]["intro.private_short"] == "Between you and us."
    assert english["messages"]["intro.confidential"].startswith("Nothing you say")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("{not json", "cannot be read as JSON"),
        ({"colours": {"accent": "red"}}, "colours.accent: Value error, a colour must be"),
        ({"exit_url": "javascript:alert(1)"}, "exit_url: Value error"),
        ({"favicon": "https://tracker.example/icon.png"}, "favicon: Value error"),
        ({"title": {"English": "Chat"}}, "language codes"),
        ({"tagline": "hello"}, "tagline: Extra inputs are not permitted"),
        ({"name": ""}, "name: String should have at least 1 character"),
    ],
)
def test_a_bad_branding_file_stops_willow_with_a_clear_message(
    settings: Settings, tmp_path: Path, data: object, says: str
) -> None:
    path = brand_file(tmp_path, data)
    with pytest.raises(SettingsError) as error:
        create_app(settings.model_copy(update={"branding_file": path}))
    assert str(path) in str(error.value) and says in str(error.value)


def test_a_missing_branding_file_is_named(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(SettingsError, match=r"nowhere\.json: cannot be read"):
        create_app(settings.model_copy(update={"branding_file": missing}))

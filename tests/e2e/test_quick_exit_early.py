"""Quick exit before the page's scripts have arrived, and history that never leads back."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Route, expect
from websockets.exceptions import ConnectionClosed

from chat.core.settings import Settings
from tests.conftest import running_server
from tests.e2e.browser import EXIT_HOST, Pages, adviser_client, start_chat
from tests.wsclient import Client

pytestmark = pytest.mark.e2e

MODULES = re.compile(r".*/static/(?!shared/exit-early\.js).*\.js$")
EVERY_SCRIPT = re.compile(r".*\.js$")


async def hold(route: Route) -> None:
    """A script on a very slow line: it never arrives while the test runs."""
    await asyncio.sleep(30)
    await route.abort()


async def slow_page(pages: Pages, scripts: re.Pattern[str], path: str = "/") -> Page:
    context = await pages.context()
    page = await context.new_page()
    await page.route(scripts, hold)
    await page.goto(pages.origin + path, wait_until="commit")
    await expect(page.get_by_role("link", name="Leave this page", exact=True)).to_be_visible()
    return page


async def test_leave_works_before_any_script_has_arrived(pages: Pages) -> None:
    her = await slow_page(pages, EVERY_SCRIPT)
    await her.get_by_role("link", name="Leave this page", exact=True).click()
    await her.wait_for_url(f"https://{EXIT_HOST}/**")
    await expect(her.locator("h1")).to_have_text("Weather")


async def test_escape_works_as_soon_as_the_first_small_script_runs(pages: Pages) -> None:
    her = await slow_page(pages, MODULES)
    await her.wait_for_function("() => Boolean(window.willowQuickExit)")
    await expect(her.locator("#start-form")).not_to_have_attribute("data-ready", "")
    await her.keyboard.press("Escape")
    await her.wait_for_url(f"https://{EXIT_HOST}/**")
    await her.go_back()
    assert not her.url.startswith(pages.origin), "Back must not return to the chat page"


async def test_a_chat_is_ended_by_escape_while_the_reloaded_page_is_still_loading(
    pages: Pages,
) -> None:
    her = await pages.visitor()
    await start_chat(her)
    token = json.loads(await her.evaluate("sessionStorage.getItem('willow.visitor')"))["token"]
    await her.route(MODULES, hold)
    await her.reload(wait_until="commit")
    await her.wait_for_function("() => Boolean(window.willowQuickExit)")
    await her.keyboard.press("Escape")
    await her.wait_for_url(f"https://{EXIT_HOST}/**")
    client = await Client.open(pages.server)
    await client.send({"type": "hello", "v": 1, "token": token})
    # Her token is dead: answered `unauthorized`, or, when the hello raced the exit, the
    # socket is closed as "session ended" (docs/PROTOCOL.md, close 4401).
    try:
        assert (await client.receive("error"))["code"] == "unauthorized"
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4401
    await client.close()


async def test_escape_while_typing_a_message(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser, _ = await adviser_client(pages.server, "kit")
    box = her.get_by_label("Your message")
    await box.fill("I was just writing that he")
    await box.press("Escape")
    await her.wait_for_url(f"https://{EXIT_HOST}/**")
    await her.go_back()
    assert not her.url.startswith(pages.origin)
    await adviser.close()


async def test_a_tap_on_start_before_the_scripts_arrive_is_kept(pages: Pages) -> None:
    context = await pages.context()
    her = await context.new_page()
    release = asyncio.Event()

    async def late(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await her.route(MODULES, late)
    await her.goto(pages.origin + "/", wait_until="commit")
    await her.wait_for_function("() => Boolean(window.willowQuickExit)")
    await her.locator("#start").click()
    await expect(her.locator("#start")).to_have_attribute("aria-busy", "true")
    release.set()
    await expect(her.locator("#chat-status")).to_contain_text("in the queue")


async def test_rooms_link_to_one_to_one_leaves_no_history_entry(pages: Pages) -> None:
    context = await pages.context()
    her = await context.new_page()
    await her.goto(pages.origin + "/")
    await her.goto(pages.origin + "/rooms")
    before = await her.evaluate("history.length")
    await her.get_by_role("link", name="Talk one to one with an adviser instead").click()
    await expect(her.locator("#start")).to_be_enabled()
    assert await her.evaluate("history.length") == before
    await her.get_by_role("link", name="Leave this page", exact=True).click()
    await her.wait_for_url(f"https://{EXIT_HOST}/**")
    await her.go_back()
    # The rooms page's entry was replaced by the one-to-one page, and that one by the exit.
    assert await her.evaluate("location.pathname") == "/"
    await her.go_forward()
    assert her.url.startswith(f"https://{EXIT_HOST}/")


WEB_HELPLINE = """
version: 1
helplines:
  - id: help-online-test
    name: Help online
    contacts:
      - {kind: web, value: "https://www.bbc.co.uk/helpline"}
    nations: [uk]
    categories: [suicide_self_harm]
"""


async def test_a_helpline_website_opens_here_after_the_quick_exit(
    browser: Browser, settings: Settings, tmp_path: Path
) -> None:
    directory = tmp_path / "directory.yaml"
    directory.write_text(WEB_HELPLINE, encoding="utf-8")
    # WILLOW_DIRECTORY_FILE, as the app reads it: through its settings.
    async with running_server(settings.model_copy(update={"directory_file": directory})) as server:
        pages = Pages(browser, server)
        her = await pages.visitor()
        await start_chat(her)
        token = json.loads(await her.evaluate("sessionStorage.getItem('willow.visitor')"))["token"]
        adviser, _ = await adviser_client(server, "lia")
        box = her.get_by_label("Your message")
        await box.fill("I've taken all my pills and I want to die tonight")
        await box.press("Enter")
        link = her.get_by_role("link", name="Help online website")
        await expect(link).to_be_visible()
        assert await link.get_attribute("target") is None, "same tab: the exit can close it"
        await link.click()
        await her.wait_for_url("https://www.bbc.co.uk/helpline")
        await her.go_back()
        assert not her.url.startswith(server.url), "Back must not return to the chat"
        client = await Client.open(server)
        await client.send({"type": "hello", "v": 1, "token": token})
        assert (await client.receive("error"))["code"] == "unauthorized"
        await client.close()
        await adviser.close()
        await pages.close()
        assert pages.foreign_requests() == [] and pages.page_errors == []

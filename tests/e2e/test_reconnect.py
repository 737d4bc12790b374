"""Her connection drops mid-chat: the page comes back by itself and nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, Route, WebSocketRoute, expect

from tests.e2e.browser import Pages, adviser_client, say, start_chat
from tests.wsclient import Client, Server

pytestmark = pytest.mark.e2e


class Link:
    """Stands between her page and the server's socket, so the test can cut it."""

    def __init__(self) -> None:
        self.up = True
        self.open: list[tuple[WebSocketRoute, WebSocketRoute]] = []

    async def handle(self, page_side: WebSocketRoute) -> None:
        if not self.up:
            await page_side.close(code=1011, reason="network down")
            return
        self.open.append((page_side, page_side.connect_to_server()))

    async def cut(self) -> None:
        self.up = False
        for page_side, server_side in self.open:
            await server_side.close()
            await page_side.close(code=1011, reason="network down")
        self.open.clear()


async def connected(pages: Pages, link: Link) -> tuple[Page, Client, int]:
    """Her page behind `link`, talking with an adviser who uses a plain socket client."""
    server: Server = pages.server
    context = await pages.context()
    await context.route_web_socket(re.compile(r"/ws$"), link.handle)
    her = await context.new_page()
    await her.goto(pages.origin + "/")
    await start_chat(her)
    adviser, conversation = await adviser_client(server, "dana")
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Dana")
    return her, adviser, conversation


async def test_messages_sent_while_she_was_offline_arrive_once_in_order(pages: Pages) -> None:
    link = Link()
    her, adviser, conversation = await connected(pages, link)
    await say(adviser, conversation, "a0", "before")
    await expect(her.locator("#log .msg-other")).to_have_count(1)

    await link.cut()
    await expect(her.locator("#connection")).to_have_text("Connection lost. Trying to reconnect…")
    for n in range(1, 4):
        await say(adviser, conversation, f"a{n}", f"while away {n}")
        await adviser.receive("ack", client_id=f"a{n}")
    # She writes while offline: shown at once as sending, delivered after the reconnect.
    await her.get_by_label("Your message").fill("are you still there?")
    await her.get_by_label("Your message").press("Enter")
    await expect(her.locator("#log .is-sending")).to_have_count(1)

    link.up = True
    await expect(her.locator("#connection")).to_have_text("")
    bodies = her.locator("#log .msg-other .msg-body")
    await expect(bodies).to_have_text(["before", "while away 1", "while away 2", "while away 3"])
    await expect(her.locator("#log .is-sending")).to_have_count(0)
    got = await adviser.receive("message", body="are you still there?")
    await adviser.drain(0.5)
    assert len([e for e in adviser.of_type("message") if e["client_id"] == got["client_id"]]) == 1

    # Live messages still flow after the resume, once each.
    await say(adviser, conversation, "a4", "welcome back")
    await expect(bodies).to_have_text(
        ["before", "while away 1", "while away 2", "while away 3", "welcome back"]
    )
    await expect(her.locator("#log .msg-own")).to_have_count(1)
    await adviser.close()


async def test_a_reload_continues_the_chat_with_its_history(pages: Pages) -> None:
    link = Link()
    her, adviser, conversation = await connected(pages, link)
    await her.get_by_label("Your message").fill("first")
    await her.get_by_label("Your message").press("Enter")
    await adviser.receive("message", body="first")
    await say(adviser, conversation, "r1", "reply")
    await expect(her.locator("#log .msg")).to_have_count(2)

    await her.reload()
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Dana")
    await expect(her.locator("#log .msg .msg-body")).to_have_text(["first", "reply"])
    await expect(her.locator("#log")).not_to_have_attribute("aria-busy", "true")
    await say(adviser, conversation, "r2", "still here")
    await expect(her.locator("#log .msg .msg-body")).to_have_text(["first", "reply", "still here"])
    await adviser.close()


async def test_starting_before_the_page_has_loaded_opens_one_connection(pages: Pages) -> None:
    """On a slow line she may press Start before the page has its settings: one chat, one
    socket, every message shown once."""
    context = await pages.context()

    async def slow(route: Route) -> None:
        await asyncio.sleep(1.5)
        await route.continue_()

    await context.route(re.compile(r"/api/config$"), slow)
    her = await context.new_page()
    sockets: list[str] = []
    her.on("websocket", lambda socket: sockets.append(socket.url))
    # Her page script has run (its handlers are wired) but its settings are still on the way.
    await her.goto(pages.origin + "/", wait_until="domcontentloaded")
    await her.get_by_role("button", name="Start a chat").click()
    await expect(her.locator("#chat-status")).to_contain_text("in the queue")
    adviser, conversation = await adviser_client(pages.server, "dana")
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Dana")
    await say(adviser, conversation, "a1", "hello, I am here")
    await expect(her.locator("#log .msg-other .msg-body")).to_have_text(["hello, I am here"])
    # Long enough for the page to finish loading and for any second socket to deliver.
    await asyncio.sleep(2)
    await expect(her.locator("#log .msg-other .msg-body")).to_have_text(["hello, I am here"])
    assert len(sockets) == 1

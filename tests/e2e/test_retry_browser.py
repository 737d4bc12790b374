"""The server answers `retry` (it cannot tell whether her message was stored): the page sends
it again by itself, with the same client_id, until it is acked, and it is stored once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import WebSocketRoute, expect

from tests.e2e.browser import Pages, adviser_client, start_chat, take_chat

pytestmark = pytest.mark.e2e


class Unsure:
    """Between her page and the server: her first message is lost on the way (never stored),
    the answers to her second (its echo and ack) on the way back (it was stored); each time
    she is told `retry`."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.answered: set[str] = set()

    def distinct(self) -> list[str]:
        return list(dict.fromkeys(self.sent))

    async def handle(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def to_server(frame: str | bytes) -> None:
            event = json.loads(frame)
            if event.get("type") == "message":
                self.sent.append(event["client_id"])
                first = self.distinct()[0]
                if event["client_id"] == first and first not in self.answered:
                    self.answered.add(first)
                    page_side.send(retry(first))
                    return
            server_side.send(frame)

        def to_page(frame: str | bytes) -> None:
            event = json.loads(frame)
            sent = self.distinct()
            second = sent[1] if len(sent) > 1 else None
            if (
                second is not None
                and event.get("client_id") == second
                and second not in self.answered
            ):
                if event.get("type") == "ack":
                    self.answered.add(second)
                    page_side.send(retry(second))
                return  # her echo of it, or its ack: lost
            page_side.send(frame)

        page_side.on_message(to_server)
        server_side.on_message(to_page)


def retry(client_id: str) -> str:
    return json.dumps(
        {"type": "error", "code": "retry", "ref": "message", "client_id": client_id,
         "message": "the message may or may not be stored"}
    )  # fmt: skip


async def test_a_message_answered_retry_is_sent_again_until_acked_and_stored_once(
    pages: Pages, tmp_path: Path
) -> None:
    unsure = Unsure()
    context = await pages.context()
    await context.route_web_socket(re.compile(r"/ws$"), unsure.handle)
    her = await context.new_page()
    await her.goto(pages.origin + "/")
    await start_chat(her)
    adviser, _conversation = await adviser_client(pages.server, "dana")
    await expect(her.locator("#chat-status")).to_have_text("You are talking with Dana")

    for words in ("first, lost on the way", "second, its ack lost"):
        await her.get_by_label("Your message").fill(words)
        await her.get_by_label("Your message").press("Enter")
    # Both end up sent (no bubble left "sending" or failed), each after a resend of its own.
    await expect(her.locator("#log .is-sending")).to_have_count(0, timeout=15_000)
    await expect(her.locator("#log .is-failed")).to_have_count(0)
    first, second = unsure.distinct()
    assert unsure.sent.count(first) >= 2 and unsure.sent.count(second) >= 2

    await adviser.receive("message", client_id=first, timeout=10)
    await adviser.receive("message", client_id=second, timeout=10)
    await adviser.drain(1.0)
    got = [e["client_id"] for e in adviser.of_type("message")]
    assert got.count(first) == 1 and got.count(second) == 1
    await her.screenshot(path=str(tmp_path / "retry-acked.png"))
    await adviser.close()


async def test_the_console_sends_a_reply_answered_retry_again_until_acked(pages: Pages) -> None:
    unsure = Unsure()
    her = await pages.visitor()
    await start_chat(her)
    username, password = await pages.server.add_staff("adviser", "noor")
    context = await pages.context(viewport={"width": 1280, "height": 900})
    await context.route_web_socket(re.compile(r"/ws$"), unsure.handle)
    adviser = await context.new_page()
    await adviser.goto(pages.origin + "/staff")
    await adviser.get_by_label("Username").fill(username)
    await adviser.get_by_label("Password").fill(password)
    await adviser.get_by_role("button", name="Log in").click()
    await take_chat(adviser)

    reply = adviser.get_by_role("tabpanel").get_by_label("Your reply")
    for words in ("first reply, lost on the way", "second reply, its ack lost"):
        await reply.fill(words)
        await reply.press("Enter")
    log = adviser.get_by_role("tabpanel").locator(".log")
    await expect(log.locator(".is-sending")).to_have_count(0, timeout=15_000)
    await expect(log.locator(".is-failed")).to_have_count(0)
    first, second = unsure.distinct()
    assert unsure.sent.count(first) >= 2 and unsure.sent.count(second) >= 2
    # She sees each reply once.
    bodies = her.locator("#log .msg-other .msg-body")
    await expect(bodies).to_have_text(
        ["second reply, its ack lost", "first reply, lost on the way"], timeout=10_000
    )

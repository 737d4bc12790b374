"""Every word the staff pages show comes from a catalogue (issue 14): the staff console, the
mentor console, admin, account and reports. The test serves English catalogues in which every
text is marked ⟦like this⟧, opens each page in its main states and reads what is on screen:
a word outside the marks, that is not a person's or a chat's own data, was written into the
page's code instead of the catalogue. The HTML shells are checked without a browser too."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any, ClassVar

import pytest
import yaml
from playwright.async_api import BrowserContext, Page, Route, expect

from chat.core.tally import Happening
from chat.reporting.counting import count
from tests.chat.test_reporting import month_of, months_ago
from tests.e2e.browser import Pages, start_chat, take_chat
from tests.e2e.test_catalogues import FRONTEND, catalogue
from tests.e2e.test_mentor_guidance_browser import RISKY
from tests.e2e.test_rooms_browser import join_room, open_rooms
from tests.e2e.test_safeguarding_browser import IMMINENT, say_as_her
from tests.peers.roomkit import record_training, say, woman_in
from tests.peers.test_rooms_catalogues import catalogue as rooms_catalogue

pytestmark = pytest.mark.e2e

OPEN, CLOSE = "⟦", "⟧"
ROOT = FRONTEND.parent
# The words of hers that raised the flag, quoted on staff pages.
PHRASES = ("taken all my pills", "want to die")
CONSOLE_PAGES = ("staff", "mentor", "admin", "account", "reports")
# Attributes whose words a person reads or hears.
SPOKEN = ("aria-label", "placeholder", "title", "alt")

# What is left of each text node and spoken attribute once the catalogue's marked words are
# taken out (innermost first, for words inside words), then the data the test itself put in.
UNMARKED = """(data) => {
  const found = [];
  const strip = (text) => {
    let rest = text, before;
    do { before = rest; rest = rest.replace(/⟦[^⟦⟧]*⟧/g, " "); } while (rest !== before);
    for (const item of data) rest = rest.split(item).join(" ");
    return /\\p{L}/u.test(rest) ? rest.trim() : "";
  };
  const seen = (element) => element.checkVisibility?.() ?? true;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    const skip = !parent || ["SCRIPT", "STYLE", "TEXTAREA"].includes(parent.tagName);
    if (skip || !seen(parent)) continue;
    const rest = strip(node.textContent);
    if (rest) found.push(`${parent.tagName.toLowerCase()}.${parent.className}: ${rest}`);
  }
  for (const element of document.body.querySelectorAll("*")) {
    if (!seen(element)) continue;
    for (const name of SPOKEN_NAMES) {
      const value = element.getAttribute(name);
      const rest = value ? strip(value) : "";
      if (rest) found.push(`${element.tagName.toLowerCase()}[${name}]: ${rest}`);
    }
  }
  const title = strip(document.title);
  if (title) found.push(`title: ${title}`);
  return found;
}""".replace("SPOKEN_NAMES", json.dumps(list(SPOKEN)))


def marked(words: dict[str, str]) -> str:
    return json.dumps({key: f"{OPEN}{text}{CLOSE}" for key, text in words.items()})


async def mark_catalogues(context: BrowserContext) -> None:
    """This context's pages get English catalogues with every text marked."""
    bodies = {"en.json": marked(catalogue("en")), "rooms.en.json": marked(rooms_catalogue("en"))}

    async def serve(route: Route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        await route.fulfill(status=200, content_type="application/json", body=bodies[name])

    await context.route("**/static/i18n/en.json", serve)
    await context.route("**/static/i18n/rooms.en.json", serve)


def service_data() -> list[str]:
    """Words a deployment writes in its own data files, not in the catalogues: the rooms (names,
    descriptions, rules), the safeguarding guidance beside a flagged message, the canned
    replies and the kinder-wording suggestions."""

    def load(*path: str) -> Any:
        return yaml.safe_load(ROOT.joinpath(*path).read_text(encoding="utf-8"))

    rooms = load("peers", "data", "rooms.yaml")
    guidance = load("moderation", "data", "guidance.yaml")
    words: list[str] = []
    for group in load("chat", "helpline", "data", "canned.yaml")["groups"]:
        words.append(group["title"])
        for reply in group["replies"]:
            words += [reply["title"], reply["text"]["en"]]
    outcomes = load("chat", "helpline", "data", "outcomes.yaml")
    words += [item["label"] for item in outcomes["outcomes"] + outcomes["categories"]]
    for rule in load("moderation", "data", "wording.yaml")["rules"]:
        words += [rule["suggestion"], rule["why"]]
    for room in rooms:
        words += [room["name"], " ".join(room["description"].split()), room["audience"]]
        words += room.get("ground_rules", [])
    for kind in guidance.values():
        words += [kind["title"], *kind["steps"]]
    # Longest first, so a name inside a longer text never leaves half of it behind.
    return sorted(words, key=len, reverse=True)


async def unmarked(page: Page, *data: str) -> list[str]:
    """What the page shows that is neither a catalogue's words nor the given or service data."""
    found: list[str] = await page.evaluate(UNMARKED, [d for d in (*data, *service_data()) if d])
    for line in found:
        print("UNMARKED", line)  # shown with the failure, one per line
    return found


async def marked_console(
    pages: Pages, role: str, name: str, path: str = "/staff"
) -> tuple[Page, str]:
    """A logged-in page for `role` whose words are all marked, and the username."""
    username, password = await pages.server.add_staff(role, name.lower())
    if role == "mentor":
        await record_training(pages.server, username)
    if role == "adviser":
        await pages.server.set_profile(username, languages=["en"])
    context = await pages.context(viewport={"width": 1280, "height": 900})
    await mark_catalogues(context)
    page = await context.new_page()
    # Admin, account and reports pages use the staff console's login.
    login = "/mentor" if path == "/mentor" else "/staff"
    await page.goto(pages.origin + login)
    await expect(page.locator("#username")).to_be_visible()
    assert await unmarked(page) == [], f"{login}: the login form"
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(password)
    await page.locator("#login-form [type=submit], form [type=submit]").first.click()
    await expect(page.locator("#me-name")).to_contain_text(name)
    if path != login:
        await page.goto(pages.origin + path)
    return page, username


async def test_the_staff_console_shows_only_catalogue_words(pages: Pages) -> None:
    her = await pages.visitor()
    await start_chat(her, topic="alcohol", safe="unsure")
    waiting = await pages.visitor()
    await start_chat(waiting, topic="children", safe="no")
    adviser, _ = await marked_console(pages, "adviser", "Vic")
    await expect(adviser.locator("#queue-rows tr")).to_have_count(2)
    assert await unmarked(adviser, "Vic") == [], "with women waiting"
    # The check sees a word that does not come from the catalogue.
    await adviser.evaluate("document.querySelector('main').append('Stray words')")
    assert await unmarked(adviser, "Vic") == ["main.staff-main: Stray words"]
    await adviser.evaluate("document.querySelector('main').lastChild.remove()")

    await take_chat(adviser)
    panel = adviser.get_by_role("tabpanel")
    await say_as_her(her, "hello, is anyone there")
    await say_as_her(her, IMMINENT)
    await expect(panel.locator(".safety-guidance")).to_be_visible()
    reply = panel.locator("textarea[id^=reply-]")
    # Her words, Vic's name and the word of Vic's draft that the kinder-wording check quotes.
    data = ("Vic", "hello, is anyone there", IMMINENT, *PHRASES, "must")
    await reply.fill("You must leave him")
    await expect(panel.locator(".wording")).to_be_visible()
    # Open each tool in turn so its words are on screen.
    await reply.press("Control+/")
    await expect(panel.get_by_role("option").first).to_be_visible()
    assert await unmarked(adviser, *data) == []
    await adviser.keyboard.press("Escape")
    await panel.locator(".note-list, .notes textarea").first.wait_for(state="attached")
    await reply.press("Alt+t")
    await expect(panel.locator(".transfer-to")).to_be_visible()
    assert await unmarked(adviser, *data) == []
    await adviser.locator("#keys-open").click()
    await expect(adviser.locator("#keys-dialog")).to_be_visible()
    assert await unmarked(adviser, *data) == []
    await adviser.keyboard.press("Escape")
    await adviser.locator("#notify-open").click()
    await adviser.locator("#notify-sound").check()
    assert await unmarked(adviser, *data) == [], "the notification settings"
    await adviser.keyboard.press("Escape")
    await expect(adviser.locator("#notify-dialog")).to_be_hidden()

    # A note, then the end and the wrap-up (its outcomes are the service's data file).
    await panel.locator(".note-field").fill("Two children at home")
    await panel.locator(".note-form [type=submit]").click()
    await expect(panel.locator(".note-list")).to_contain_text("Two children at home")
    await panel.locator(".end").click()
    await expect(panel.locator(".end-confirm")).to_be_visible()
    assert await unmarked(adviser, *data, "Two children at home") == [], "asked to confirm"
    await panel.locator(".end-yes").click()
    await expect(panel.locator(".wrapup")).to_be_visible()
    await panel.locator(".wrapup-form [type=submit]").click()
    await expect(panel.locator(".wrapup-status")).not_to_have_text("")
    assert await unmarked(adviser, *data, "Two children at home") == [], "the wrap-up"


async def test_the_supervisors_console_and_reports_show_only_catalogue_words(
    pages: Pages,
) -> None:
    her = await pages.visitor()
    await start_chat(her)
    adviser = await pages.adviser("Asha")
    await take_chat(adviser)
    await say_as_her(her, IMMINENT)
    supervisor, _ = await marked_console(pages, "supervisor", "Sol")
    await expect(supervisor.locator("#alerts-list .alert-item")).to_have_count(1)
    # The live board names each adviser (their own data, not catalogue words).
    assert await unmarked(supervisor, "Sol", "Asha", *PHRASES) == []
    await supervisor.locator("#alerts-list button").first.click()
    await expect(supervisor.get_by_role("tabpanel").locator(".log")).to_contain_text("pills")
    assert await unmarked(supervisor, "Sol", "Asha", IMMINENT, *PHRASES) == []

    services = pages.server.services
    assert services is not None
    for language, how_many in (("en", 11), ("pl", 3)):
        for _ in range(how_many):
            await count(services, Happening("contact", {"language": language}, at=months_ago(1)))
    await supervisor.goto(pages.origin + "/reports")
    await expect(supervisor.locator("#month")).to_have_value(month_of(months_ago(1)))
    await expect(supervisor.locator("table").first).to_be_visible()
    await supervisor.wait_for_load_state("networkidle")
    assert await unmarked(supervisor, "Sol", month_of(months_ago(1))) == []


async def test_the_mentor_console_shows_only_catalogue_words(pages: Pages) -> None:
    console, _ = await marked_console(pages, "mentor", "Maya", "/mentor")
    await expect(console.locator("#choose-list li").first).to_be_visible()
    assert await unmarked(console, "Maya") == [], "the list of rooms"
    await console.locator("#choose-list li", has_text="First time here").locator("button").click()
    await expect(console.locator("#console")).to_be_visible()
    her = await open_rooms(pages)
    await join_room(her, "First time here")
    name = (await her.locator("#me bdi").text_content()) or ""
    await expect(console.locator(".person", has_text=name)).to_be_visible()
    await say_as_her_in_room(her, "hello everyone")
    await expect(console.locator("#log")).to_contain_text("hello everyone")
    await console.locator("#message").fill("Welcome")
    await console.locator("#message").press("Enter")
    data = ("Maya", name, "hello everyone", "Welcome")
    # One of her controls open, and a danger alert with its guidance (the guidance is data).
    await console.locator(".person", has_text=name).locator("button").first.click()
    await expect(console.locator(".person .action-form")).to_be_visible()
    other = await woman_in(pages.server)
    await say(other.client, "r1", RISKY)
    await expect(console.locator("#alerts .queue-item").first).to_be_visible()
    others = str(other.welcome["pseudonym"])
    assert await unmarked(console, *data, others, RISKY, "kill myself") == []
    await console.locator("#close-room").click()
    await expect(console.locator("#close-form")).to_be_visible()
    assert await unmarked(console, *data, others, RISKY, "kill myself") == []
    await other.client.close()


async def say_as_her_in_room(her: Page, body: str) -> None:
    box = her.locator("#message")
    await box.fill(body)
    await box.press("Enter")


async def test_admin_and_account_pages_show_only_catalogue_words(pages: Pages) -> None:
    amina, _ = await pages.server.add_staff("mentor", "amina")
    admin, ada = await marked_console(pages, "admin", "Ada", "/admin")
    await expect(admin.locator("#staff-rows tr").first).to_be_visible()
    names = ["Ada", "Amina", ada, amina]
    assert await unmarked(admin, *names) == [], "the list of accounts"
    await admin.locator("#staff-rows button").first.click()
    await expect(admin.locator("#manage")).to_be_visible()
    assert await unmarked(admin, *names) == [], "managing one account"

    await admin.goto(pages.origin + "/account")
    await expect(admin.locator("main")).to_be_visible()
    await admin.wait_for_load_state("networkidle")
    assert await unmarked(admin, "Ada", *names) == []


class _Shell(HTMLParser):
    """Text in an HTML shell that no data-i18n / data-words attribute replaces."""

    VOID: ClassVar[set[str]] = {"meta", "link", "input", "br", "img", "hr", "source", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.bare: list[str] = []
        self.keys: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name, value in found.items():
            if name.startswith(("data-i18n", "data-words")) and value:
                self.keys.add(value)
        for name in SPOKEN:
            if found.get(name) and not any(
                other in found for other in (f"data-i18n-{name}", f"data-words-{name}")
            ):
                self.bare.append(f"<{tag} {name}={found[name]!r}>")
        if tag not in self.VOID:
            self.stack.append((tag, found))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not any(c.isalpha() for c in data) or not self.stack:
            return
        tag, found = self.stack[-1]
        if tag in ("script", "style") or "data-i18n" in found or "data-words" in found:
            return
        # A language's own name in its own script is the same in every catalogue.
        if tag == "option" and found.get("lang"):
            return
        self.bare.append(f"<{tag}> {data.strip()}")


@pytest.mark.parametrize("page", CONSOLE_PAGES)
def test_the_html_shells_have_no_bare_words_and_every_key_exists(page: str) -> None:
    shell = _Shell()
    shell.feed((FRONTEND / page / "index.html").read_text(encoding="utf-8"))
    assert shell.bare == [], f"{page}/index.html has words outside the catalogue"
    known = catalogue("en").keys() | rooms_catalogue("en").keys()
    assert shell.keys, "the scan found the page's keys"
    assert sorted(shell.keys - known) == [], f"{page}/index.html names unknown keys"


def test_the_shell_check_sees_a_bare_word() -> None:
    shell = _Shell()
    shell.feed('<p data-i18n="staff.x">ok</p><p>Take next chat</p><b aria-label="Close">×</b>')
    assert shell.bare == ["<p> Take next chat", "<b aria-label='Close'>"]

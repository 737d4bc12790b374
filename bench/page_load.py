"""How soon the visitor page is usable on a slow phone, and how many bytes its first screen costs.

    .venv/bin/python -m bench.page_load                 # starts its own server from this checkout
    .venv/bin/python -m bench.page_load --url http://127.0.0.1:8000 --runs 5

Chromium (Debian's /usr/bin/chromium through Playwright) opens the page with a cold cache on a
360x740 phone screen, with the network throttled through the DevTools protocol
(Network.emulateNetworkConditions: 400 ms round trip, 400 kbit/s each way) and the CPU slowed
fourfold (Emulation.setCPUThrottlingRate). Each run reports, in milliseconds from the start of
navigation, by the page's own clock:

- `leave_link`: first contentful paint. The Leave link is a plain link in the header, so from
  this moment a tap on it leaves (no script needed).
- `keys`: the quick-exit keys and handlers work (the small first script has run).
- `start`: the Start button's handler is wired (a tap before this is kept and acted on).
- `words`: the config and the page's words have arrived.
- `bytes`: everything transferred until the network is quiet (headers included), and `requests`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
LATENCY_MS = 400
THROUGHPUT_BYTES_PER_S = 400_000 // 8
CPU_SLOWDOWN = 4
QUIET_MS = 1500
MAX_WAIT_STEPS = 600  # a minute at most, in tenths of a second
ROOT = Path(__file__).resolve().parents[1]

# A page from before the early quick-exit script wires its keys and Start in the same step
# that asks for /api/config; for such a page that request's start is the moment both work.
CONFIG_STARTED = """(() => {
  const entry = performance.getEntriesByType('resource')
    .find((e) => e.name.includes('/api/config'));
  return entry ? entry.startTime : 0;
})()"""
KEYS_READY = f"() => (window.willowQuickExit ? performance.now() : {CONFIG_STARTED})"
START_READY = (
    "() => (document.querySelector('#start-form')?.hasAttribute('data-ready')"
    f" ? performance.now() : {CONFIG_STARTED})"
)
FIRST_PAINT = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return paint ? paint.startTime : 0;
}"""
WORDS_AT = """() => {
  const entries = performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/api/config') || /\\/i18n\\/[a-z]+\\.json/.test(e.name));
  return entries.length && entries.every((e) => e.responseEnd > 0)
    ? Math.max(...entries.map((e) => e.responseEnd)) : 0;
}"""


async def _time_of(page: Page, test: str) -> float:
    handle = await page.wait_for_function(test, polling=20, timeout=60_000)
    return float(await handle.json_value())


async def _one_run(browser: Any, url: str) -> dict[str, float]:
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    await cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": LATENCY_MS,
            "downloadThroughput": THROUGHPUT_BYTES_PER_S,
            "uploadThroughput": THROUGHPUT_BYTES_PER_S,
        },
    )
    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    sizes: list[float] = []
    last_at = [time.monotonic()]

    def finished(event: dict[str, Any]) -> None:
        sizes.append(float(event.get("encodedDataLength", 0)))
        last_at[0] = time.monotonic()

    cdp.on("Network.loadingFinished", finished)
    await page.goto(url, wait_until="commit")
    keys = await _time_of(page, KEYS_READY)
    start = await _time_of(page, START_READY)
    await page.wait_for_function(WORDS_AT, polling=50, timeout=60_000)
    # On the old page the English fallback and her language are fetched one after the other.
    await asyncio.sleep(QUIET_MS / 1000)
    for _ in range(MAX_WAIT_STEPS):
        if time.monotonic() - last_at[0] >= QUIET_MS / 1000:
            break
        await asyncio.sleep(0.1)
    result = {
        "leave_link": float(await page.evaluate(FIRST_PAINT)),
        "keys": keys,
        "start": start,
        "words": float(await page.evaluate(WORDS_AT)),
        "bytes": sum(sizes),
        "requests": float(len(sizes)),
    }
    await context.close()
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _own_server() -> Iterator[str]:
    """Willow from this checkout, on a fresh SQLite file, for as long as the runs take."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "WILLOW_ENV": "development",
            "WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
            "WILLOW_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-m", "uvicorn", "--factory", "chat.app:create_app"]
        server = subprocess.Popen(
            [*command, "--port", str(port), "--no-access-log"], cwd=ROOT, env=env
        )
        try:
            _wait_for_port(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not open port {port} within 30 s")


async def measure(url: str, runs: int) -> list[dict[str, float]]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            return [await _one_run(browser, url + "/") for _ in range(runs)]
        finally:
            await browser.close()


def report(results: list[dict[str, float]]) -> str:
    names = ["leave_link", "keys", "start", "words", "bytes", "requests"]
    lines = ["| run | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for number, result in enumerate(results, 1):
        lines.append(f"| {number} | " + " | ".join(f"{result[n]:,.0f}" for n in names) + " |")
    medians = {n: statistics.median(r[n] for r in results) for n in names}
    lines.append("| median | " + " | ".join(f"{medians[n]:,.0f}" for n in names) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running Willow (default: start one from this checkout)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.url:
        results = asyncio.run(measure(args.url.rstrip("/"), args.runs))
    else:
        with _own_server() as url:
            results = asyncio.run(measure(url, args.runs))
    print(report(results))


if __name__ == "__main__":
    main()

"""The visitor page's pre-built bundle: used while it matches its sources, never when stale."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from chat import bundle
from chat.app import MIN_COMPRESSED_BYTES
from tests.wsclient import Server

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
TAGS = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def test_the_committed_bundle_matches_the_modules_it_was_built_from() -> None:
    assert bundle.load(FRONTEND) is not None, (
        "a visitor or shared module changed after the bundle was built: the page falls back to "
        "loading every module separately (slow on a phone). Run `make bundle`"
    )


async def test_the_first_screen_loads_one_stylesheet_and_the_bundle_in_one_round(
    server: Server,
) -> None:
    async with server.http() as http:
        page = (await http.get("/")).text
        wanted = TAGS.findall(page)
        assert "/static/visitor/main.js" not in wanted, "the modules themselves are not loaded"
        assert [w for w in wanted if w.endswith(".css")] == [
            next(w for w in wanted if w.startswith("/static/visitor/dist/") and w.endswith(".css"))
        ]
        # At most six: what a browser asks of one host at once over HTTP/1.1.
        assert len(set(wanted)) <= 6, wanted
        for path in set(wanted):
            answer = await http.get(path, headers={"accept-encoding": "gzip"})
            assert answer.status_code == 200, path
            if len(answer.content) > MIN_COMPRESSED_BYTES:
                assert answer.headers.get("content-encoding") == "gzip", path
        assert "<script>" not in page and "<style" not in page, "nothing inline: the CSP holds"


def test_a_changed_module_makes_the_page_load_the_modules_themselves(tmp_path: Path) -> None:
    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND, copy, ignore=shutil.ignore_patterns("i18n"))
    page = (copy / "visitor" / "index.html").read_text(encoding="utf-8")
    fresh = bundle.load(copy)
    assert fresh is not None
    assert "/static/visitor/dist/" in bundle.apply(page, fresh)
    assert "/static/visitor/main.js" not in bundle.apply(page, fresh)

    view = copy / "visitor" / "view.js"
    view.write_text(view.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    stale = bundle.load(copy)
    assert stale is None
    assert bundle.apply(page, stale) == page
    assert '<script type="module" src="/static/visitor/main.js">' in page


def test_a_missing_or_broken_manifest_means_no_bundle(tmp_path: Path) -> None:
    assert bundle.load(tmp_path) is None
    (tmp_path / "visitor" / "dist").mkdir(parents=True)
    (tmp_path / "visitor" / "dist" / "manifest.json").write_text("{not json", encoding="utf-8")
    assert bundle.load(tmp_path) is None

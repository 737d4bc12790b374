"""A risk category must be known everywhere that lists categories, pages included.

Adding one to moderation.types.RiskCategory without the others would show staff a raw code,
leave it out of the directory search, or leave her without a helplines card for it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from moderation.directory import DirectoryCategory, load_default_directory
from moderation.guidance import default_guidance
from moderation.types import RiskCategory

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CATEGORIES = {category.value for category in RiskCategory}


def _block(source: str, start: str) -> str:
    return source.split(start, 1)[1].split("}", 1)[0]


def test_the_staff_pages_name_every_category_in_words() -> None:
    levels = (FRONTEND / "staff" / "levels.js").read_text(encoding="utf-8")
    named = set(
        re.findall(
            r"^\s*([a-z_]+): \"staff\.category\.\1\"",
            _block(levels, "const CATEGORY_NAMES = {"),
            re.MULTILINE,
        )
    )
    assert named == CATEGORIES


def test_the_english_catalogue_has_a_name_for_every_category() -> None:
    catalogue = json.loads((FRONTEND / "i18n" / "en.json").read_text(encoding="utf-8"))
    listed = {
        key.removeprefix("staff.category.")
        for key in catalogue
        if key.startswith("staff.category.")
    }
    assert listed == CATEGORIES
    assert all(catalogue[f"staff.category.{category}"].strip() for category in CATEGORIES)


def test_the_directory_search_offers_every_category() -> None:
    page = (FRONTEND / "staff" / "index.html").read_text(encoding="utf-8")
    options = set(
        re.findall(
            r'<option value="([a-z0-9_]+)">',
            page.split('id="directory-categories"', 1)[1].split("</datalist>", 1)[0],
        )
    )
    assert options >= CATEGORIES
    assert options == {category.value for category in DirectoryCategory}


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_every_category_has_guidance_and_a_helpline(category: str) -> None:
    assert RiskCategory(category) in default_guidance()
    directory = load_default_directory()
    assert directory.search(category=category), f"no helpline for {category}"

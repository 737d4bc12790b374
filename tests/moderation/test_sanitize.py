"""Message bodies stay plain text, without characters that hide or disguise content."""

from __future__ import annotations

import pytest

from moderation.sanitize import plain_text


def test_plain_text_removes_hidden_characters_and_trims() -> None:
    body = "  he\u200bllo\u202e there\x07\x00 \r\nsecond\tline \ufeff "
    assert plain_text(body) == "hello there \nsecond\tline"


def test_plain_text_keeps_markup_as_written() -> None:
    # Pages insert bodies with textContent, so nothing needs escaping here.
    assert plain_text("<b>I'm ok</b> & you?") == "<b>I'm ok</b> & you?"


@pytest.mark.parametrize("body", ["\ud83d", "a\udc00b", "\x00" * 50, "\x1b[31mred"])
def test_plain_text_output_is_always_storable(body: str) -> None:
    cleaned = plain_text(body)
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned and "\x1b" not in cleaned


def test_plain_text_keeps_other_scripts_and_emoji() -> None:
    body = "Dziękuję 💜 شكرا বাংলা"
    assert plain_text(body) == body

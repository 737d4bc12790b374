"""The moderation files named in the settings are the ones a running app checks messages with."""

from __future__ import annotations

from pathlib import Path

from chat.core.settings import Settings
from tests.conftest import running_server
from tests.wsclient import connected_pair

LEXICON = """
language: en
entries:
  - category: sexual_violence
    level: high
    patterns: ["purple elephant"]
"""
WORDLIST = "hate: [examplebadword]\n"


async def test_the_extra_lexicon_and_word_list_in_the_settings_grade_her_messages(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "lexicons").mkdir()
    (tmp_path / "lexicons" / "local.yaml").write_text(LEXICON, encoding="utf-8")
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "en.yaml").write_text(WORDLIST, encoding="utf-8")
    configured = settings.model_copy(
        update={"lexicon_dir": tmp_path / "lexicons", "wordlist_dir": tmp_path / "words"}
    )
    async with running_server(configured) as server:
        her, adviser, conversation, _ = await connected_pair(server)
        for client_id, body in (("a", "the purple elephant again"), ("b", "examplebadword")):
            await her.send(
                {
                    "type": "message",
                    "conversation_id": conversation,
                    "client_id": client_id,
                    "body": body,
                }
            )
            await her.receive("ack", client_id=client_id)
        risk = await adviser.receive("flag")
        assert risk["level"] == "high" and "sexual_violence" in risk["categories"]
        abuse = await adviser.receive("flag")
        assert abuse["abuse"] == ["examplebadword"]
        for client in (her, adviser):
            await client.close()

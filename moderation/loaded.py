"""The moderation data files an app uses, loaded once at start from the paths it was given.

The server's settings name the extra files (WILLOW_LEXICON_DIR, WILLOW_WORDLIST_DIR,
WILLOW_GUIDANCE_FILE, WILLOW_DIRECTORY_FILE); the composition root passes them here, so the
pure checks never read the environment. A bad file stops the start with its name and problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from moderation.abuse import WordLists, default_wordlists
from moderation.directory import Directory, load_default_directory
from moderation.guidance import Guidance, default_guidance
from moderation.risk import Classifier, default_detector
from moderation.types import RiskCategory
from moderation.wording import default_wording_rules


@dataclass(frozen=True)
class Rules:
    """What the pipeline grades a message with: risk rules and abuse word lists."""

    detector: Classifier
    wordlists: WordLists


@dataclass(frozen=True)
class ModerationData:
    rules: Rules
    guidance: dict[RiskCategory, Guidance]
    directory: Directory


def load_moderation_data(
    lexicon_dir: Path | None = None,
    wordlist_dir: Path | None = None,
    guidance_file: Path | None = None,
    directory_file: Path | None = None,
) -> ModerationData:
    detector = default_detector(lexicon_dir)
    detector.assess("warm up the lexicons", None)
    default_wording_rules()
    return ModerationData(
        rules=Rules(detector, default_wordlists(wordlist_dir)),
        guidance=default_guidance(guidance_file),
        directory=load_default_directory(directory_file),
    )

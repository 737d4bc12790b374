"""What a visitor may choose on the first screen; the same short lists bound figures and labels."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["en", "pl", "ar", "ur", "bn", "pa", "so"]
Topic = Literal[
    "talk",
    "drugs",
    "alcohol",
    "abuse",
    "children",
    "health",
    "sexual_violence",
    "forced_marriage",
    "sex_work",
    "other",
]
Nation = Literal["england", "wales", "scotland", "northern_ireland"]
# The same lists as tuples, for figures and labels.
LANGUAGES: tuple[str, ...] = get_args(Language)
TOPICS: tuple[str, ...] = get_args(Topic)
NATIONS: tuple[str, ...] = get_args(Nation)

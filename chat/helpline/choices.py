"""What a visitor may choose on the first screen; the same short lists bound figures and labels."""

from __future__ import annotations

LANGUAGES = ("en", "pl", "ar", "ur", "bn", "pa", "so")
TOPICS = (
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
)
NATIONS = ("england", "wales", "scotland", "northern_ireland")

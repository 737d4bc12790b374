"""Steps shown to staff beside a flagged message, per risk category (a data file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from moderation.datafiles import DATA_DIR, DataFileError, describe_validation_error, load_mapping
from moderation.types import RiskCategory

GUIDANCE_FILE = DATA_DIR / "guidance.yaml"

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]


class Guidance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Line
    steps: tuple[Line, ...] = Field(min_length=1, max_length=12)


def load_guidance(path: Path) -> dict[RiskCategory, Guidance]:
    """Guidance for every category; a missing category or a bad entry is a clear error."""
    data = load_mapping(path)
    known = {c.value for c in RiskCategory}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DataFileError(path, f"unknown categories {unknown}; known: {sorted(known)}")
    missing = sorted(known - set(data))
    if missing:
        raise DataFileError(path, f"no guidance for {missing}")
    out: dict[RiskCategory, Guidance] = {}
    for name, entry in data.items():
        try:
            out[RiskCategory(name)] = Guidance.model_validate(entry)
        except ValidationError as exc:
            raise DataFileError(path, f"{name}: {describe_validation_error(exc)}") from None
    return out


@cache
def default_guidance(path: Path | None = None) -> dict[RiskCategory, Guidance]:
    """The shipped guidance, or the file the server's settings name (WILLOW_GUIDANCE_FILE)."""
    return load_guidance(path or GUIDANCE_FILE)


def guidance_for(
    categories: tuple[RiskCategory, ...], guidance: dict[RiskCategory, Guidance] | None = None
) -> list[dict[str, object]]:
    guidance = guidance or default_guidance()
    return [{"category": c.value, **guidance[c].model_dump()} for c in categories]

"""The fixed list of escalation outcome codes: how an escalation ended, countable in reports.

The codes come from a data file a service can replace (data/escalation_outcomes.yaml, or
WILLOW_ESCALATION_OUTCOMES_FILE), checked at start with a clear error naming the file. Staff
pick one code when recording an outcome; the free-text note beside it is never counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from moderation.datafiles import DataFileError, describe_validation_error, load_mapping

ESCALATION_OUTCOMES_FILE = Path(__file__).resolve().parent / "data" / "escalation_outcomes.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class OutcomeCode(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Annotated[str, Field(min_length=1, max_length=80)]


class EscalationOutcomes(_Strict):
    outcomes: list[OutcomeCode] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _unique(self) -> EscalationOutcomes:
        ids = [code.id for code in self.outcomes]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"outcome id(s) used twice: {', '.join(repeated)}")
        return self

    def knows(self, code: str) -> bool:
        return any(known.id == code for known in self.outcomes)

    def labels(self) -> dict[str, str]:
        return {code.id: code.label for code in self.outcomes}


def load_escalation_outcomes(path: Path | None = None) -> EscalationOutcomes:
    """Read and check the codes; a bad file raises DataFileError naming it."""
    path = path or ESCALATION_OUTCOMES_FILE
    try:
        return EscalationOutcomes.model_validate(load_mapping(path))
    except ValidationError as exc:
        raise DataFileError(path, describe_validation_error(exc)) from None

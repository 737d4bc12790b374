"""The guidance file: every category covered, bad data named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from moderation.datafiles import DataFileError
from moderation.guidance import GUIDANCE_FILE, load_guidance
from moderation.types import RiskCategory


def test_the_shipped_guidance_covers_every_category() -> None:
    guidance = load_guidance(GUIDANCE_FILE)
    assert set(guidance) == set(RiskCategory)
    assert all(g.steps for g in guidance.values())


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "guidance.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("sexual_violence"), "no guidance for ['sexual_violence']"),
        (
            lambda d: d.update(gardening={"title": "x", "steps": ["y"]}),
            "unknown categories ['gardening']",
        ),
        (lambda d: d["overdose_medical"].update(steps=[]), "overdose_medical: steps"),
        (lambda d: d["overdose_medical"].update(colour="red"), "overdose_medical: colour"),
    ],
)
def test_bad_guidance_is_refused_with_the_file_and_the_problem(
    tmp_path: Path, change: object, message: str
) -> None:
    data = yaml.safe_load(GUIDANCE_FILE.read_text())
    change(data)  # type: ignore[operator]
    path = _write(tmp_path, data)
    with pytest.raises(DataFileError) as caught:
        load_guidance(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_not_yaml_at_all_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "guidance.yaml"
    path.write_text("title: [unclosed")
    with pytest.raises(DataFileError, match=str(path)):
        load_guidance(path)

"""Settings refuse unsafe or impossible combinations with a message that says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from chat.core.settings import DEVELOPMENT_SECRET_KEY, Settings

STRONG = "k" * 48


def test_defaults_run_with_no_configuration() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.broker_url == "memory://"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_redis_with_sqlite_is_refused() -> None:
    with pytest.raises(ValidationError, match="cannot share one SQLite file"):
        Settings(broker_url="redis://127.0.0.1:6379/0")


@pytest.mark.parametrize("key", ["", "short", DEVELOPMENT_SECRET_KEY])
def test_production_needs_a_strong_secret_key(key: str) -> None:
    with pytest.raises(ValidationError, match="WILLOW_SECRET_KEY"):
        Settings(env="production", secret_key=key)
    assert Settings(env="production", secret_key=STRONG).secure_cookies


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("database_url", "mysql://x", "WILLOW_DATABASE_URL"),
        ("broker_url", "kafka://x", "WILLOW_BROKER_URL"),
        ("exit_url", "javascript:alert(1)", "WILLOW_EXIT_URL"),
        ("port", 0, "greater than or equal to 1"),
        ("send_queue_size", 1, "greater than or equal to 8"),
        ("housekeeping_seconds", 0, "greater than 0"),
        ("visitor_session_hours", -1, "greater than 0"),
        ("audit_retention_days", 0, "greater than or equal to 1"),
    ],
)
def test_bad_values_are_named(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value})


def _willow(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chat.cli", *args],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_line_refuses_bad_settings_clearly(tmp_path: Path) -> None:
    result = _willow(
        ["migrate"], {"WILLOW_ENV": "production", "WILLOW_SECRET_KEY": "weak"}, tmp_path
    )
    assert result.returncode != 0
    assert "WILLOW_SECRET_KEY must be at least 32" in result.stderr


def test_staff_add_prints_a_random_password_once(tmp_path: Path) -> None:
    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    first = _willow(["staff", "add", "--role", "mentor", "amina"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    second = _willow(["staff", "add", "--role", "adviser", "sam"], env, tmp_path)
    passwords = [
        line.rsplit(": ", 1)[1]
        for line in (first.stdout + second.stdout).splitlines()
        if "password" in line
    ]
    assert len(passwords) == 2 and passwords[0] != passwords[1] and len(passwords[0]) >= 12
    again = _willow(["staff", "add", "--role", "mentor", "amina"], env, tmp_path)
    assert again.returncode != 0 and "already exists" in again.stderr
    bad_role = _willow(["staff", "add", "--role", "owner", "x"], env, tmp_path)
    assert bad_role.returncode != 0 and "invalid choice" in bad_role.stderr


def test_staff_train_records_and_withdraws_training(tmp_path: Path) -> None:
    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    assert _willow(["staff", "add", "--role", "mentor", "amina"], env, tmp_path).returncode == 0
    trained = _willow(["staff", "train", "--note", "groups course", "amina"], env, tmp_path)
    assert trained.returncode == 0 and "training recorded for 'amina'" in trained.stdout
    withdrawn = _willow(["staff", "train", "--withdraw", "amina"], env, tmp_path)
    assert withdrawn.returncode == 0 and "withdrawn" in withdrawn.stdout
    unknown = _willow(["staff", "train", "nobody"], env, tmp_path)
    assert unknown.returncode != 0 and "no staff member 'nobody'" in unknown.stderr

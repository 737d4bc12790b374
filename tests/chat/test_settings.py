"""Settings refuse unsafe or impossible combinations with a message that says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from chat.core.settings import DEVELOPMENT_SECRET_KEY, Settings

STRONG = "Zq8x7Tb2mK9pLwR4vN6cY1hJ3sD5fG8aQ0eU2iO4wE6rT8yP"


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
        ("wait_target_seconds", 5, "greater than or equal to 10"),
        ("wait_target_seconds", 86_400, "less than or equal to 3600"),
        ("wait_target_seconds", "soon", "valid integer"),
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
    first = _willow(
        ["staff", "add", "--role", "mentor", "--display-name", "Mina", "amina"], env, tmp_path
    )
    assert first.returncode == 0, first.stderr
    second = _willow(["staff", "add", "--role", "adviser", "sam"], env, tmp_path)
    passwords = [
        line.rsplit(": ", 1)[1]
        for line in (first.stdout + second.stdout).splitlines()
        if "password" in line
    ]
    assert len(passwords) == 2 and passwords[0] != passwords[1] and len(passwords[0]) >= 12
    again = _willow(
        ["staff", "add", "--role", "mentor", "--display-name", "Mina", "amina"], env, tmp_path
    )
    assert again.returncode != 0 and "already exists" in again.stderr
    bad_role = _willow(["staff", "add", "--role", "owner", "x"], env, tmp_path)
    assert bad_role.returncode != 0 and "invalid choice" in bad_role.stderr


def test_staff_train_records_and_withdraws_training(tmp_path: Path) -> None:
    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    assert (
        _willow(
            ["staff", "add", "--role", "mentor", "--display-name", "Mina", "amina"], env, tmp_path
        ).returncode
        == 0
    )
    trained = _willow(["staff", "train", "--note", "groups course", "amina"], env, tmp_path)
    assert trained.returncode == 0 and "training recorded for 'amina'" in trained.stdout
    withdrawn = _willow(["staff", "train", "--withdraw", "amina"], env, tmp_path)
    assert withdrawn.returncode == 0 and "withdrawn" in withdrawn.stdout
    unknown = _willow(["staff", "train", "nobody"], env, tmp_path)
    assert unknown.returncode != 0 and "no staff member 'nobody'" in unknown.stderr


def test_the_default_database_is_the_same_file_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WILLOW_DATABASE_URL", raising=False)
    found = set()
    for folder in (tmp_path, tmp_path / "elsewhere"):
        folder.mkdir(exist_ok=True)
        monkeypatch.chdir(folder)
        found.add(Settings().database_url)
    assert len(found) == 1
    path = Path(found.pop().split(":///", 1)[1])
    assert path.is_absolute() and path.name == "willow.db"


def test_every_command_says_which_database_it_uses(tmp_path: Path) -> None:
    env = {"WILLOW_DATABASE_URL": "sqlite+aiosqlite:///relative.db"}
    done = _willow(["migrate"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"database: SQLite file {tmp_path.resolve() / 'relative.db'}" in done.stdout


def test_run_on_a_database_with_staff_says_it_made_no_first_accounts(tmp_path: Path) -> None:
    import socket

    env = {"WILLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"}
    assert _willow(["staff", "add", "--role", "admin", "ria"], env, tmp_path).returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "chat.cli", "run"],
        env={**os.environ, **env, "WILLOW_PORT": str(port), "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "visitor page" in line:
                break
    finally:
        process.terminate()
        process.wait(20)
    said = "".join(lines)
    assert "no first accounts were made" in said, said
    assert "willow staff add --role" in said
    assert "password" not in said
    assert f"http://127.0.0.1:{port}/" in said


@pytest.mark.parametrize("key", ["a" * 36, "ab" * 20, "0123456789" * 4])
def test_a_long_but_patterned_key_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="not random"):
        Settings(env="production", secret_key=key)


def test_random_keys_of_the_minimum_length_pass() -> None:
    import secrets

    for _ in range(20):
        Settings(env="production", secret_key=secrets.token_hex(16))
        Settings(env="production", secret_key=secrets.token_urlsafe(24))


@pytest.mark.parametrize("key", ["a" * 36, "shrt-9qXv-kLm3", "Zq8x7Tb2mK9pLwR4vN6c"])
def test_a_refused_key_is_never_repeated(tmp_path: Path, key: str) -> None:
    result = _willow(
        ["migrate"],
        {"WILLOW_ENV": "production", "WILLOW_SECRET_KEY": key},
        tmp_path,
    )
    assert result.returncode != 0
    assert "WILLOW_SECRET_KEY" in result.stderr
    said = result.stderr + result.stdout
    assert not [key[i : i + 6] for i in range(len(key) - 5) if key[i : i + 6] in said]

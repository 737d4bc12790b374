"""Willow's settings: one class, read from `WILLOW_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Used only in development so that several local nodes agree on token hashes without setup.
DEVELOPMENT_SECRET_KEY = "willow-development-key-not-for-real-use-0000000000"  # noqa: S105 (public by design)
MIN_SECRET_KEY_LENGTH = 32
REPO_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """A setting makes Willow unsafe or unable to start; the message says which and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WILLOW_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    secret_key: str = ""
    database_url: str = "sqlite+aiosqlite:///willow.db"
    broker_url: str = "memory://"
    # Several Willow deployments (or test runs) may share one Redis: each keeps to its prefix.
    broker_prefix: str = Field(default="willow:", min_length=1, max_length=64)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # Where the quick exit sends her: a neutral, common site.
    exit_url: str = "https://www.bbc.co.uk/weather"
    # Origins allowed to open staff and visitor websockets; empty means "the Host we serve".
    allowed_origins: list[str] = []
    cookie_secure: bool | None = None
    staff_session_hours: float = Field(default=12, gt=0)

    send_queue_size: int = Field(default=256, ge=8)
    max_frame_bytes: int = Field(default=16_384, ge=1024)
    adviser_capacity: int = Field(default=3, ge=1, le=40)
    transcript_retention_days: int = Field(default=30, ge=1)
    # Housekeeping (chat/core/housekeeping.py): how often each purge runs, across all nodes.
    housekeeping_seconds: float = Field(default=3600, gt=0)
    # A visitor session nothing refers to (no chat, no room seat) goes this long after it began.
    visitor_session_hours: float = Field(default=24, gt=0)
    audit_retention_days: int = Field(default=365, ge=1)
    frontend_dir: Path = REPO_ROOT / "frontend"
    # Peer rooms' catalogue and schedule; the files shipped in peers/data when unset.
    rooms_file: Path | None = None
    schedule_file: Path | None = None
    # Moderation's data files added to (or, for guidance, replacing) the shipped ones.
    directory_file: Path | None = None
    wordlist_dir: Path | None = None
    lexicon_dir: Path | None = None
    guidance_file: Path | None = None
    # A deployment's name, tab title, favicon, colours, exit address and confidentiality text
    # (JSON, checked at start; see docs/OPERATIONS.md). Willow's calm defaults when unset.
    branding_file: Path | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "WILLOW_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("WILLOW_BROKER_URL must be memory:// or redis://host:port/db")
        return value

    @field_validator("exit_url")
    @classmethod
    def _https_exit(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("WILLOW_EXIT_URL must be an http(s) address of a neutral site")
        return value

    @model_validator(mode="after")
    def _safe_combination(self) -> Settings:
        if self.uses_redis and self.uses_sqlite:
            raise SettingsError(
                "WILLOW_BROKER_URL is Redis but WILLOW_DATABASE_URL is SQLite: several nodes "
                "cannot share one SQLite file. Use postgresql+asyncpg://… with Redis, or "
                "memory:// with SQLite for a single node."
            )
        if self.env != "development" and len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(
                f"WILLOW_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters "
                f"when WILLOW_ENV={self.env}. Generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if self.secret_key == DEVELOPMENT_SECRET_KEY and self.env != "development":
            raise SettingsError("WILLOW_SECRET_KEY is the published development key; replace it")
        return self

    @property
    def uses_redis(self) -> bool:
        return self.broker_url.startswith(("redis://", "rediss://"))

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def effective_secret_key(self) -> bytes:
        return (self.secret_key or DEVELOPMENT_SECRET_KEY).encode()

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env == "production"

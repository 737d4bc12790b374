"""Willow's settings: one class, read from `WILLOW_*` environment variables."""

from __future__ import annotations

import math
import zlib
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chat.core.addresses import Network, parse_networks

# Used only in development so that several local nodes agree on token hashes without setup.
DEVELOPMENT_SECRET_KEY = "willow-development-key-not-for-real-use-0000000000"  # noqa: S105 (public by design)
MIN_SECRET_KEY_LENGTH = 32
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_database_url() -> str:
    """SQLite beside the checkout when Willow runs from one, else in the current folder.

    A relative path would follow whichever folder a command is run from, so `willow staff
    add` run elsewhere would make and fill a second, empty database.
    """
    base = REPO_ROOT if (REPO_ROOT / "pyproject.toml").is_file() else Path.cwd()
    return f"sqlite+aiosqlite:///{base / 'willow.db'}"


# Well under what a random key of the minimum length carries even in hex (32 characters of
# about 3.6 observed bits each); a repeated or patterned key carries far less.
MIN_KEY_ENTROPY_BITS = 80


def key_entropy_bits(key: str) -> float:
    """The key's length times the Shannon entropy of its characters: a cheap randomness check.

    A key that compresses well (a short pattern repeated) counts as no entropy at all.
    """
    if not key or len(zlib.compress(key.encode(), 9)) < len(key) * 0.75:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def describe(error: ValidationError | SettingsError) -> str:
    """What is wrong with the settings, naming each setting but never repeating its value."""
    if isinstance(error, SettingsError):
        return str(error)
    lines = []
    for problem in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in problem["loc"])
        name = f"WILLOW_{where.upper()}: " if where else ""
        lines.append(f"- {name}{problem['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


class SettingsError(ValueError):
    """A setting makes Willow unsafe or unable to start; the message says which and why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WILLOW_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    secret_key: str = ""
    database_url: str = Field(default_factory=default_database_url)
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
    # The reverse proxies whose X-Forwarded-For is believed (addresses or networks); their
    # own address is never taken for a visitor's. Empty: no forwarded header is read.
    forwarded_allow_ips: list[str] = []
    # Opt-in: how long a room ban also holds her network (hashed, via a trusted proxy's
    # header). 0 bans the session only, so a shared Wi-Fi or proxy never shuts others out.
    room_ban_network_seconds: int = Field(default=0, ge=0, le=3600)
    staff_session_hours: float = Field(default=12, gt=0)
    # Supervisors and admins must enrol a second factor (TOTP); automatic: in production.
    second_factor_required: bool | None = None

    # Flood limits (0 switches one off). Per network address, hashed (chat/core/floods.py):
    # new visitor sessions and joins of the queue or a room per hour, open sockets per node.
    sessions_per_address_per_hour: int = Field(default=120, ge=0)
    joins_per_address_per_hour: int = Field(default=300, ge=0)
    sockets_per_address: int = Field(default=50, ge=0)
    # Seats of one room session taken from one network address (hashed, peers/network_seats.py).
    room_seats_per_address: int = Field(default=8, ge=0)
    # A socket that has not said hello by then is closed (4002).
    hello_timeout_seconds: float = Field(default=10, gt=0, le=120)
    send_queue_size: int = Field(default=256, ge=8)
    max_frame_bytes: int = Field(default=16_384, ge=1024)
    adviser_capacity: int = Field(default=3, ge=1, le=40)
    # Presence (chat/core/presence.py). A node's lease: its sockets count as here until this
    # long after its last heartbeat (a killed node's are reclaimed by the others then).
    presence_lease_seconds: float = Field(default=15, gt=0, le=300)
    # How often one node looks for lapsed leases and absences past their grace.
    presence_sweep_seconds: float = Field(default=5, gt=0, le=300)
    # She is still "here" this long after her last socket closed: a wait nobody is behind
    # leaves the queue then. In a chat, after the longer grace the chat ends ("she left").
    visitor_grace_seconds: float = Field(default=120, gt=0)
    chat_grace_seconds: float = Field(default=600, gt=0)
    # An adviser stops being available this long after her last socket closed.
    staff_grace_seconds: float = Field(default=20, gt=0)
    # Rooms: a participant with no socket keeps her seat this long; a room with no mentor
    # closes this long after its last mentor's socket closed (or her node died).
    room_participant_grace_seconds: float = Field(default=20, gt=0)
    room_mentor_grace_seconds: float = Field(default=120, gt=0)
    # Routing (chat/helpline/routing.py; docs/OPERATIONS.md). "auto": each waiting chat goes
    # to a matching adviser with a free place; "pick": advisers take chats from the queue.
    assignment: Literal["auto", "pick"] = "auto"
    # Advisers without recorded training take no chats.
    chats_need_training: bool = True
    # How long she waits for an adviser who reads her language and knows her topic before
    # she is asked whether any adviser will do.
    match_wait_seconds: float = Field(default=180, ge=0, le=3600)
    # The supervisors' board colours the longest wait against this target (seconds): amber
    # from three quarters of it, red past it.
    wait_target_seconds: int = Field(default=120, ge=10, le=3600)
    # How long she waits for the adviser she came back to (a return code) while that adviser
    # has no free place before she is asked whether another adviser will do. The adviser
    # going offline asks her at once.
    return_wait_seconds: float = Field(default=300, ge=0, le=3600)
    # Weekly hours and holidays (YAML, deploy/hours.example.yaml); unset: always open.
    hours_file: Path | None = None
    # Surge limit: no new chat joins a queue this long (0: no limit), or whose estimated wait
    # would pass this many minutes (0: no limit); she is told so and shown other help.
    surge_queue_limit: int = Field(default=0, ge=0)
    surge_wait_minutes: float = Field(default=0, ge=0)
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
    # Client addresses that may read /metrics; empty turns it off. The shipped proxy files
    # refuse /metrics, so a proxy on this host does not make it public.
    metrics_allow: list[str] = ["127.0.0.1", "::1"]
    # Moderation's data files added to (or, for guidance, replacing) the shipped ones.
    directory_file: Path | None = None
    wordlist_dir: Path | None = None
    lexicon_dir: Path | None = None
    guidance_file: Path | None = None
    # The escalation outcome codes (moderation/safeguarding/data/escalation_outcomes.yaml).
    escalation_outcomes_file: Path | None = None
    # The learned risk layer (moderation/safeguarding/learned.py): a multilingual model reads
    # each message after it is delivered, in a worker process, and may raise it to current
    # danger the rules missed. "off" leaves the rules alone. Messages waiting for it beyond
    # the queue's size are skipped (counted in /metrics), never delayed.
    learned_risk: Literal["on", "off"] = "on"
    learned_risk_queue: int = Field(default=16, ge=1, le=10_000)
    # A node whose own CPU share over the last second is at or above this skips the learned
    # layer (counted as "node_busy"): under load the model's worker would take the core the
    # messages need. 0 skips every message; 1 never skips for load.
    learned_risk_busy_share: float = Field(default=0.25, ge=0, le=1)
    # The helpline console's canned replies and wrap-up codes; the files shipped in
    # chat/helpline/data when unset (checked at start, see docs/OPERATIONS.md).
    canned_file: Path | None = None
    outcomes_file: Path | None = None
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

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                parse_networks([entry])
            except ValueError:
                # The rejected entry is not repeated: settings errors never echo values.
                raise ValueError(
                    "WILLOW_FORWARDED_ALLOW_IPS must list IP addresses or networks"
                ) from None
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
        if self.env != "development" and key_entropy_bits(self.secret_key) < MIN_KEY_ENTROPY_BITS:
            raise SettingsError(
                "WILLOW_SECRET_KEY is long enough but not random (repeated or patterned "
                "characters). Generate one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self

    def database_description(self) -> str:
        """Where the data is, for the operator: the SQLite file's full path, or host and name."""
        if self.uses_sqlite:
            path = self.database_url.split(":///", 1)[1] or "(in memory)"
            return f"SQLite file {Path(path).resolve()}"
        location = self.database_url.split("@", 1)[-1].split("?", 1)[0]
        return f"PostgreSQL {location.removeprefix('postgresql+asyncpg://')}"

    @cached_property
    def trusted_proxies(self) -> tuple[Network, ...]:
        return parse_networks(self.forwarded_allow_ips)

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
    def needs_second_factor(self) -> bool:
        if self.second_factor_required is not None:
            return self.second_factor_required
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env == "production"

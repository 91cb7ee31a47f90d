"""One typed settings object, read from the environment (prefix ``CARTWHEEL_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARTWHEEL_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///cartwheel.db",
        description="sqlite:///path or postgresql://user@host:port/db; the driver is chosen here.",
    )
    host: str = Field(default="127.0.0.1", description="Interface `cartwheel serve` binds.")
    port: int = Field(default=8000, description="Port `cartwheel serve` listens on.")

    rate_limit_per_second: float = Field(
        default=100.0, description="Default token-bucket refill rate per store (requests/s)."
    )
    rate_limit_burst: int | None = Field(
        default=None, description="Bucket size; defaults to one second's worth of requests."
    )

    max_body_bytes: int = Field(default=5 * 1024 * 1024, description="Largest accepted body.")
    max_properties: int = Field(default=400, description="Most properties one event may carry.")
    max_string_bytes: int = Field(default=100 * 1024, description="Longest accepted string value.")
    max_json_depth: int = Field(
        default=32,
        ge=1,
        le=56,
        description="Deepest nesting of objects and arrays in an event, counted from its top "
        "object (properties, `$extra`, every value); at most 56, since any request body "
        "nested deeper than 64 levels is refused before decoding.",
    )
    max_batch_events: int = Field(default=100, description="Most events in one bulk request.")

    ingest_max_batch: int = Field(
        default=1000, description="Most events the group-commit writer puts in one transaction."
    )
    auth_cache_seconds: float = Field(
        default=5.0, description="How long a verified key is trusted before it is looked up again."
    )

    run_worker_in_process: bool = Field(
        default=True, description="`cartwheel serve` also runs the background worker loop."
    )
    worker_poll_seconds: float = Field(
        default=0.2, description="How long an idle worker waits before looking for work again."
    )
    worker_batch_size: int = Field(
        default=2000,
        description="Most rows a worker claims from one queue per pass; larger than "
        "`ingest_max_batch` so that under sustained load processing keeps up with ingest.",
    )
    flows_batch_size: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Most due flow runs (timers, resumed runs) a worker advances in one "
        "transaction of the flows sweep.",
    )

    queue_max_attempts: int = Field(
        default=10,
        ge=1,
        description="Tries of one handler on one event or outbox message (the first included) "
        "before it is set aside as failed (a dead letter, replayable by API and CLI).",
    )
    queue_backoff_base_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Wait before the first retry of a failed handler; each further retry "
        "waits twice as long, up to `queue_backoff_cap_seconds`.",
    )
    queue_backoff_cap_seconds: float = Field(
        default=3600.0, gt=0, description="Longest wait between two retries of a failed handler."
    )

    webhook_allow_private: bool = Field(
        default=False, description="Allow webhook targets on private or loopback addresses."
    )
    webhook_retry_schedule: str = Field(
        default="5,30,120,600,1800,3600,7200,14400,28800,43200",
        description="Seconds to wait before each retry (comma-separated); jitter is added.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, description="Connect and read timeout of one webhook delivery."
    )

    secret_keys: str = Field(
        default="",
        description="Fernet keys that encrypt webhook secrets and SSO keys at rest, "
        "comma-separated: the first encrypts, all decrypt (put a new key first to rotate). "
        "Empty: the key file is used.",
    )
    secret_key_file: str = Field(
        default="",
        description="File holding the secret keys (one per line) when `secret_keys` is empty; "
        "generated (mode 0600) if missing. Empty: `cartwheel-secret.key` beside the SQLite "
        "database, or in the working directory.",
    )

    admin_session_hours: float = Field(
        default=12.0,
        gt=0,
        description="How long a back-office sign-in lasts (the session ends then, or at sign-out).",
    )
    admin_lockout_failures: int = Field(
        default=5,
        ge=1,
        description="Failed back-office sign-ins in a row that lock an operator account.",
    )
    admin_lockout_minutes: float = Field(
        default=15.0, gt=0, description="How long a locked operator account stays locked."
    )
    admin_login_attempts_per_address: int = Field(
        default=20,
        ge=1,
        description="Back-office sign-in attempts one client address may make per "
        "`admin_login_window_minutes`; beyond that the sign-in page answers 429.",
    )
    admin_login_window_minutes: float = Field(
        default=15.0, gt=0, description="The window of the per-address sign-in limit."
    )

    sso_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL used in member single sign-on access URLs.",
    )

    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Cartwheel's public base URL: links in messages (unsubscribe, open and "
        "click tracking, password reset) start with it.",
    )
    smtp_host: str = Field(default="", description="SMTP relay host; empty: email is not sent.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP relay port.")
    smtp_username: str = Field(default="", description="SMTP user name (empty: no login).")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description="none, starttls (upgrade a plain connection) or tls (implicit TLS, "
        "usually port 465).",
    )
    smtp_timeout: float = Field(
        default=30.0, gt=0, description="Seconds one SMTP connection or command may take."
    )
    smtp_connections: int = Field(
        default=4,
        ge=1,
        le=64,
        description="SMTP sessions one worker sends a batch over in parallel (a relay's "
        "round trips overlap; each session sends its share of the batch in order).",
    )
    mail_from: str = Field(
        default="Cartwheel <cartwheel@localhost>",
        description="Default sender of every email, unless the store or template sets one.",
    )
    sms_api_url: str = Field(
        default="https://api.twilio.com",
        description="Base URL of the Twilio-compatible SMS API "
        "(POST {url}/2010-04-01/Accounts/{account}/Messages.json).",
    )
    sms_account: str = Field(default="", description="SMS API account SID; empty: no SMS.")
    sms_token: str = Field(default="", description="SMS API auth token.")
    sms_from: str = Field(default="", description="Default SMS sender number.")
    messages_batch_size: int = Field(
        default=200, ge=1, description="Most messages one worker pass claims and sends."
    )
    campaign_rate_per_second: float = Field(
        default=100.0, gt=0, description="Default most messages per second of one campaign."
    )
    password_reset_hours: float = Field(
        default=24.0, gt=0, description="How long a member's password-reset link works."
    )
    worker_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description="Passes one `cartwheel worker` runs at once, each in a loop of its own "
        "(threads sharing one process): on PostgreSQL one pass's Python runs while another "
        "waits for the database. Unset: 2 on PostgreSQL, 1 on SQLite (whose passes take the "
        "one write lock in turn). `cartwheel serve`'s in-process worker always runs one.",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()

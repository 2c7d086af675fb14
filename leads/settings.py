"""The one settings object, read from ``LEADGUARD_*`` environment variables.

Every process (command line, web app, action server, workers) calls
:func:`get_settings`. A missing or malformed variable stops start-up with a
:class:`~leads.errors.ConfigurationError` whose one-line message names it.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from leads.errors import ConfigurationError

ENV_PREFIX = "LEADGUARD_"


class Settings(BaseSettings):
    """Validated settings; see the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True
    )

    environment: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    keyring_file: Path | None = None
    keyring: SecretStr | None = Field(
        default=None,
        description="The key ring as JSON, instead of a file (production).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    public_base_url: str = "http://127.0.0.1:8000"
    console_host: str = "127.0.0.1"
    console_port: int = Field(default=8000, ge=1, le=65535)
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_webhook_path: str = "/webhooks/redacting_rest/webhook"
    allowed_origins: str = Field(
        default="",
        description="Comma-separated origins of the websites embedding the widget.",
    )
    chat_rasa_timeout_seconds: float = Field(default=8.0, gt=0, le=60)
    chat_max_message_chars: int = Field(default=1000, ge=16, le=10_000)
    chat_rate_per_address: str = "60/minute"
    chat_rate_per_session: str = "20/minute"
    chat_greeting_payload: str = "/greet"
    selfservice_link_minutes: int = Field(default=30, ge=5, le=24 * 60)
    selfservice_rate_per_address: str = "10/hour"
    action_server_port: int = Field(default=5055, ge=1, le=65535)
    broker_url: str = ""
    default_time_zone: str = "Asia/Kuala_Lumpur"
    max_field_length: int = Field(default=500, ge=16, le=10_000)
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for /metrics from outside loopback.",
    )
    # nurture: SMTP, rate limits, retries, DKIM, scheduling (README table)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_security: Literal["starttls", "dev-sink"] = "dev-sink"
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    mail_sink_port: int = Field(default=8025, ge=1, le=65535)
    mail_from: str = "leadguard <no-reply@leadguard.example>"
    mail_unsubscribe_mailto: str = "unsubscribe@leadguard.example"
    dkim_domain: str = ""
    dkim_selector: str = ""
    dkim_private_key_file: Path | None = None
    nurture_rate_global: str = "50/second"
    nurture_rate_per_domain: str = "10/second"
    nurture_batch_size: int = Field(default=500, ge=1, le=10_000)
    nurture_tick_seconds: float = Field(default=15.0, gt=0, le=3600)
    nurture_max_attempts: int = Field(default=8, ge=1, le=50)
    nurture_retry_base_seconds: float = Field(default=60.0, gt=0, le=86_400)
    nurture_retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    nurture_redispatch_seconds: float = Field(default=300.0, ge=1)
    nurture_demo: bool = False
    nurture_demo_day_seconds: float = Field(default=60.0, gt=0, le=86_400)
    nurture_sequences_dir: Path | None = None
    nurture_claim_lease_seconds: float = Field(default=600.0, ge=1)
    retention_unqualified_leads_days: int = Field(default=180, ge=1)
    transcript_retention_days: int = Field(
        default=30,
        ge=1,
        description="Shared with the tracker store (same variable name).",
    )
    tracker_db_url: str = Field(
        default="",
        description="The tracker store's database (default: var/tracker.db).",
    )
    retention_email_records_days: int = Field(default=365, ge=1)
    retention_audit_log_days: int = Field(default=2190, ge=365)
    retention_interval_seconds: float = Field(default=3600.0, ge=10)
    console_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    console_session_hours: int = Field(default=12, ge=1, le=24 * 7)
    console_rate_limit_storage: str = "memory://"
    console_lockout_failures: int = Field(default=10, ge=3, le=1000)
    console_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    console_anomaly_leads_per_hour: int = Field(default=50, ge=1)
    console_anomaly_lock: bool = False
    console_setup_link_hours: int = Field(default=24, ge=1, le=24 * 14)

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        var = self.var_dir.resolve()
        defaults = {
            "database_url": f"sqlite:///{var / 'leadguard.db'}",
            "broker_url": f"sqla+sqlite:///{var / 'broker.db'}",
        }
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)
        if self.keyring_file is None and self.keyring is None:
            object.__setattr__(self, "keyring_file", var / "keyring.json")
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("database_url: production needs PostgreSQL, not SQLite")
        return self

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings; raise one clear error naming the variable.

    Raises:
        ConfigurationError: a variable is missing or malformed.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["loc"]:
            field, reason = str(first["loc"][0]), message
        else:
            field, _, reason = message.partition(": ")
        name = ENV_PREFIX + field.upper()
        raise ConfigurationError(f"{name}: {reason}") from None


@functools.cache
def get_settings() -> Settings:
    """Return the process-wide settings, loaded once."""
    return load_settings()

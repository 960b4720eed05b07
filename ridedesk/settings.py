"""Typed settings read from the environment (prefix ``RIDEDESK_``).

Every process (Rasa server, action server, console, tests) reads its configuration here, so
there is one place that knows defaults and refuses unsafe ones.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings, validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Development-only secrets: good enough on a laptop, refused anywhere else.
DEV_SECRET = "dev-only-insecure-secret"


class Settings(BaseSettings):
    """RideDesk configuration.

    Attributes:
        env: ``development``, ``test`` or ``production``.
        database_url: SQLAlchemy URL of the business database.
        rasa_url: Base URL of the Rasa server's HTTP API.
        rasa_token: Token for Rasa's HTTP API (``--auth-token``).
        secret_key: Signs console sessions.
        timezone: Operator's local time zone, for due times and service hours.
        service_hours: When human agents work, operator-local: ``"08:00-22:00"``; several
            windows comma-separated (``"08:00-12:00,13:00-22:00"``); ``"22:00-06:00"``
            crosses midnight; ``"00:00-24:00"`` is always open.
        rasa_public_url: Rasa's URL as the rider's browser reaches it (socket.io).
        console_session_hours: Lifetime of an agent's console login.
        console_secure_cookies: Mark console cookies ``Secure`` (set behind HTTPS).
        presence_window_seconds: An agent counts as online this long after a heartbeat.
    """

    env: str = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'ridedesk.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = DEV_SECRET
    secret_key: str = DEV_SECRET
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    service_hours: str = "08:00-22:00"
    rasa_public_url: str = "http://127.0.0.1:5005"
    console_session_hours: int = 12
    console_secure_cookies: bool = False
    presence_window_seconds: int = 60

    class Config:
        env_prefix = "RIDEDESK_"

    @validator("env")
    def _known_env(cls, value: str) -> str:  # noqa: N805 - pydantic validator
        if value not in {"development", "test", "production"}:
            raise ValueError("RIDEDESK_ENV must be development, test or production")
        return value

    @validator("service_hours")
    def _valid_service_hours(cls, value: str) -> str:  # noqa: N805
        from ridedesk.services.errors import InvalidValue
        from ridedesk.services.service_hours import parse_hours

        try:
            parse_hours(value)
        except InvalidValue as error:
            raise ValueError(f"RIDEDESK_SERVICE_HOURS: {error.details.get('reason', error.code)}") from None
        return value

    @validator("console_session_hours", "presence_window_seconds")
    def _positive(cls, value: int) -> int:  # noqa: N805
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @validator("rasa_token", "secret_key")
    def _no_default_secret_outside_development(cls, value: str, values: dict) -> str:  # noqa: N805
        if values.get("env", "development") != "development" and value == DEV_SECRET:
            raise ValueError(
                "refusing the development secret outside development: set RIDEDESK_SECRET_KEY and RIDEDESK_RASA_TOKEN"
            )
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the process-wide settings, read once from the environment."""
    return Settings()

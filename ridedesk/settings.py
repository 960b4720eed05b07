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
    """

    env: str = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'ridedesk.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = DEV_SECRET
    secret_key: str = DEV_SECRET
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"

    class Config:
        env_prefix = "RIDEDESK_"

    @validator("env")
    def _known_env(cls, value: str) -> str:  # noqa: N805 - pydantic validator
        if value not in {"development", "test", "production"}:
            raise ValueError("RIDEDESK_ENV must be development, test or production")
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

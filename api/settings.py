"""Configuration: environment variables with the LOYALTY_ prefix, read once, here."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_DATABASE_URL = "sqlite+aiosqlite:///./loyalty.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore")

    database_url: str = Field(
        default=EMBEDDED_DATABASE_URL,
        description="SQLAlchemy URL: the embedded SQLite file, or postgresql+asyncpg://...",
    )
    redis_url: str | None = Field(
        default=None, description="redis://... for pub/sub across processes; unset = in-process"
    )
    redis_prefix: str = Field(
        default="loyalty", description="Prefix of every Redis key and channel this app uses"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_points_per_unit: Decimal = Field(
        default=Decimal("1"), ge=0, description="Points per 1.00 spent where no rate applies"
    )
    default_phone_region: str | None = Field(
        default=None,
        description="ISO country (e.g. GB) for phone numbers typed without a country code",
    )
    bulk_award_batch_size: int = Field(
        default=200, ge=1, le=10_000, description="Recipients awarded per transaction"
    )
    job_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often an idle worker looks for jobs of other processes"
    )
    run_jobs: bool = Field(
        default=True, description="Run the background job worker in this process"
    )
    log_level: str = "INFO"
    database_pool_size: int = Field(default=10, ge=1)

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

"""Configuration: environment variables with the LOYALTY_ prefix, read once, here."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_DATABASE_URL = "sqlite+aiosqlite:///./loyalty.db"
# Lets `make run` work with no set-up; production refuses to start with it.
DEVELOPMENT_SECRET = "loyalty-development-secret-do-not-use-in-production"  # noqa: S105
MIN_PRODUCTION_SECRET_LENGTH = 32


class InsecureConfiguration(ValueError):
    """Production settings that would leave the points unprotected."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOYALTY_", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="development",
        description="production: a real secret is required; introspection and suggestions off",
    )
    auth_secret: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        description=f"HS256 key for bearer tokens; {MIN_PRODUCTION_SECRET_LENGTH}+ characters",
    )
    token_ttl: str = Field(default="8h", description="Default lifetime of `loyalty token`")
    max_query_depth: int = Field(default=8, ge=2)
    max_query_tokens: int = Field(default=2000, ge=50)
    max_aliases: int = Field(default=15, ge=1)
    max_query_cost: int = Field(
        default=5000, ge=10, description="Each field costs 1, a list field times its `first`"
    )
    max_subscriptions_per_connection: int = Field(default=10, ge=1)
    connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    rate_limit: str = Field(
        default="1200/minute", description="Requests per token (limits notation)"
    )
    anonymous_rate_limit: str = Field(
        default="120/minute", description="Requests per IP address without a valid token"
    )
    rate_limit_sync_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often each process shares its request counts through Redis "
        "(processes see each other's requests this late at most)",
    )

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
        default=Decimal("1"),
        ge=0,
        max_digits=12,
        decimal_places=4,
        description="Points per 1.00 spent where no earning rule sets a rate",
    )
    point_value: Decimal = Field(
        default=Decimal("0.01"),
        gt=0,
        max_digits=12,
        decimal_places=4,
        description="Money off per point when points are spent as money (redeem or checkout)",
    )
    earn_on_points_paid: bool = Field(
        default=False,
        description="Checkout: true = earn on the whole sale; false = only on the part paid "
        "with money (the points' discount is spread over the lines)",
    )
    refund_returns_redeemed_points: bool = Field(
        default=True,
        description="Refunds give back points spent on the sale, in proportion to the money "
        "refunded",
    )
    points_expiry: Literal["never", "earned", "inactivity"] = Field(
        default="never",
        description="never; earned: points expire points_expiry_months after they were "
        "earned, oldest first; inactivity: the whole balance expires after "
        "points_expiry_months without a sale or redemption",
    )
    points_expiry_months: int = Field(default=12, ge=1, le=120)
    expiry_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often each process runs expiry"
    )
    expiry_batch_size: int = Field(default=500, ge=1, le=10_000)
    default_phone_region: str | None = Field(
        default=None,
        description="ISO country (e.g. GB) for phone numbers typed without a country code",
    )
    bulk_award_batch_size: int = Field(
        default=1000, ge=1, le=10_000, description="Recipients awarded per transaction"
    )
    job_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often an idle worker looks for jobs of other processes"
    )
    outbox_grace_seconds: float = Field(
        default=2.0, gt=0, description="Age at which the relay publishes an unpublished change"
    )
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    outbox_mark_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often each process marks, in one statement, the changes it "
        "published (keep it well under the grace period, or the relay publishes them again)",
    )
    run_jobs: bool = Field(
        default=True, description="Run the background job worker in this process"
    )
    sale_time_window_days: int = Field(
        default=7,
        ge=0,
        le=90,
        description="How far back a till may date a sale (occurredAt), e.g. after being offline",
    )
    clock_skew_seconds: int = Field(
        default=120, ge=0, le=3600, description="How far ahead of the server a till's clock may be"
    )
    analytics_database_url: str | None = Field(
        default=None,
        description="Where analytics are read (a read replica); unset = database_url",
    )
    analytics_time_zones: str = Field(
        default="UTC",
        description="IANA zones the rollups keep, comma-separated; analytics in another zone "
        "are computed from the raw rows (exact, slower)",
    )
    rollup_batch_size: int = Field(
        default=2000, ge=1, le=100_000, description="Inbox rows the rollup worker counts at once"
    )
    rollup_poll_seconds: float = Field(default=1.0, gt=0)
    demo_history_days: int = Field(
        default=91, ge=0, le=366, description="Days of sales `loyalty seed-demo` writes (0: none)"
    )
    currency: str = Field(
        default="USD", min_length=3, max_length=3, description="ISO 4217 code of the books' money"
    )
    reporting_time_zone: str = Field(
        default="UTC", description="IANA zone whose days the GL export's dates are"
    )
    xero_tax_rate: str = Field(
        default="Tax Exempt",
        description="The Xero tax rate name the GL export's lines carry (Xero requires one)",
    )
    reconcile_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="How often each process reconciles the books and logs it (0: never)",
    )
    snapshot_interval_seconds: float = Field(
        default=600.0,
        gt=0,
        description="How often each process takes the trial balance's snapshots",
    )
    outbox_lag_bound_seconds: int = Field(
        default=60,
        ge=1,
        description="A balance change unpublished for longer fails the reconciliation",
    )
    log_level: str = "INFO"
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="Connections each process keeps open to PostgreSQL, reused request after "
        "request",
    )
    database_max_overflow: int = Field(
        default=0,
        ge=0,
        description="Connections opened past the pool at a peak and closed when handed back "
        "(each costs a connection set-up; 0: a request waits for a pooled one instead)",
    )

    @model_validator(mode="after")
    def refuse_insecure_production(self) -> Self:
        if self.env != "production":
            return self
        secret = self.auth_secret.get_secret_value()
        if secret == DEVELOPMENT_SECRET or len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
            raise InsecureConfiguration(
                "LOYALTY_ENV=production needs LOYALTY_AUTH_SECRET of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        return self

    @field_validator("reporting_time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {zone!r}") from None
        return zone

    @property
    def reporting_zone(self) -> ZoneInfo:
        return ZoneInfo(self.reporting_time_zone)

    @property
    def kept_time_zones(self) -> tuple[str, ...]:
        zones = (zone.strip() for zone in self.analytics_time_zones.split(","))
        return tuple(dict.fromkeys(zone for zone in zones if zone))

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_embedded(self) -> bool:
        return self.database_url.startswith("sqlite")

"""The application's services, built once by the lifespan and shared by every request:
the database, the hub and its broker, the background workers, tokens, rate limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from api.auth import TokenIssuer
from api.rate_limit import RateLimits
from api.settings import Settings
from domain.expiry import ExpiryKind, ExpiryPolicy
from domain.programme import Terms
from persistence.analytics.tally import Zones
from persistence.database import Database
from persistence.queries.reconciliation import Bounds
from subscriptions.broker import Broker, InProcessBroker, RedisBroker
from subscriptions.hub import Hub
from workers.campaigns import BulkAwardWorker
from workers.expiry import ExpiryWorker
from workers.ledger_snapshots import SnapshotWorker
from workers.outbox import OutboxMarker, OutboxRelay
from workers.reconciliation import ReconciliationWorker
from workers.rollups import RollupWorker


def utc_now() -> datetime:
    return datetime.now(UTC)


def terms_of(settings: Settings) -> Terms:
    """The programme's terms, as configured."""
    return Terms(
        base_rate=settings.base_points_per_unit,
        point_value=settings.point_value,
        earn_on_points_paid=settings.earn_on_points_paid,
        refund_returns_redeemed_points=settings.refund_returns_redeemed_points,
        expiry=ExpiryPolicy(ExpiryKind(settings.points_expiry), settings.points_expiry_months),
    )


@dataclass
class Services:
    settings: Settings
    terms: Terms
    database: Database
    hub: Hub
    broker: Broker
    worker: BulkAwardWorker
    relay: OutboxRelay
    marker: OutboxMarker
    expiry: ExpiryWorker
    rollups: RollupWorker
    reconciliation: ReconciliationWorker
    snapshots: SnapshotWorker
    # Where analytics are read: a read replica, or the primary itself.
    analytics_database: Database
    tokens: TokenIssuer
    rate_limits: RateLimits
    clock: Callable[[], datetime] = utc_now


def database_for(settings: Settings, url: str | None = None) -> Database:
    """No ping before each checkout (it cost a BEGIN/ROLLBACK round trip per transaction): a
    connection the server dropped fails its statement, and SQLAlchemy then discards the
    whole pool's connections, so the next transactions start on fresh ones."""
    options: dict[str, Any] = {}
    if not settings.is_embedded:
        options = {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
        }
    return Database(url or settings.database_url, **options)


def analytics_database_for(settings: Settings, primary: Database) -> Database:
    """A replica when LOYALTY_ANALYTICS_DATABASE_URL names one; else the primary."""
    replica = settings.analytics_database_url
    if replica is None or replica == settings.database_url:
        return primary
    return database_for(settings, replica)


def broker_for(settings: Settings, hub: Hub) -> Broker:
    if settings.redis_url is None:
        return InProcessBroker(hub)
    client = Redis.from_url(
        settings.redis_url,
        client_name=f"{settings.redis_prefix}:app",
        health_check_interval=10,
        socket_keepalive=True,
    )
    return RedisBroker(hub, client, settings.redis_prefix)


def build_services(settings: Settings) -> Services:
    database = database_for(settings)
    hub = Hub()
    broker = broker_for(settings, hub)
    tokens = TokenIssuer(settings.auth_secret.get_secret_value())
    terms = terms_of(settings)
    return Services(
        settings=settings,
        terms=terms,
        database=database,
        hub=hub,
        broker=broker,
        worker=BulkAwardWorker(
            database,
            broker,
            utc_now,
            batch_size=settings.bulk_award_batch_size,
            poll_seconds=settings.job_poll_seconds,
        ),
        relay=OutboxRelay(
            database,
            broker,
            utc_now,
            grace=timedelta(seconds=settings.outbox_grace_seconds),
            poll_seconds=settings.outbox_poll_seconds,
        ),
        marker=OutboxMarker(
            database, broker, utc_now, interval_seconds=settings.outbox_mark_seconds
        ),
        expiry=ExpiryWorker(
            database,
            broker,
            utc_now,
            policy=terms.expiry,
            batch_size=settings.expiry_batch_size,
            interval_seconds=settings.expiry_interval_seconds,
        ),
        rollups=RollupWorker(
            database,
            broker,
            utc_now,
            zones=Zones(settings.kept_time_zones),
            poll_seconds=settings.rollup_poll_seconds,
            batch_size=settings.rollup_batch_size,
        ),
        reconciliation=ReconciliationWorker(
            database,
            broker,
            utc_now,
            interval_seconds=settings.reconcile_interval_seconds,
            bounds=reconciliation_bounds(settings),
        ),
        snapshots=SnapshotWorker(
            database,
            broker,
            utc_now,
            back=settled_back(settings),
            interval_seconds=settings.snapshot_interval_seconds,
        ),
        analytics_database=analytics_database_for(settings, database),
        tokens=tokens,
        rate_limits=RateLimits.of(settings, tokens),
    )


def reconciliation_bounds(settings: Settings) -> Bounds:
    return Bounds(
        settings.outbox_lag_bound_seconds,
        settings.reporting_zone,
        settings.point_value,
        settled_back(settings),
    )


def settled_back(settings: Settings) -> timedelta:
    """How far back a movement may still be dated: the till's window, and an hour more."""
    return timedelta(days=settings.sale_time_window_days, hours=1)


async def close_services(services: Services) -> None:
    await services.rate_limits.counters.close()
    await services.broker.close()
    if services.analytics_database is not services.database:
        await services.analytics_database.dispose()
    await services.database.dispose()

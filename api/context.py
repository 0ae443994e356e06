"""Per-request context: the application's services and per-request DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import strawberry
from strawberry.dataloader import DataLoader

from api.auth import AuthenticationFailed, Principal, TokenIssuer
from api.jobs import BulkAwardWorker, ExpiryWorker, OutboxRelay
from api.rate_limit import RateLimits
from api.settings import Settings
from domain.expiry import ExpiryKind, ExpiryPolicy
from domain.ledger import Actor
from domain.services import Terms
from persistence import queries
from persistence.database import Database
from persistence.queries import CustomerView
from persistence.unit_of_work import SqlAlchemyUnitOfWork
from subscriptions.broker import Broker
from subscriptions.hub import Hub


def expiry_policy(settings: Settings) -> ExpiryPolicy:
    return ExpiryPolicy(ExpiryKind(settings.points_expiry), settings.points_expiry_months)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Built once by the lifespan; shared by every request."""

    settings: Settings
    database: Database
    hub: Hub
    broker: Broker
    worker: BulkAwardWorker
    relay: OutboxRelay
    expiry: ExpiryWorker
    tokens: TokenIssuer
    rate_limits: RateLimits
    clock: Callable[[], datetime] = utc_now


@dataclass
class Context:
    services: Services
    principal: Principal | None = None
    authentication_error: str = "authentication required"
    connection_params: dict[str, object] | None = None
    customers: DataLoader[str, CustomerView | None] = field(init=False)

    def __post_init__(self) -> None:
        # No cache: a later mutation in the same request must see the balance it changed.
        self.customers = DataLoader(load_fn=self._load_customers, cache=False)

    @property
    def database(self) -> Database:
        return self.services.database

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def now(self) -> datetime:
        return self.services.clock()

    def authenticate(self, authorization: str | None) -> None:
        try:
            self.principal = self.services.tokens.principal(authorization)
        except AuthenticationFailed as refused:
            self.principal = None
            self.authentication_error = str(refused)

    def actor(self) -> Actor:
        """Who is acting: only resolvers behind Allowed run, so there is a principal."""
        assert self.principal is not None, "an unguarded resolver asked for the actor"
        return self.principal.actor()

    def terms(self) -> Terms:
        settings = self.settings
        return Terms(
            base_rate=settings.base_points_per_unit,
            point_value=settings.point_value,
            earn_on_points_paid=settings.earn_on_points_paid,
            refund_returns_redeemed_points=settings.refund_returns_redeemed_points,
            expiry=expiry_policy(settings),
        )

    def uow(self, *, read_only: bool = False) -> SqlAlchemyUnitOfWork:
        services = self.services
        return SqlAlchemyUnitOfWork(services.database, services.broker, read_only=read_only)

    async def _load_customers(self, ids: Sequence[str]) -> list[CustomerView | None]:
        async with self.database.reading() as session:
            found = await queries.customers_by_ids(session, ids)
        return [found.get(customer_id) for customer_id in ids]


Info = strawberry.Info[Context, None]

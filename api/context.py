"""Per-request context: the caller, the application's services, and DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import strawberry

from api.auth import Authentication, Principal
from api.campaigns.loaders import FailuresLoader, failures_loader
from api.customers.loaders import (
    CustomersLoader,
    ExpiringLoader,
    customers_loader,
    expiring_loader,
)
from api.points.loaders import BreakdownsLoader, breakdowns_loader
from api.received import Received
from api.services import Services
from api.settings import Settings
from domain.ledger import Actor
from domain.programme import Terms
from persistence.database import Database
from persistence.unit_of_work import SqlAlchemyUnitOfWork


@dataclass
class Loaders:
    """What a page of results asks of the database, one statement per kind however many
    items ask. None caches: a later mutation in the request must see what it changed."""

    customers: CustomersLoader
    expiring: ExpiringLoader
    breakdowns: BreakdownsLoader
    failures: FailuresLoader

    @classmethod
    def of(cls, services: Services) -> Loaders:
        database = services.database
        return cls(
            customers=customers_loader(database),
            expiring=expiring_loader(database, services.terms.expiry),
            breakdowns=breakdowns_loader(database),
            failures=failures_loader(database),
        )


@dataclass
class Context:
    services: Services
    principal: Principal | None = None
    authentication_error: str = "authentication required"
    connection_params: dict[str, object] | None = None

    @cached_property
    def loaders(self) -> Loaders:
        """Made when first asked for: most requests (a lookup, a sale) need none."""
        return Loaders.of(self.services)

    @property
    def database(self) -> Database:
        return self.services.database

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def now(self) -> datetime:
        return self.services.clock()

    def received(self) -> Received:
        """Now, and how far a till's own clock is trusted (see the settings)."""
        settings = self.settings
        return Received(
            self.now(),
            timedelta(days=settings.sale_time_window_days),
            timedelta(seconds=settings.clock_skew_seconds),
        )

    def authenticate(self, authorization: str | None) -> None:
        self.authenticated(Authentication.of(self.services.tokens, authorization))

    def authenticated(self, authentication: Authentication) -> None:
        self.principal = authentication.principal
        if authentication.principal is None:
            self.authentication_error = authentication.refusal

    def actor(self) -> Actor:
        """Who is acting: only resolvers behind Allowed run, so there is a principal."""
        assert self.principal is not None, "an unguarded resolver asked for the actor"
        return self.principal.actor()

    def terms(self) -> Terms:
        return self.services.terms

    def uow(self, *, read_only: bool = False) -> SqlAlchemyUnitOfWork:
        services = self.services
        return SqlAlchemyUnitOfWork(services.database, services.broker, read_only=read_only)


Info = strawberry.Info[Context, None]

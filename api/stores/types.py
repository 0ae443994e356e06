"""Stores as clients see them, and registering one."""

from __future__ import annotations

import strawberry

from api.mutations import UserError
from domain.stores import Store as DomainStore
from domain.stores import new_store


@strawberry.type
class Store:
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, store: DomainStore) -> Store:
        return cls(id=strawberry.ID(store.id), name=store.name)


@strawberry.input
class CreateStoreInput:
    id: strawberry.ID
    name: str

    def to_store(self) -> DomainStore:
        return new_store(str(self.id), self.name)


@strawberry.type
class StorePayload:
    store: Store | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)

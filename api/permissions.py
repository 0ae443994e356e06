"""Who may call what: one declared policy for every root field, denied by default.

A field missing here is refused to everyone, and the policy test fails until
it is declared. Store scope (a cashier acts only in its stores) is checked
where the store is named: in the resolvers, against the input's storeId.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from api.auth import REFUND_RIGHT, Role
from api.context import Info
from api.errors import FORBIDDEN, UNAUTHENTICATED, ClientError
from domain.errors import Forbidden

EVERYONE = frozenset(Role)
TILLS = frozenset({Role.CASHIER, Role.MANAGER, Role.ADMIN})
MANAGERS = frozenset({Role.MANAGER, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

POLICY: dict[str, frozenset[Role]] = {
    "Query.customer": EVERYONE,
    "Query.previewEarn": EVERYONE,
    "Query.rewards": EVERYONE,
    "Query.stores": EVERYONE,
    "Query.bulkAward": MANAGERS,
    "Query.analytics": MANAGERS,
    "Query.reconciliation": ADMINS,
    "Query.trialBalance": ADMINS,
    "Query.valuation": ADMINS,
    "Query.liabilityRollForward": ADMINS,
    "Mutation.setPointValue": ADMINS,
    "Mutation.mapGlAccount": ADMINS,
    "Mutation.setBreakageRate": ADMINS,
    "Mutation.createStore": ADMINS,
    "Mutation.enrollCustomer": TILLS,
    "Mutation.earnPoints": TILLS,
    "Mutation.redeemPoints": TILLS,
    "Mutation.adjustPoints": MANAGERS,
    "Mutation.bulkAwardPoints": MANAGERS,
    "Mutation.reverseBulkAward": MANAGERS,
    "Mutation.showOnDisplay": TILLS,
    "Mutation.clearDisplay": TILLS,
    "Mutation.checkout": TILLS,
    "Mutation.recordGuestSale": TILLS,
    "Mutation.refundSale": MANAGERS,
    "Mutation.createEarningRule": ADMINS,
    "Mutation.updateEarningRule": ADMINS,
    "Mutation.createReward": ADMINS,
    "Mutation.updateReward": ADMINS,
    "Mutation.closePeriod": ADMINS,
    "Mutation.reopenPeriod": ADMINS,
    "Query.earningRules": TILLS,
    "Query.earningRuleVersions": TILLS,
    "Query.saleBreakdown": TILLS,
    "Subscription.balanceChanged": EVERYONE,
    "Subscription.storeTransactions": EVERYONE,
    "Subscription.terminalDisplay": EVERYONE,
    "Subscription.storeTiles": TILLS,
}


# Rights a token can carry on top of its role: the field is also open to any token with it.
GRANTS: dict[str, str] = {"Mutation.refundSale": REFUND_RIGHT}


class Allowed(BasePermission):
    """The caller's role is in the policy for this field."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is None:
            raise ClientError(UNAUTHENTICATED, info.context.authentication_error)
        field = f"{info.path.typename}.{info.field_name}"
        granted = GRANTS.get(field) in principal.rights
        if principal.role not in POLICY.get(field, frozenset()) and not granted:
            raise ClientError(FORBIDDEN, f"a {principal.role} may not use {info.field_name}")
        return True


GUARDED: list[type[BasePermission]] = [Allowed]


def require_scope(info: Info, store_id: str) -> None:
    """Refuse a store outside the caller's scope, as a user error on input.storeId."""
    principal = info.context.principal
    if principal is None or not principal.may_act_in(store_id):
        raise Forbidden(f"this token does not cover store {store_id!r}", ("input", "storeId"))

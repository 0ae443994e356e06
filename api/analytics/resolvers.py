"""The analytics feature's fields: the dashboard's report, and a store's live tiles."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.analytics.types import Analytics, AnalyticsRange, StoreTiles
from api.context import Info
from api.permissions import GUARDED
from api.scalars import amount
from domain.analytics import AnalyticsRange as Asked
from domain.analytics import local_day, midnight, zone_of
from domain.errors import Forbidden, InvalidInput
from persistence.analytics.report import analytics_report
from persistence.analytics.tiles import day_tiles
from subscriptions.channels import tiles_topic


def stores_asked(info: Info, asked: AnalyticsRange) -> frozenset[str] | None:
    """The stores a report covers: those asked for, each in the caller's scope; else the
    caller's stores (None: the whole programme, for an admin)."""
    principal = info.context.principal
    assert principal is not None, "the policy lets no anonymous caller here"
    if asked.store_ids is None:
        return principal.stores
    stores = frozenset(str(store) for store in asked.store_ids)
    outside = sorted(store for store in stores if not principal.may_act_in(store))
    if outside:
        raise Forbidden(f"this token does not cover store {outside[0]!r}", ("range", "storeIds"))
    return stores


def range_of(info: Info, asked: AnalyticsRange) -> Asked:
    return asked.to_range(stores_asked(info, asked))


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(
        description="Programme analytics over a time range. Managers: their stores only; "
        "admins: any. Cashiers and displays are refused (FORBIDDEN). Read from the rollups "
        "of the zones LOYALTY_ANALYTICS_TIME_ZONES keeps (another zone: from the raw rows).",
        permission_classes=GUARDED,
    )
    async def analytics(self, info: Info, range: AnalyticsRange) -> Analytics:
        asked = range_of(info, range)
        services = info.context.services
        async with services.analytics_database.reading() as session:
            report = await analytics_report(
                session, asked, services.terms.point_value, services.settings.kept_time_zones
            )
        return Analytics.of(report)


async def tiles_feed(
    info: Info, store_id: strawberry.ID, time_zone: str = "UTC"
) -> AsyncGenerator[StoreTiles, None]:
    """Today's figures of a store now, then again each time the rollups count movements
    there (at most about once a second)."""
    store = str(store_id)
    principal = info.context.principal
    if principal is None or not principal.may_act_in(store):
        raise Forbidden(f"this token does not cover store {store!r}", ("storeId",))
    zone = time_zone.strip()
    if zone not in info.context.settings.kept_time_zones:
        kept = ", ".join(info.context.settings.kept_time_zones)
        raise InvalidInput(f"live tiles are kept in {kept} only", ("timeZone",))
    async with info.context.services.hub.subscription(tiles_topic(store)) as updates:
        while True:
            yield await _tiles(info, store, zone)
            await updates.next()


async def _tiles(info: Info, store: str, zone: str) -> StoreTiles:
    now = info.context.now()
    day = local_day(now, zone_of(zone))
    async with info.context.services.analytics_database.reading() as session:
        tiles = await day_tiles(session, zone, store, day)
    return StoreTiles(
        store_id=strawberry.ID(store),
        day=midnight(day, zone_of(zone)),
        sales=tiles.sales,
        points_earned=tiles.points_earned,
        points_redeemed=tiles.points_redeemed,
        active_customers=tiles.active_customers,
        revenue=amount(tiles.revenue),
        updated_at=now,
    )


@strawberry.type
class AnalyticsSubscriptions:
    store_tiles = strawberry.subscription(
        resolver=tiles_feed,
        description="Today's totals of a store (sales, points earned and redeemed, active "
        "customers, revenue) as transactions commit, at most about once a second. Managers "
        "and cashiers of the store, admins.",
        permission_classes=GUARDED,
    )

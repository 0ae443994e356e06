"""The store feed: every points transaction of one store, for dashboards and back offices.

Best effort in order of arrival; a feed that falls behind, or whose process
lost Redis, catches up from the journal after the last entry it sent. An
entry seen twice (relayed from the outbox as well) is sent once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncGenerator

from api.context import Info
from api.errors import FORBIDDEN, ClientError
from api.types.transactions import PointsTransaction, view_of
from persistence import queries
from persistence.queries import TransactionView
from subscriptions.channels import store_topic
from subscriptions.hub import Delivery
from subscriptions.messages import BalanceMessage

CATCH_UP_LIMIT = 500
REMEMBERED_ENTRIES = 2000


class SentEntries:
    """The ids of the entries a feed sent lately, to drop repeats."""

    def __init__(self) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, entry_id: int) -> bool:
        if entry_id in self._ids:
            return False
        self._ids[entry_id] = None
        if len(self._ids) > REMEMBERED_ENTRIES:
            self._ids.popitem(last=False)
        return True


async def store_feed(info: Info, store_id: str) -> AsyncGenerator[PointsTransaction, None]:
    principal = info.context.principal
    if principal is None or not principal.may_act_in(store_id):
        raise ClientError(FORBIDDEN, f"this token does not cover store {store_id!r}", ("storeId",))
    async with info.context.services.hub.subscription(store_topic(store_id)) as subscription:
        async with info.context.database.reading() as session:
            last_id = await queries.latest_entry_id(session, store_id)
        sent = SentEntries()
        while True:
            for view in await _arrived(info, store_id, await subscription.next(), last_id):
                if sent.first_time(view.id):
                    last_id = max(last_id, view.id)
                    yield PointsTransaction.of(view)


async def _arrived(
    info: Info, store_id: str, delivery: Delivery, last_id: int
) -> list[TransactionView]:
    if isinstance(delivery, BalanceMessage):
        return [view_of(delivery)]
    async with info.context.database.reading() as session:
        return await queries.store_transactions_after(session, store_id, last_id, CATCH_UP_LIMIT)

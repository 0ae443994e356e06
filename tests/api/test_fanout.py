"""Fan-out over WebSocket: the subscribers of one customer who ask the same selection, as the
same principal, share one broadcast (one listener on the hub, each change executed once);
any other subscriber gets its own; every subscriber still gets its snapshot, then each later
change once, in order, on either protocol."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession
from starlette.applications import Starlette
from strawberry.types import ExecutionResult

from api.auth import Role
from api.context import Context
from api.fanout.broadcasts import Broadcasts
from api.points.feeds import BalanceFeed
from api.settings import Settings
from api.view import LoyaltyGraphQL
from tests.api.test_balance_subscription import next_message, open_ws
from tests.conftest import GraphQLClient, mint, websocket_client
from tests.operations import create_store, earn, enroll, line

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
BALANCES = """subscription($customerId: ID!) {
  balanceChanged(customerId: $customerId) { balance balanceVersion delta transaction { id } }
}"""
AUDITED = """subscription($customerId: ID!) {
  balanceChanged(customerId: $customerId) { balanceVersion transaction { recordedBy { staffId } } }
}"""
VERSIONS_ONLY = """subscription($customerId: ID!) {
  balanceChanged(customerId: $customerId) { balanceVersion }
}"""


def broadcasts(app: Starlette) -> Broadcasts:
    views = (getattr(route, "app", None) for route in app.routes)
    view = next(view for view in views if isinstance(view, LoyaltyGraphQL))
    return view.broadcasts


def listeners(app: Starlette) -> int:
    """Subscriptions to the hub: one a broadcast, however many subscribers it has."""
    count: int = app.state.services.hub.subscriber_count()
    return count


class Client:
    """One WebSocket connection, initialised, whose messages are sorted by operation id."""

    def __init__(self, ws: AsyncWebSocketSession, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.received: dict[str, list[dict[str, Any]]] = {}

    async def initialise(self, token: str) -> None:
        authorization = {"authorization": f"Bearer {token}"}
        await self.ws.send_json({"type": "connection_init", "payload": authorization})
        assert (await next_message(self.ws))["type"] == "connection_ack"

    async def subscribe(self, id_: str, customer_id: str, query: str = BALANCES) -> None:
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        payload = {"query": query, "variables": {"customerId": customer_id}}
        await self.ws.send_json({"id": id_, "type": kind, "payload": payload})

    async def stop(self, id_: str) -> None:
        kind = "complete" if self.protocol == "graphql-transport-ws" else "stop"
        await self.ws.send_json({"id": id_, "type": kind})

    async def message(self, id_: str) -> dict[str, Any]:
        """The next message about operation `id_`, others kept for later."""
        while not self.received.get(id_):
            message = await next_message(self.ws)
            self.received.setdefault(message.get("id", ""), []).append(message)
        return self.received[id_].pop(0)

    async def change(self, id_: str) -> dict[str, Any]:
        message = await self.message(id_)
        assert message["type"] in {"next", "data"}, message
        assert "errors" not in message["payload"], message
        change: dict[str, Any] = message["payload"]["data"]["balanceChanged"]
        return change


async def connect(stack: AsyncExitStack, app: Starlette, protocol: str, token: str) -> Client:
    http = await stack.enter_async_context(websocket_client(app))
    client = Client(await stack.enter_async_context(open_ws(http, protocol)), protocol)
    await client.initialise(token)
    return client


@dataclass(frozen=True)
class Scene:
    """The app, a client over HTTP, a customer to watch and an admin's token."""

    app: Starlette
    gql: GraphQLClient
    customer_id: str
    admin_token: str

    async def earn(self, key: str, amount: str = "10.00") -> dict[str, Any]:
        return await earn(self.gql, self.customer_id, key, [line(amount)])


@pytest.fixture
async def scene(app: Starlette, gql: GraphQLClient, admin_token: str) -> Scene:
    await create_store(gql)
    customer = await enroll(gql, email="watched@example.com")
    return Scene(app, gql, str(customer["id"]), admin_token)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscribers_asking_the_same_share_one_listener_and_each_get_every_change_once(
    scene: Scene, protocol: str
) -> None:
    ids = ("a", "b", "c")
    async with AsyncExitStack() as stack:
        clients = [await connect(stack, scene.app, protocol, scene.admin_token) for _ in range(3)]
        for client in clients:
            for id_ in ids:
                await client.subscribe(id_, scene.customer_id)
        snapshots = [await client.change(id_) for client in clients for id_ in ids]
        shared_listeners = listeners(scene.app)
        earned = [await scene.earn(f"k{n}") for n in range(3)]
        changes = [[await c.change(id_) for _ in earned] for c in clients for id_ in ids]

    assert shared_listeners == 1
    assert [s["balanceVersion"] for s in snapshots] == [0] * 9
    expected = [
        {
            "balance": 10 * n,
            "balanceVersion": n,
            "delta": 10,
            "transaction": {"id": e["transaction"]["id"]},
        }
        for n, e in enumerate(earned, start=1)
    ]
    assert changes == [expected] * 9


async def test_different_selections_of_one_customer_each_get_their_own_payload(
    scene: Scene,
) -> None:
    async with AsyncExitStack() as stack:
        client = await connect(stack, scene.app, "graphql-transport-ws", scene.admin_token)
        await client.subscribe("whole", scene.customer_id, BALANCES)
        await client.subscribe("versions", scene.customer_id, VERSIONS_ONLY)
        await client.change("whole")
        await client.change("versions")
        await scene.earn("k1", "4.00")
        whole, versions = await client.change("whole"), await client.change("versions")
        separate_listeners = listeners(scene.app)

    assert separate_listeners == 2
    assert (whole["balance"], whole["balanceVersion"], whole["delta"]) == (4, 1, 4)
    assert versions == {"balanceVersion": 1}


async def test_a_manager_and_a_cashier_asking_the_same_never_share_what_only_one_may_see(
    scene: Scene, settings: Settings
) -> None:
    async with AsyncExitStack() as stack:
        cashier_token, manager_token = mint(settings, Role.CASHIER), mint(settings, Role.MANAGER)
        cashier = await connect(stack, scene.app, "graphql-transport-ws", cashier_token)
        manager = await connect(stack, scene.app, "graphql-transport-ws", manager_token)
        await cashier.subscribe("1", scene.customer_id, AUDITED)
        await manager.subscribe("1", scene.customer_id, AUDITED)
        await cashier.change("1")
        await manager.change("1")
        await scene.earn("audited", "3.00")
        seen_by_cashier, seen_by_manager = await cashier.change("1"), await manager.change("1")
        separate_listeners = listeners(scene.app)

    assert separate_listeners == 2
    assert seen_by_cashier["transaction"] == {"recordedBy": None}
    assert seen_by_manager["transaction"] == {"recordedBy": {"staffId": "admin-1"}}


async def test_a_subscriber_who_joins_later_gets_its_own_snapshot_then_only_later_changes(
    scene: Scene,
) -> None:
    async with AsyncExitStack() as stack:
        client = await connect(stack, scene.app, "graphql-transport-ws", scene.admin_token)
        await client.subscribe("early", scene.customer_id)
        await client.change("early")
        await scene.earn("first", "5.00")
        await client.subscribe("late", scene.customer_id)
        late_snapshot = await client.change("late")
        await scene.earn("second", "6.00")
        early = [(await client.change("early"))["balanceVersion"] for _ in range(2)]
        late = (await client.change("late"))["balanceVersion"]
        shared_listeners = listeners(scene.app)

    assert (late_snapshot["balanceVersion"], late_snapshot["transaction"]) == (1, None)
    assert early == [1, 2]
    assert late == 2
    assert client.received.get("late") == []
    assert shared_listeners == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_stopped_subscribers_are_sent_nothing_more_and_the_last_closes_the_broadcast(
    scene: Scene, protocol: str
) -> None:
    async with AsyncExitStack() as stack:
        client = await connect(stack, scene.app, protocol, scene.admin_token)
        await client.subscribe("kept", scene.customer_id, VERSIONS_ONLY)
        await client.change("kept")
        for id_ in ("1", "2"):
            await client.subscribe(id_, scene.customer_id)
            await client.change(id_)
        listening = listeners(scene.app)
        for id_ in ("1", "2"):
            await client.stop(id_)
        if protocol == "graphql-ws":  # the legacy protocol completes what it is told to stop
            assert [(await client.message(id_))["type"] for id_ in ("1", "2")] == ["complete"] * 2
        await scene.earn("after-stop", "2.00")
        kept = await client.change("kept")
        left = listeners(scene.app), len(broadcasts(scene.app))

    assert listening == 2
    assert kept == {"balanceVersion": 1}
    assert client.received.get("1") == client.received.get("2") == []
    assert left == (1, 1)


async def test_closing_the_connections_frees_every_broadcast(scene: Scene) -> None:
    async with AsyncExitStack() as stack:
        for protocol in PROTOCOLS:
            client = await connect(stack, scene.app, protocol, scene.admin_token)
            await client.subscribe("1", scene.customer_id)
            await client.subscribe("2", scene.customer_id, VERSIONS_ONLY)
            await client.change("1")
            await client.change("2")
        open_listeners = listeners(scene.app)
    for _ in range(100):  # the server sees the sockets close in its own time
        if not listeners(scene.app) and not broadcasts(scene.app):
            break
        await asyncio.sleep(0.01)

    assert open_listeners == 2
    assert listeners(scene.app) == 0
    assert len(broadcasts(scene.app)) == 0


async def test_a_subscriber_to_no_such_customer_gets_the_error_and_leaves_nothing_open(
    scene: Scene,
) -> None:
    async with AsyncExitStack() as stack:
        client = await connect(stack, scene.app, "graphql-transport-ws", scene.admin_token)
        await client.subscribe("watching", scene.customer_id)
        await client.change("watching")
        await client.subscribe("nobody", "no-such-customer")
        refused, completed = await client.message("nobody"), await client.message("nobody")
        await scene.earn("k1", "1.00")
        await client.change("watching")
        left = listeners(scene.app), len(broadcasts(scene.app))

    assert refused["payload"]["errors"][0]["extensions"]["code"] == "CUSTOMER_NOT_FOUND"
    assert completed["type"] == "complete"
    assert client.received.get("nobody") == []
    assert left == (1, 1)


async def test_a_broadcast_that_fails_sends_each_subscriber_a_masked_error_and_completes(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def lost(*_: object) -> list[object]:
        raise RuntimeError("connection to server at 10.0.0.7 lost")

    async with AsyncExitStack() as stack:
        client = await connect(stack, scene.app, "graphql-transport-ws", scene.admin_token)
        for id_ in ("1", "2"):
            await client.subscribe(id_, scene.customer_id)
            await client.change(id_)
        monkeypatch.setattr(BalanceFeed, "after", lost)
        await scene.earn("k1", "1.00")
        failures = [(await client.message(id_), await client.message(id_)) for id_ in ("1", "2")]
        monkeypatch.undo()
        await client.subscribe("1", scene.customer_id)  # the id is free again
        again = await client.change("1")

    for failure, completed in failures:
        assert failure["type"] == "next"
        assert failure["payload"]["data"] is None
        assert [error["message"] for error in failure["payload"]["errors"]] == ["Unexpected error."]
        assert completed["type"] == "complete"
    assert again["balanceVersion"] == 1


async def test_a_subscription_run_without_a_seat_follows_its_customer_on_its_own(
    scene: Scene,
) -> None:
    """As over HTTP's streaming transports, where no WebSocket handler offers a seat."""
    views = (getattr(route, "app", None) for route in scene.app.routes)
    schema = next(view for view in views if isinstance(view, LoyaltyGraphQL)).schema
    context = Context(services=scene.app.state.services)
    context.authenticate(f"Bearer {scene.admin_token}")
    results = await schema.subscribe(
        BALANCES, {"customerId": scene.customer_id}, context_value=context
    )
    assert not isinstance(results, ExecutionResult)
    async with aclosing(results):
        snapshot = await anext(results)
        own_listeners = listeners(scene.app)
        await scene.earn("alone", "7.00")
        change = await anext(results)

    assert own_listeners == 1
    assert len(broadcasts(scene.app)) == 0
    assert snapshot.data == {
        "balanceChanged": {"balance": 0, "balanceVersion": 0, "delta": 0, "transaction": None}
    }
    assert change.data is not None
    assert change.data["balanceChanged"]["balanceVersion"] == 1

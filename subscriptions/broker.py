"""Brokers carry committed balance changes to the hub of every server process.

In process (the embedded default) the broker hands them straight to the hub.
With Redis, each process publishes what it commits and runs one listener on
one connection that feeds its hub. A listener that loses Redis reconnects by
itself and then tells every subscriber to resync from the journal, so nothing
missed while it was away stays missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from domain.events import Event
from subscriptions.channels import balance_changes
from subscriptions.hub import Hub
from subscriptions.messages import from_json, to_json

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.1
LAST_RETRY_SECONDS = 5.0


class Broker(Protocol):
    async def publish(self, events: Sequence[Event]) -> None: ...

    async def run(self) -> None:
        """Listen for the changes other processes publish, until cancelled."""

    async def ping(self) -> None:
        """Raise when the broker cannot be reached."""

    async def close(self) -> None: ...


class InProcessBroker:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def publish(self, events: Sequence[Event]) -> None:
        self._hub.deliver(events)

    async def run(self) -> None:
        """Nothing to listen to: changes arrive through publish()."""

    async def ping(self) -> None:
        """Always reachable: it is this process."""

    async def close(self) -> None:
        """Nothing to close."""


class RedisBroker:
    def __init__(self, hub: Hub, client: Redis, prefix: str) -> None:
        self._hub = hub
        self._client = client
        self._channel = balance_changes(prefix)
        self._lost_connection = False

    async def publish(self, events: Sequence[Event]) -> None:
        try:
            if len(events) == 1:
                # A till's change: one PUBLISH, without a pipeline's own cost.
                await self._client.publish(self._channel, to_json(events[0]))
            else:
                async with self._client.pipeline(transaction=False) as pipeline:
                    for event in events:
                        pipeline.publish(self._channel, to_json(event))
                    await pipeline.execute()
        except (RedisError, OSError):
            # This process's own subscribers need not wait for Redis to come back.
            self._hub.deliver(events)
            raise

    async def run(self) -> None:
        """The process's one listener: Redis to hub, reconnecting for as long as it runs."""
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                await self._listen()
            except (RedisError, OSError) as error:
                logger.warning("Redis listener lost its connection (%s); retrying", error)
                self._lost_connection = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, LAST_RETRY_SECONDS)

    async def _listen(self) -> None:
        async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self._channel)
            if self._lost_connection:
                self._lost_connection = False
                self._hub.resync_all()
            async for message in pubsub.listen():
                self._deliver(message.get("data"))

    def _deliver(self, data: object) -> None:
        if not isinstance(data, str | bytes):
            return
        try:
            self._hub.deliver([from_json(data)])
        except (ValueError, TypeError, KeyError):
            logger.exception("ignored a malformed message on %s", self._channel)

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()

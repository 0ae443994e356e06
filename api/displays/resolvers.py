"""The customer display of a terminal: set by the POS, streamed to the screen."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.auth import Role
from api.context import Info
from api.displays.types import (
    ClearDisplayInput,
    DisplayPayload,
    ShowOnDisplayInput,
    TerminalDisplay,
)
from api.mutations import mutation
from api.permissions import GUARDED, require_scope
from domain.displays import Screen
from domain.errors import Forbidden
from domain.events import BalanceChanged
from domain.ledger import PostedEntry
from domain.use_cases import displays
from persistence.queries.displays import screen
from subscriptions.channels import terminal_topic
from subscriptions.hub import Delivery


@strawberry.type
class DisplayMutations:
    @mutation("Show a customer and what their cart will earn on a terminal's display.")
    async def show_on_display(self, info: Info, input: ShowOnDisplayInput) -> DisplayPayload:
        require_scope(info, str(input.store_id))
        command = input.to_command(info.context.now())
        shown = await displays.show_on_display(info.context.uow(), command, info.context.terms())
        return DisplayPayload(display=TerminalDisplay.of(shown))

    @mutation("Clear a terminal's display (the customer has left).")
    async def clear_display(self, info: Info, input: ClearDisplayInput) -> DisplayPayload:
        require_scope(info, str(input.store_id))
        command = input.to_command(info.context.now())
        cleared = await displays.clear_display(info.context.uow(), command)
        return DisplayPayload(display=TerminalDisplay.of(cleared))


async def display_feed(
    info: Info, terminal_id: strawberry.ID
) -> AsyncGenerator[TerminalDisplay, None]:
    """What the display shows now, then again after every change the POS makes and every
    earn or redeem at this terminal. A screen that fell behind is simply shown the present."""
    _require_terminal(info, terminal_id)
    async with info.context.services.hub.subscription(terminal_topic(terminal_id)) as updates:
        shown = await _read(info, terminal_id)
        if shown is not None:
            yield TerminalDisplay.of(shown)
        while True:
            delivery = await updates.next()
            shown = await _read(info, terminal_id)
            if shown is not None:
                yield TerminalDisplay.of(shown, _change_for(shown, delivery))


@strawberry.type
class DisplaySubscriptions:
    terminal_display = strawberry.subscription(
        resolver=display_feed,
        description="A terminal's customer-facing display: the customer served (name masked), "
        "their balance, what the cart will earn, and each earn or redeem there as it happens. "
        "Display tokens: their own terminal only.",
        permission_classes=GUARDED,
    )


def _require_terminal(info: Info, terminal_id: str) -> None:
    principal = info.context.principal
    if (
        principal is not None
        and principal.role is Role.DISPLAY
        and (principal.terminal_id != terminal_id)
    ):
        raise Forbidden(
            f"this display token is for terminal {principal.terminal_id!r}", ("terminalId",)
        )


async def _read(info: Info, terminal_id: str) -> Screen | None:
    async with info.context.database.reading() as session:
        shown = await screen(session, terminal_id)
    principal = info.context.principal
    if shown is not None and (
        principal is None or not principal.may_act_in(shown.display.store_id)
    ):
        raise Forbidden("this token does not cover the terminal's store")
    return shown


def _change_for(shown: Screen, delivery: Delivery) -> PostedEntry | None:
    if (
        isinstance(delivery, BalanceChanged)
        and delivery.posted.entry.customer_id == shown.display.customer_id
    ):
        return delivery.posted
    return None

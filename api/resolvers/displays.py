"""The customer display of a terminal: set by the POS, streamed to the screen."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from api.auth import Role
from api.context import Info
from api.errors import FORBIDDEN, ClientError
from api.types.displays import TerminalDisplay
from api.types.transactions import view_of
from persistence import queries
from persistence.queries import DisplayView, TransactionView
from subscriptions.channels import terminal_topic
from subscriptions.hub import Delivery
from subscriptions.messages import BalanceMessage


async def terminal_display(info: Info, terminal_id: str) -> AsyncGenerator[TerminalDisplay, None]:
    """What the display shows now, then again after every change the POS makes and every
    earn or redeem at this terminal. A screen that fell behind is simply shown the present."""
    _require_terminal(info, terminal_id)
    async with info.context.services.hub.subscription(terminal_topic(terminal_id)) as updates:
        view = await _read(info, terminal_id)
        if view is not None:
            yield TerminalDisplay.of(view)
        while True:
            delivery = await updates.next()
            view = await _read(info, terminal_id)
            if view is not None:
                yield TerminalDisplay.of(view, _change_for(view, delivery))


def _require_terminal(info: Info, terminal_id: str) -> None:
    principal = info.context.principal
    if (
        principal is not None
        and principal.role is Role.DISPLAY
        and (principal.terminal_id != terminal_id)
    ):
        raise ClientError(
            FORBIDDEN,
            f"this display token is for terminal {principal.terminal_id!r}",
            ("terminalId",),
        )


async def _read(info: Info, terminal_id: str) -> DisplayView | None:
    async with info.context.database.reading() as session:
        view = await queries.display_view(session, terminal_id)
    principal = info.context.principal
    if view is not None and (principal is None or not principal.may_act_in(view.display.store_id)):
        raise ClientError(FORBIDDEN, "this token does not cover the terminal's store")
    return view


def _change_for(view: DisplayView, delivery: Delivery) -> TransactionView | None:
    if isinstance(delivery, BalanceMessage) and delivery.customer_id == view.display.customer_id:
        return view_of(delivery)
    return None

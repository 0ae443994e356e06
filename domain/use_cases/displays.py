"""Use cases of the customer-facing displays."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from domain.displays import ClearDisplay, Display, Screen, ShowOnDisplay
from domain.events import DisplayChanged
from domain.ports import UnitOfWork
from domain.programme import Terms
from domain.rules import Sale
from domain.sales import sale_total
from domain.use_cases.customers import find_customer
from domain.use_cases.points import calculate_sale
from domain.use_cases.stores import require_store


async def show_on_display(uow: UnitOfWork, cmd: ShowOnDisplay, terms: Terms) -> Screen:
    """Put a customer and what their cart will earn on the terminal's display: the same
    computation as earn_points, with nothing earned."""
    async with uow:
        await require_store(uow, cmd.store_id)
        customer = await find_customer(uow, cmd.customer_id)
        sale = Sale.of(cmd.store_id, cmd.at, cmd.lines)
        points = (await calculate_sale(uow, sale, cmd.customer_id, terms)).points
        display = await _next_display(uow, cmd.terminal_id, cmd.store_id, cmd.at)
        display = replace(
            display,
            customer_id=cmd.customer_id,
            cart_points=points,
            cart_total=sale_total(cmd.lines),
        )
        await _save_display(uow, display)
    return Screen(display, customer)


async def clear_display(uow: UnitOfWork, cmd: ClearDisplay) -> Screen:
    async with uow:
        await require_store(uow, cmd.store_id)
        display = await _next_display(uow, cmd.terminal_id, cmd.store_id, cmd.at)
        await _save_display(uow, display)
    return Screen(display)


async def _next_display(uow: UnitOfWork, terminal_id: str, store_id: str, at: datetime) -> Display:
    """The terminal's display, emptied, one version on."""
    current = await uow.displays.get(terminal_id)
    version = 1 if current is None else current.version + 1
    return Display(terminal_id, store_id, None, 0, Decimal(0), version, at)


async def _save_display(uow: UnitOfWork, display: Display) -> None:
    await uow.displays.save(display)
    uow.record(DisplayChanged(display.terminal_id, display.version))
    await uow.commit()

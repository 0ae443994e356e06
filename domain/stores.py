"""Stores: the chain's own store codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import InvalidInput

STORE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_STORE_NAME = 120


@dataclass(frozen=True)
class Store:
    id: str
    name: str


def new_store(code: str, name: str) -> Store:
    code = code.strip()
    if not STORE_CODE.match(code):
        raise InvalidInput(
            "store id must be 1 to 32 letters, digits, '.', '_' or '-'", ("input", "id")
        )
    name = name.strip()
    if not name or len(name) > MAX_STORE_NAME:
        raise InvalidInput(f"name must be 1 to {MAX_STORE_NAME} characters", ("input", "name"))
    return Store(id=code, name=name)

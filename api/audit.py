"""Who made a change, as managers and admins see it; other roles see nothing of it."""

from __future__ import annotations

import strawberry

from api.context import Info
from domain.ledger import Actor


@strawberry.type(description="The staff member, role and terminal a token named.")
class Recorder:
    staff_id: str
    role: str
    terminal_id: str | None


def recorder_for(info: Info, actor: Actor | None) -> Recorder | None:
    """The actor, shown to a token that may see the audit (managers and admins)."""
    principal = info.context.principal
    if actor is None or principal is None or not principal.sees_audit:
        return None
    return Recorder(staff_id=actor.staff_id, role=actor.role, terminal_id=actor.terminal_id)

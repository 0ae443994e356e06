"""WebSocket connections count against the rate limit too."""

from __future__ import annotations

import pytest
from httpx_ws import WebSocketDisconnect

from api.app import create_app
from api.settings import Settings
from tests.api.test_balance_subscription import open_ws
from tests.conftest import websocket_client


async def test_websocket_connections_past_the_limit_are_refused(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"anonymous_rate_limit": "1/minute"}))
    async with app.router.lifespan_context(app), websocket_client(app) as http:
        async with open_ws(http, "graphql-transport-ws"):
            pass
        with pytest.raises(WebSocketDisconnect) as refused:
            async with open_ws(http, "graphql-transport-ws"):
                pass

    assert refused.value.code == 4429
    assert refused.value.reason == "rate limit exceeded"

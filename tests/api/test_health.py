"""The health check a load balancer polls, and the GraphiQL page a person opens."""

from __future__ import annotations

import httpx

from api.app import create_app
from api.settings import Settings

UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"


async def test_health_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_graphql_serves_the_graphiql_page_to_a_browser(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()
    # Its subscriptions send the Headers tab's Authorization in connection_init.
    assert "wsConnectionParams: authorizationFromHeadersTab" in response.text


async def test_health_is_503_when_the_database_is_unreachable() -> None:
    app = create_app(Settings(database_url=UNREACHABLE_DATABASE))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/health")

    assert response.status_code == 503
    assert response.json()["status"] != "ok"
    for detail in ("127.0.0.1", "nowhere", "Traceback", "Error"):
        assert detail not in response.text, response.text

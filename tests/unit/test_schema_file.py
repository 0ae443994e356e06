"""schema.graphql is exported from the code: the checked-in file never drifts from it."""

from __future__ import annotations

from api.schema import SCHEMA_FILE, build_schema, schema_sdl


def test_schema_graphql_matches_the_schema_the_code_serves() -> None:
    exported = schema_sdl(build_schema())
    assert SCHEMA_FILE.read_text() == exported, "schema.graphql is stale: run `make schema`"

"""Write schema.graphql from the code: `make schema`."""

from __future__ import annotations

from api.schema import SCHEMA_FILE, build_schema, schema_sdl


def main() -> None:
    SCHEMA_FILE.write_text(schema_sdl(build_schema()))


if __name__ == "__main__":
    main()
